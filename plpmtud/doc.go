// Package plpmtud holds path MTU search strategies (RFC 4821 PLPMTUD and
// RFC 8899 DPLPMTUD) as pure, clock-injected state machines: the same code
// runs in the simulator (package plpmtud/sim) and behind the real prober,
// which sends UDP, ICMP or TCP probes on a live path.
//
// # Sizes
//
// Every size is an IP packet size in bytes: what counts against a link MTU.
// Config.Min is the size known or assumed to work (RFC 8899 BASE_PLPMTU),
// Config.Max the largest worth probing.
//
// # The contract
//
// A strategy never blocks, sleeps, starts goroutines, reads a clock or draws
// random numbers; given the same sequence of calls it makes the same
// decisions. The driver owns time and the network:
//
//	s, _ := plpmtud.New(plpmtud.Default, plpmtud.Config{Min: 1280, Max: 1500})
//	for !s.Done() {
//		// one round: take every probe the strategy wants now
//		for {
//			size, ok := s.Next(now)
//			if !ok {
//				break
//			}
//			send(size)
//		}
//		// report exactly one outcome per probe sent, each when it happens:
//		//   s.OnAck(size, now)       the probe was acknowledged
//		//   s.OnLoss(size, now)      its probe timer expired
//		//   s.OnPTB(size, mtu, now)  a PTB quoting this probe arrived
//	}
//	use(s.Estimate())
//
// Rules the driver keeps:
//
//   - Next may be called at any time; ok=false means "nothing to send now":
//     the search is done or the strategy waits for outstanding outcomes.
//     Strategies that probe in parallel (mtukit with Config.Parallel > 1)
//     return several sizes from successive calls; the others return one and
//     then wait. Calling Next again after ok=false with no outcome reported
//     in between returns ok=false again.
//   - Every probe gets exactly one outcome, reported with its size. Outcomes
//     of the probes of one round may arrive in any order; the simulator
//     reports acknowledgements first (they arrive after one RTT, losses only
//     when the probe timer expires).
//   - OnPTB is only for a PTB whose quoted packet the driver matched to the
//     probe (addresses, ports, probe identifier: RFC 8899 §4.6.1). The
//     strategy still checks the reported MTU: a value below Min or not below
//     the probe is ignored (§4.6.2), and no strategy raises its estimate on
//     a PTB alone.
//   - now is the time since the search started. Strategies use it only for
//     timers that run after a search (RFC 8899's PMTU_RAISE_TIMER); during a
//     search their decisions depend on the outcomes alone, which is what
//     lets the simulator compute exact probabilities.
//   - A driver that also watches ordinary traffic calls OnTrafficLoss on
//     strategies that implement BlackHoleDetector, once per round in which a
//     packet of size Estimate() was lost.
//
// Estimate is always a size that was acknowledged (or Min), so a strategy
// overshoots the path MTU only when the path shrinks after the fact. Bound
// is a hard cap: no search sends more probes than Bound, whatever the
// outcomes (TestBounds checks that ordinary outcomes never reach it).
//
// # The strategies
//
// New builds a strategy by name; Names lists them. The seed article's three
// searches (linear, binary, hybrid) and RFC 8899's state machine (rfc8899)
// are parameterised by Config.Step (ΔS) and Config.MaxProbes. The models of
// real stacks (linux-tcp, quic-go, quiche, msquic, linux-sctp, freebsd-sctp)
// follow the source files named in their documentation and keep those
// stacks' constants. mtukit is mtukit's own search and the default.
//
// # Why mtukit's search wins
//
// The search is a bisection of probability mass rather than of bytes. The
// prior puts three quarters of the mass on the MTUs real paths have (1500,
// 1492, and the tunnel MTUs that package encap computes for GRE, IPsec,
// VXLAN, WireGuard, GTP-U, MPLS...), so a path at a plateau is pinned in a
// few probes instead of ceil(log2 N). A loss only discounts the sizes above
// it, so the search goes lower first and re-tests a lost size only when
// everything below is settled: a random loss costs a probe or two, not half
// the interval. It stops on evidence, not on a byte gap: two lost probes
// just above the estimate (or one, when the prior leaves little room), so it
// reaches 1-byte precision and keeps it under loss.
//
// Exact-mode numbers (package plpmtud/sim), search range [1200, 1500], no
// ICMP; mean probes / P95, mean error in bytes, P(exact answer):
//
//	path MTU from the tunnel mix (`mtukit sim --exact --loss L`)
//	             loss 0%                  loss 1%                  loss 5%
//	mtukit       7.24/9   0.00 B 100%     7.34/11  0.00 B 99.9%    7.81/11  0.10 B 98.9%
//	binary       8.20/9   0.00 B 100%     8.23/9   1.53 B 95.2%    8.31/9   8.00 B 77.8%
//	rfc8899     15.75/19  0.00 B 100%    15.81/19  0.00 B 100%    16.06/19  0.05 B 99.9%
//	quiche      17.37/20  0.00 B 100%    17.42/20  0.00 B 100%    17.63/21  0.02 B 99.9%
//	quic-go      7.35/10  2.96 B 32.1%    7.37/10  3.03 B 31.1%    7.48/10  3.35 B 27.5%
//	linux-tcp    5.89/6   2.07 B 3.6%     5.89/6   3.72 B 3.4%     5.89/6  10.58 B 2.8%
//	freebsd-sctp 10.14/11 0.64 B 67.9%   10.31/11  0.64 B 67.9%   11.04/16  0.70 B 67.8%
//	linux-sctp  19.19/22  0.64 B 67.9%   19.33/22  0.64 B 67.9%   19.90/23  0.79 B 67.8%
//
// Among the searches that find the exact MTU and keep it under loss
// (rfc8899's three tries per size, quiche), mtukit needs less than half
// the probes; it needs fewer than a one-try bisection, which at 5% loss is
// wrong one time in five; and it costs about what quic-go costs, which
// settles for 20 bytes. On a path MTU drawn uniformly from [1200, 1500],
// where the prior does not help, mtukit needs 10.3 probes at 0% loss and
// 11.1 at 5% (exact 98.8%): 2.0 more than a one-try bisection (8.30, exact
// 80% at 5%), still far fewer than rfc8899 (17.2) or quiche (19.1). With
// Config.Parallel 3 it finishes the tunnel mix in 3.8 rounds instead of
// 7.3 (11.5 probes).
//
// # The probe budget
//
// Leaning on the prior must not cost the paths it does not favour: without
// random loss, mtukit (one probe per round) finds every path MTU exactly in
// at most ceil(log2 N) + 2 probes, N = Max-Min+1 (11 over [1200, 1500], 10
// over IPv6's [1280, 1500]), black holes and wrong hints included
// (TestMtukitBudget checks every path MTU, with and without PTBs, with
// every fragment hint). A bisection isolates the path MTU in ceil(log2 N)
// probes and the stopping rule wants one more loss just above it; the
// prior's choice stands when that worst case still fits in the probes
// left, and is moved to the nearest size that keeps it otherwise. N is
// rarely a power of two and the budget has one probe to spare, so the
// first probes lean on the prior freely; the budget bites when the
// posterior wants a narrow region at the edge of a wide interval. Before
// the budget a path MTU uniform over [1200, 1500] took 10.71 probes (12 at
// worst) and an IPv6 black hole over [1280, 1500] up to 12; a wrong
// fragment hint cost 13.08 on average. The price is paid by a right hint
// (below) and by wide ranges: over [1200, 9000] a 9000-byte path is no
// longer found in 2 probes once 1500 was acknowledged, since a guess at
// 9000 that failed would leave 7500 sizes for 13 probes.
//
// # PTBs
//
// A validated PTB (the driver matched its quote to a probe) reporting m is
// taken as an upper bound, as RFC 8899 §4.6.2 allows, and m is the next
// probe: on paths that send PTBs mtukit needs 2.57 probes over the tunnel
// mix (P95 4, always exact), against 5.51 for rfc8899 and 3.00 for
// FreeBSD's search (exact 67.9%). The price is trust: an on-path forger
// answering 10% of the probes with a PTB reporting Min ends 10% of the
// searches at Min, as it does for rfc8899 (34%), Linux TCP (41%) and
// FreeBSD (19%). Config.PTBConfirm 2 (`--ptb-confirm 2`) takes a PTB's MTU
// as a bound only once two PTBs agree: 3.81 probes over the mix with
// PTBs, and the forger then wins only when two of its PTBs agree (1.0%).
//
// # Hints
//
// A strategy that implements Hinter takes a measurement made outside the
// search: the prober sends one packet of Max without DF after the first
// lost probe, IPv4 routers fragment it even behind a black hole, and its
// largest fragment F puts the path MTU in [F, F+7]. mtukit multiplies the
// weight of those sizes by 1024, which steers its probes and never decides.
// Behind a black hole (sim Path.Frag 1, that packet counted as a probe)
// it needs 6.77 probes over the tunnel mix instead of 7.24, and 7.62
// instead of 10.34 on a path MTU uniform over [1200, 1500]; at 5% loss
// 7.14 over the mix, exact 99.6%. Before the probe budget a right hint
// was worth more (6.36 and 6.51) because the search could bet everything
// on it; within the budget it cuts the hint out of the interval edge by
// edge when the median inside it would leave no probe to spare.
package plpmtud
