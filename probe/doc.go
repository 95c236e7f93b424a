// Package probe measures the path MTU of a real path: it sends probes of
// chosen sizes with fragmentation forbidden, learns from acknowledgements
// and validated ICMP "packet too big" messages, and drives the search
// strategies of package plpmtud with real time (the same state machines the
// simulator runs; there is no second search here).
//
// # Methods
//
//   - icmp: echo requests whose whole IP packet has the probed size, sent with
//     IP_PMTUDISC_PROBE / IPV6_PMTUDISC_PROBE so the kernel's cached path MTU
//     never blocks a larger probe. As root through a raw socket, which also
//     sees every PTB (so forged ones are counted); otherwise through a Linux
//     ping socket (net.ipv4.ping_group_range), whose PTBs come from the error
//     queue (IP_RECVERR).
//   - udp: padded UDP datagrams to a Responder, which answers each with a
//     small acknowledgement carrying the size it received (wire.go). It works
//     when every ICMP message is filtered.
//   - tcp: a TCP connection to the Responder, which reads the MSS option of
//     our SYN with TCP_SAVED_SYN and sends it back, so a middlebox that clamps
//     the MSS is seen; the path MTU itself is then searched as with udp.
//
// # ICMP
//
// ptb.go is a pure parser of ICMPv4 "fragmentation needed" and ICMPv6
// "packet too big" (caller-owned struct, no allocation, fuzzed). A PTB is
// used only when its quote matches a probe in flight (addresses, protocol,
// identifier or ports, sequence, size: RFC 8899 §4.6.1, RFC 5927) and its
// MTU is below the probe and not below the minimum (§4.6.2); anything else is
// counted in Report.PTBIgnored and dropped. A PTB only ever lowers: the
// estimate is always a size that was acknowledged.
//
// # Fragments
//
// After the first probe lost with no PTB, one probe of Max without DF goes
// out (IPv4, mtukit's search): routers fragment it instead of dropping it,
// ICMP or not, and the largest fragment (IP_RECVFRAGSIZE; for udp the
// Responder reports it, for icmp it is the echo reply's) names the
// bottleneck's MTU to 8 bytes. It reaches the strategy as a
// plpmtud.Hinter hint, which steers probes and never decides (frag_linux.go).
//
// # Black holes and loss
//
// When a search ends below the maximum, the smallest size above the answer
// that was lost is probed again until it has been lost Retries times in
// all (counting the search's own losses). If it is, and no valid PTB
// explains it, Report.Blackhole is true: packets above that size vanish
// while smaller ones pass. If it gets through instead, random loss misled
// the search, which resumes from that acknowledged size (the same strategy,
// a new interval; at most three times). So a black hole costs at most
// Retries-1 extra probes, and loss cannot make mtukit report one.
//
// Sockets live in *_linux.go; other systems get stubs that return
// "not implemented on GOOS/GOARCH".
package probe
