// Package tput models TCP goodput against the MSS and answers the question an
// MTU change really raises: which MSS gives the most goodput, given what is
// known (and not known) about the path.
//
// Goodput here is application payload per second, in bits (type Rate).
// Three limits apply to a bulk TCP transfer, and the achievable goodput is
// the smallest of them; Limits.Binding names the one that binds.
//
// # Window limit
//
// A sender can have at most one receive window of data in flight per round
// trip: goodput <= window / RTT (WindowLimit). The window is a byte count:
// the 16-bit window field shifted left by the window scale, a shift count
// 0..14 negotiated in the SYNs (RFC 7323 §2). The scale has nothing to do
// with the MSS. The window needed for a rate is the bandwidth-delay product
// rate x RTT (WindowNeeded, BDP). A 1 MiB window at 100 ms gives
// 1048576 x 8 / 0.1 = 83.89 Mbit/s, not the 780 Mbit/s a widely copied
// article claims; that article also ties the window scale to the MSS, which
// is wrong.
//
// # Loss limit
//
// Mathis, Semke, Mahdavi and Ott, "The Macroscopic Behavior of the TCP
// Congestion Avoidance Algorithm", ACM SIGCOMM Computer Communication Review
// 27(3), July 1997: with a loss probability p, congestion avoidance settles
// on
//
//	goodput = MSS/RTT x C/sqrt(p),  C = sqrt(3/(2b))
//
// where b is the number of segments acknowledged by one ACK: C = sqrt(3/2) =
// 1.22 when every segment is ACKed, sqrt(3/4) = 0.87 with delayed ACKs (b=2).
// Linux counts acknowledged segments, not ACKs, when it grows the window
// (appropriate byte counting, RFC 3465), so b = 1 is the default here. The
// model assumes no retransmission timeouts and an unlimited receive window
// (Mathis).
//
// Padhye, Firoiu, Towsley and Kurose, "Modeling TCP Throughput: A Simple
// Model and its Empirical Validation", ACM SIGCOMM 1998 (the PFTK model)
// adds retransmission timeouts and the receive window. With
//
//	E[Wu] = (2+b)/(3b) + sqrt(8(1-p)/(3bp) + ((2+b)/(3b))^2)
//	Q(w)  = min(1, (1-(1-p)^3)(1+(1-p)^3(1-(1-p)^(w-3))) / (1-(1-p)^w))
//	f(p)  = 1 + p + 2p^2 + 4p^3 + 8p^4 + 16p^5 + 32p^6
//
// the full model (its equation 32) gives, in segments per second,
//
//	B = ((1-p)/p + E[Wu] + Q(E[Wu])/(1-p)) / (RTT(b/2 E[Wu] + 1) + Q(E[Wu]) T0 f(p)/(1-p))   if E[Wu] < Wmax
//	B = ((1-p)/p + Wmax + Q(Wmax)/(1-p)) / (RTT(b/8 Wmax + (1-p)/(p Wmax) + 2) + Q(Wmax) T0 f(p)/(1-p))   otherwise
//
// where T0 is the retransmission timeout and Wmax the receive window in
// segments; its approximation (equation 33) is
//
//	B ~ min(Wmax/RTT, 1/(RTT sqrt(2bp/3) + T0 min(1, 3 sqrt(3bp/8)) p (1+32p^2))).
//
// PFTK and PFTKApprox implement both; the default T0 is RTT + 200 ms (Linux:
// srtt + max(4 rttvar, 200 ms) on a path with a steady RTT). Both models
// predict Reno-style congestion avoidance; CUBIC and BBR behave differently
// under random loss.
//
// # Link limit
//
// A link of line rate R carries R x efficiency of goodput, where efficiency
// is the TCP payload of a segment over the bytes the segment occupies on the
// wire: payload = MSS - TCP option bytes (timestamps cost 12 on every
// segment, so MSS 1460 carries 1448), IP packet = MSS + 20 + IP header,
// wire = the packet after every layer of the encapsulation stack (exact,
// from package encap, padding included) + the link's own framing: on
// Ethernet preamble and SFD 8 + header 14 + FCS 4 + inter-frame gap 12 =
// 38 bytes (EthernetFraming). 1448 / 1538 x 1 Gbit/s = 941.5 Mbit/s, the
// familiar iperf ceiling on gigabit Ethernet.
//
// # The best MSS under uncertainty
//
// When the path MTU is known exactly, the largest MSS that fits is best:
// every limit grows with the MSS. It is rarely known exactly. Expected takes
// a distribution over the true path MTU (Dist: a measurement's bounds, a
// weighted list, or the variants of a tunnel type from Tunnel) and a cost
// model for an MSS that is too large (Cost), and computes the expected
// goodput of a transfer of Cost.Transfer bytes:
//
//	E[goodput(m)] = sum over scenarios i of  P(i) x 8 Transfer / T_i(m)
//
// where T_i(m) is the time to move the transfer with MSS m in scenario i:
//
//   - the segment fits (MSS + 20 + IP header <= path MTU):
//     T = 8 Transfer / goodput(m), the three limits above;
//   - too large, TooBigPMTUD (ICMP "packet too big" reaches the sender, RFC
//     1191 / 8201): the first segment is lost, the sender lowers its MSS to
//     path MTU - 20 - IP header and resends: T = RTT + 8 Transfer /
//     goodput(path MSS);
//   - too large, TooBigFragment (IPv4 without DF: the router or tunnel
//     ingress fragments every segment, RFC 791): each segment travels as n
//     fragments of at most path MTU, each with its own IP header,
//     encapsulation and framing, and is lost when any fragment is lost:
//     loss 1-(1-p)^n; T = 8 Transfer / goodput with those;
//   - too large, TooBigBlackHole (DF set, ICMP filtered): nothing larger than
//     the path MTU arrives. The sender stalls through Cost.FallbackRTOs
//     retransmission timeouts with exponential backoff, T0 (2^K - 1), then
//     falls back to Cost.FallbackMSS (Linux tcp_mtu_probing=1 with
//     tcp_base_mss 1024), halving again after another stall while that
//     still does not fit; T = stalls + 8 Transfer / goodput(fallback).
//     FallbackRTOs = 0 is a sender without black-hole detection (Linux's
//     default tcp_mtu_probing=0): the connection hangs and its goodput is 0.
//     The model ignores the probing that later climbs back towards the path
//     MTU, so it understates the fallback goodput of long transfers.
//
// Best searches every MSS in a range and returns the one with the highest
// expected goodput (the smaller one on a tie), and Compare prices the usual
// choices (1460, 1400, 1380, 1360 and calc's clamp) against it.
// Slow start, the handshake and receiver limits other than the window are
// left out: they cost every choice alike.
//
// Calc builds the report `mtukit tput` prints and GET /api/v1/tput returns
// from a typed Request (DefaultRequest holds the defaults); bad input is an
// *encap.ParamError naming the parameter.
//
// The package is pure: no network, no syscalls.
package tput
