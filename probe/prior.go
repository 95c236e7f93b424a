package probe

import "github.com/mtukit/mtukit/plpmtud"

// Prior is what a previous run found on a path, kept by a caller that
// probes the same path again and again (the exporter). With PMTU set, the
// search first re-validates it (plpmtud.Config.Known): a probe of PMTU and
// one of the next size up, and the full search only when the path changed.
//
// Blackhole carries the previous verdict: when the path is unchanged and
// the probe above PMTU again vanished with no PTB, the answer is the same
// black hole, without the Retries-1 extra probes that proved it first. A
// path that used to send PTBs and now sends none is a change, and gets the
// usual verdict (retries included).
type Prior struct {
	PMTU      int
	Blackhole bool
}

// known is the size to re-validate, or 0 when the prior does not apply to
// the range [lo, hi] of this run.
func (p Prior) known(lo, hi int) int {
	if p.PMTU < lo || p.PMTU > hi {
		return 0
	}
	return p.PMTU
}

// confirmed records on rep whether the search s re-validated the prior,
// and reports true when that settles the run: the prior said black hole
// and silent is true (the run ended below Max on an acknowledged probe,
// with no PTB used), so the same black hole stands.
func (p Prior) confirmed(s plpmtud.Strategy, rep *Report, silent bool) bool {
	if !plpmtud.Revalidated(s) {
		return false
	}
	rep.Revalidated = true
	if !p.Blackhole || !silent {
		return false
	}
	rep.Blackhole = true
	return true
}
