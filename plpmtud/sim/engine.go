package sim

import (
	"time"

	"github.com/mtukit/mtukit/plpmtud"
)

// Outcome is how one search ended.
type Outcome struct {
	True   int // the MTU scored against (path MTU at the end, capped at Max)
	Est    int // the strategy's estimate when it finished
	Probes int
	Rounds int // rounds, each an RTT or a probe timeout
	Slow   int // rounds that waited for a probe timeout
	// Capped: the search was cut short, by its own Bound or by the
	// simulator (a stall, or over 1000 probes).
	Capped bool
}

// Outcomes are packed into a uint64 so that distributions are cheap maps:
// est 16 bits | true 16 | probes 10 | rounds 10 | slow 10 | capped 1.
const (
	maxField  = 1<<10 - 1
	shProbes  = 32
	shRounds  = 42
	shSlow    = 52
	bitCapped = 1 << 62
)

func pack(o Outcome) uint64 {
	k := uint64(o.Est)&0xffff | uint64(o.True)&0xffff<<16 |
		uint64(o.Probes)<<shProbes | uint64(o.Rounds)<<shRounds | uint64(o.Slow)<<shSlow
	if o.Capped {
		k |= bitCapped
	}
	return k
}

func unpack(k uint64) Outcome {
	return Outcome{
		Est:    int(k & 0xffff),
		True:   int(k >> 16 & 0xffff),
		Probes: int(k >> shProbes & maxField),
		Rounds: int(k >> shRounds & maxField),
		Slow:   int(k >> shSlow & maxField),
		Capped: k&bitCapped != 0,
	}
}

// kind is the fate of one probe.
type kind uint8

const (
	ack kind = iota
	lost
	ptb
)

// fate is a possible outcome of one probe, with its probability.
type fate struct {
	kind kind
	mtu  int // reported by a PTB
	p    float64
}

// fates lists the outcomes of a probe of size s on a path of MTU pmtu.
func (p *prepared) fates(s, pmtu int, buf []fate) []fate {
	buf = buf[:0]
	f := p.Path.Forge
	if f > 0 {
		buf = append(buf, fate{ptb, p.Path.ForgeMTU, f})
	}
	if s <= pmtu {
		l := p.Path.lossAt(s)
		buf = append(buf, fate{ack, 0, (1 - f) * (1 - l)}, fate{lost, 0, (1 - f) * l})
	} else {
		q := p.Path.ICMP
		buf = append(buf, fate{ptb, pmtu, (1 - f) * q}, fate{lost, 0, (1 - f) * (1 - q)})
	}
	// Drop impossible fates so that the exact engine does not branch on them.
	j := 0
	for _, x := range buf {
		if x.p > 0 {
			buf[j] = x
			j++
		}
	}
	return buf[:j]
}

// probe is a probe sent in a round and its fate.
type probe struct {
	size int
	fate fate
}

// deliver reports the fates of a round's probes to s in the order a real
// driver sees them: acknowledgements first (after one RTT, ascending),
// then PTBs, then losses (when the probe timer fires, ascending). It
// returns whether the round had to wait for a probe timeout.
func deliver(s plpmtud.Strategy, round []probe, now time.Duration) (slow bool) {
	// Insertion sort: rounds are tiny and this must not allocate.
	for i := 1; i < len(round); i++ {
		for j := i; j > 0 && before(round[j], round[j-1]); j-- {
			round[j], round[j-1] = round[j-1], round[j]
		}
	}
	for _, pr := range round {
		switch pr.fate.kind {
		case ack:
			s.OnAck(pr.size, now)
		case ptb:
			s.OnPTB(pr.size, pr.fate.mtu, now)
		case lost:
			s.OnLoss(pr.size, now)
			slow = true
		}
	}
	return slow
}

// fragWindow is the hint that the fragments of a packet of Max sent without
// DF give on a path of MTU pmtu (a packet that fits comes back whole).
func (p *prepared) fragWindow(pmtu int) (lo, hi int) {
	if pmtu >= p.Config.Max {
		return p.Config.Max, p.Config.Max
	}
	return plpmtud.FragmentHint(plpmtud.LargestFragment(pmtu))
}

// fragOdds is the probability that the packet without DF comes back
// (fragmented or whole): routers fragment it (Frag) and no fragment is lost.
func (p *prepared) fragOdds() float64 { return p.Path.Frag * (1 - p.Path.Loss) }

func before(a, b probe) bool {
	if a.fate.kind != b.fate.kind {
		return a.fate.kind < b.fate.kind
	}
	return a.size < b.size
}

// maxRound is the most probes a round may carry.
const maxRound = 16

// plan takes the probes s wants to send now.
func plan(s plpmtud.Strategy, now time.Duration, buf []int) []int {
	buf = buf[:0]
	for len(buf) < maxRound {
		size, ok := s.Next(now)
		if !ok {
			break
		}
		buf = append(buf, size)
	}
	return buf
}

// trafficRounds is how many silent rounds the simulator lets a finished
// strategy spend detecting that the path shrank below its estimate.
const trafficRounds = 8

// afterDone models ordinary traffic at the estimate once a search is done:
// if the path no longer carries the estimate, each round of lost traffic is
// reported to a BlackHoleDetector, which may restart its search. It
// returns the number of such rounds (each a probe timeout long).
func afterDone(s plpmtud.Strategy, pmtu int, now, pto time.Duration) int {
	bd, ok := s.(plpmtud.BlackHoleDetector)
	if !ok {
		return 0
	}
	n := 0
	for s.Done() && s.Estimate() > pmtu && n < trafficRounds {
		n++
		bd.OnTrafficLoss(s.Estimate(), now+time.Duration(n)*pto)
	}
	return n
}
