// Package sim simulates path MTU searches (package plpmtud) on a model of
// the path: the true path MTU (fixed, or drawn from a tunnel family whose
// MTUs package encap computes), random probe loss, size-dependent loss, PTB
// delivery (0 is an ICMP black hole), forged PTBs, RTT and probe timeout,
// and a path MTU that changes mid-run.
//
// Two engines produce the same thing, the distribution of outcomes
// (discovered MTU, probes, rounds, time):
//
//   - Exact propagates probability through every sequence of probe fates,
//     merging identical strategy states; it has no sampling noise and
//     reports the mass it pruned below a floor (1e-12 by default).
//   - MonteCarlo samples searches in parallel; trial i draws its path MTU
//     and its probes' fates from its own random stream keyed by (seed, i),
//     so a seed gives the same result for any number of workers, and
//     strategies run with one seed see the same paths and the same draws
//     (common random numbers).
//
// Recommend compares the rows of a table: Monte Carlo rows trial by trial
// (paired differences), calling a winner only when the difference is
// significant and listing the rows it cannot tell apart as tied.
//
// Summarize turns a result into the table row: probes and time (mean and
// P95, in RTTs and ms), discovered MTU (mean and P5), P(sub-optimal),
// P(overshoot), the seed article's goodput and latency formulas and their
// corrections.
//
// Compare runs the comparison `mtukit sim` prints and GET /api/v1/sim
// returns, from a typed Request (DefaultRequest holds the defaults); bad
// input is an *encap.ParamError naming the parameter.
package sim
