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
// The search is a bisection of probability mass rather than of bytes:
// the prior puts three quarters of the mass on the MTUs real paths have
// (1500, 1492, and the tunnel MTUs that package encap computes for GRE,
// IPsec, VXLAN, WireGuard, GTP-U, MPLS...), so a path at a plateau is
// confirmed in a few probes instead of ceil(log2 N). A loss only discounts
// the sizes above it, so the search goes lower first and re-tests a lost size
// only when everything below is settled: one random loss costs one or two
// extra probes, not half the interval. It stops on a confidence level rather
// than a byte gap, so it reaches 1-byte precision. The simulator's exact
// mode gives the numbers (mean probes, P95, mean error) for the default
// range [1280, 1500] with PMTUs drawn from the tunnel mix (see plpmtud/sim
// and `mtukit sim`); the results table in the project README is produced by
// `mtukit sim --exact --strategy all`.
package plpmtud
