package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mtukit/mtukit/plpmtud"
)

// Result is the distribution of outcomes of a scenario.
type Result struct {
	Scenario
	Exact  bool
	Trials int   // Monte Carlo trials (0 in exact mode)
	Events int64 // probes simulated (Monte Carlo)
	States int   // distinct strategy states explored (exact mode)
	// Unresolved is the probability mass the exact mode dropped (branches
	// below its floor); the outcome probabilities sum to 1-Unresolved.
	Unresolved float64
	// PacingGap and the round times used for the time metrics.
	RTT, PTO, Gap time.Duration
	dist          map[uint64]float64
}

// Weighted is an outcome and its probability.
type Weighted struct {
	Outcome
	P float64
}

// Outcomes lists the distinct outcomes with their probabilities, sorted.
func (r *Result) Outcomes() []Weighted {
	out := make([]Weighted, 0, len(r.dist))
	keys := make([]uint64, 0, len(r.dist))
	for k := range r.dist {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		out = append(out, Weighted{unpack(k), r.dist[k]})
	}
	return out
}

// simCap is the most probes the simulator lets one search send.
const simCap = maxField - maxRound

// ErrTooLarge is returned by Exact when the strategy's state space is too
// large to enumerate; Monte Carlo still works.
var ErrTooLarge = errors.New("state space too large for exact mode")

// Options control a run.
type Options struct {
	// Trials is the number of Monte Carlo searches.
	Trials int
	// Seed makes a Monte Carlo run reproducible: the same seed gives the
	// same result whatever the number of workers.
	Seed uint64
	// Workers is the number of goroutines (0: GOMAXPROCS).
	Workers int
	// MaxStates bounds the states the exact mode keeps (0: 4 million).
	MaxStates int
	// Floor is the exact mode's pruning threshold (0: DefaultFloor;
	// negative: prune nothing).
	Floor float64
	// Progress, if set, is called from the workers with the fraction done.
	Progress func(done, total int64)
}

// Exact computes the outcome distribution with no sampling. For each path
// MTU it propagates probability forward, round by round: every probe of a
// round branches on its fates (acknowledged, lost, PTB) with their
// probabilities, and identical strategy states reached by different paths
// with the same probe, round and timeout counts are merged, which works
// because a strategy's decisions depend only on the outcomes it was told.
// Branches whose probability falls below opt.Floor are dropped and their
// mass reported as Result.Unresolved, so the result is exact to that
// amount (a negative Floor drops nothing).
func Exact(ctx context.Context, sc Scenario, opt Options) (*Result, error) {
	p, err := prepare(sc)
	if err != nil {
		return nil, err
	}
	limit := opt.MaxStates
	if limit == 0 {
		limit = 1 << 22
	}
	floor := opt.Floor
	switch {
	case floor == 0:
		floor = DefaultFloor
	case floor < 0:
		floor = 0
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(p.dist))
	type part struct {
		dist       map[uint64]float64
		unresolved float64
		states     int
		err        error
	}
	parts := make([]part, len(p.dist))
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(p.dist) || ctx.Err() != nil {
					return
				}
				e := &exactRun{p: p, pmtu0: p.dist[i].PMTU, floor: floor, limit: limit, ctx: ctx}
				d, err := e.run()
				parts[i] = part{d, e.unresolved, e.states, err}
				if opt.Progress != nil {
					opt.Progress(done.Add(1), int64(len(p.dist)))
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := p.result(true)
	for i, pt := range p.dist {
		if parts[i].err != nil {
			return nil, parts[i].err
		}
		for k, v := range parts[i].dist {
			r.dist[k] += pt.P * v
		}
		r.Unresolved += pt.P * parts[i].unresolved
		r.States += parts[i].states
	}
	return r, nil
}

// DefaultFloor is the probability below which the exact mode drops a
// branch (reporting its mass as unresolved).
const DefaultFloor = 1e-12

func (p *prepared) result(exact bool) *Result {
	return &Result{Scenario: p.Scenario, Exact: exact, RTT: p.rtt, PTO: p.pto, Gap: p.gap, dist: map[uint64]float64{}}
}

// fkey identifies a node of the forward propagation: a strategy state and
// the counts accumulated so far.
type fkey struct {
	state                any
	probes, rounds, slow int
	fragged              bool // the packet without DF was sent
}

type fnode struct {
	s plpmtud.Strategy
	p float64
}

type exactRun struct {
	p          *prepared
	pmtu0      int
	floor      float64
	limit      int
	ctx        context.Context
	unresolved float64
	states     int
	out        map[uint64]float64
	layers     map[int]map[fkey]*fnode // by probes sent
}

func (e *exactRun) add(s plpmtud.Strategy, probes, rounds, slow int, fragged bool, pr float64) {
	if pr == 0 {
		return
	}
	l := e.layers[probes]
	if l == nil {
		l = map[fkey]*fnode{}
		e.layers[probes] = l
	}
	k := fkey{s.Key(), probes, rounds, slow, fragged}
	if n, ok := l[k]; ok {
		n.p += pr
		return
	}
	l[k] = &fnode{s, pr}
	e.states++
}

func (e *exactRun) run() (map[uint64]float64, error) {
	e.out = map[uint64]float64{}
	e.layers = map[int]map[fkey]*fnode{}
	e.add(e.p.newOne(), 0, 0, 0, false, 1)
	var fs [][]fate
	var sizes []int
	for probes := 0; probes <= simCap; probes++ {
		layer := e.layers[probes]
		delete(e.layers, probes)
		if e.states > e.limit {
			return nil, fmt.Errorf("%w (%s: over %d states); use Monte Carlo or a higher floor", ErrTooLarge, e.p.Strategy, e.limit)
		}
		if err := e.ctx.Err(); err != nil {
			return nil, err
		}
		// Visit the layer in a fixed order so that float sums do not
		// depend on map iteration.
		keys := make([]fkey, 0, len(layer))
		for k := range layer {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return layer[keys[i]].p > layer[keys[j]].p })
		for _, k := range keys {
			n := layer[k]
			if n.p < e.floor {
				e.unresolved += n.p
				continue
			}
			var err error
			sizes, fs, err = e.expand(n.s, k.probes, k.rounds, k.slow, k.fragged, n.p, sizes, fs)
			if err != nil {
				return nil, err
			}
		}
	}
	return e.out, nil
}

func (e *exactRun) terminal(o Outcome, pr float64) { e.out[pack(o)] += pr }

func (e *exactRun) expand(s plpmtud.Strategy, probes, rounds, slow int, fragged bool, pr float64, sizes []int, fs [][]fate) ([]int, [][]fate, error) {
	p := e.p
	pmtu := p.pmtuAfter(e.pmtu0, probes)
	if s.Done() {
		c := s.Clone()
		n := afterDone(c, pmtu, 0, p.pto)
		if c.Done() || rounds+n >= simCap {
			e.terminal(Outcome{True: p.truth(pmtu), Est: c.Estimate(), Probes: probes, Rounds: rounds + n, Slow: slow + n, Capped: !c.Done() || c.Capped()}, pr)
			return sizes, fs, nil
		}
		s, rounds, slow = c, rounds+n, slow+n
	}
	c := s.Clone()
	sizes = plan(c, 0, sizes)
	if len(sizes) == 0 || probes+len(sizes) > simCap || rounds >= simCap {
		capped := !c.Done() || len(sizes) > 0 || c.Capped()
		e.terminal(Outcome{True: p.truth(pmtu), Est: c.Estimate(), Probes: probes, Rounds: rounds, Slow: slow, Capped: capped}, pr)
		return sizes, fs, nil
	}
	for len(fs) < len(sizes) {
		fs = append(fs, nil)
	}
	for i, sz := range sizes {
		fs[i] = p.fates(sz, pmtu, fs[i])
	}
	n := probes + len(sizes)
	pm := p.pmtuAfter(e.pmtu0, n)
	round := make([]probe, len(sizes))
	var walk func(i int, q float64)
	walk = func(i int, q float64) {
		if i == len(sizes) {
			child := c.Clone()
			order := append([]probe(nil), round...)
			sl := 0
			if deliver(child, order, 0) {
				sl = 1
			}
			if bd, ok := child.(plpmtud.BlackHoleDetector); ok && !child.Done() && child.Estimate() > pm {
				bd.OnTrafficLoss(child.Estimate(), 0)
			}
			if h, ok := child.(plpmtud.Hinter); ok && sl == 1 && !fragged && p.Path.Frag > 0 && !child.Done() {
				// The packet without DF: one more probe and round; back
				// with its fragments, or lost (a probe timeout).
				odds := p.fragOdds()
				lost := child.Clone()
				lo, hi := p.fragWindow(p.pmtuAfter(e.pmtu0, n+1))
				h.Hint(lo, hi)
				e.add(child, n+1, rounds+2, slow+sl, true, q*odds)
				e.add(lost, n+1, rounds+2, slow+sl+1, true, q*(1-odds))
				return
			}
			e.add(child, n, rounds+1, slow+sl, fragged, q)
			return
		}
		for _, f := range fs[i] {
			round[i] = probe{sizes[i], f}
			walk(i+1, q*f.p)
		}
	}
	walk(0, pr)
	return sizes, fs, nil
}

// chunk is the number of Monte Carlo trials that share one random stream.
// Streams are keyed by (seed, chunk index), so a result does not depend on
// how chunks are spread over workers.
const chunk = 1024

// MonteCarlo samples opt.Trials searches in parallel. It is reproducible:
// the same seed gives the same result for any number of workers.
func MonteCarlo(ctx context.Context, sc Scenario, opt Options) (*Result, error) {
	p, err := prepare(sc)
	if err != nil {
		return nil, err
	}
	if opt.Trials <= 0 {
		return nil, fmt.Errorf("trials %d must be positive", opt.Trials)
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	nchunks := (opt.Trials + chunk - 1) / chunk
	workers = min(workers, nchunks)
	cum := make([]float64, len(p.dist))
	acc := 0.0
	for i, pt := range p.dist {
		acc += pt.P
		cum[i] = acc
	}
	var next, done atomic.Int64
	hists := make([]map[uint64]uint64, workers)
	events := make([]int64, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			h := map[uint64]uint64{}
			hists[w] = h
			t := newTrialer(p)
			for {
				c := int(next.Add(1) - 1)
				if c >= nchunks || ctx.Err() != nil {
					return
				}
				rng := newRand(opt.Seed, uint64(c))
				n := min(chunk, opt.Trials-c*chunk)
				for i := 0; i < n; i++ {
					pmtu := p.dist[pick(cum, rng.Float64())].PMTU
					o := t.run(pmtu, rng)
					events[w] += int64(o.Probes)
					h[pack(o)]++
				}
				if opt.Progress != nil {
					opt.Progress(done.Add(int64(n)), int64(opt.Trials))
				}
			}
		}(w)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := p.result(false)
	r.Trials = opt.Trials
	counts := map[uint64]uint64{}
	for w, h := range hists {
		for k, v := range h {
			counts[k] += v
		}
		r.Events += events[w]
	}
	for k, v := range counts {
		r.dist[k] = float64(v) / float64(opt.Trials)
	}
	return r, nil
}

// newRand is the random stream of one chunk.
func newRand(seed, chunk uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, chunk)) }

// pick is the index of the first cumulative weight above u.
func pick(cum []float64, u float64) int {
	i := sort.SearchFloat64s(cum, u)
	if i >= len(cum) || (cum[i] == u && i+1 < len(cum)) {
		i = min(i+1, len(cum)-1)
	}
	return i
}

// trialer runs searches one after another with no allocation.
type trialer struct {
	p     *prepared
	s     plpmtud.Strategy
	bd    plpmtud.BlackHoleDetector
	h     plpmtud.Hinter
	sizes []int
	round []probe
	fates []fate
}

func newTrialer(p *prepared) *trialer {
	t := &trialer{p: p, s: p.newOne(), sizes: make([]int, 0, maxRound), round: make([]probe, 0, maxRound), fates: make([]fate, 0, 4)}
	t.bd, _ = t.s.(plpmtud.BlackHoleDetector)
	t.h, _ = t.s.(plpmtud.Hinter)
	return t
}

// run is one search on a path of MTU pmtu0.
func (t *trialer) run(pmtu0 int, rng *rand.Rand) Outcome {
	p, s := t.p, t.s
	s.Reset()
	var now time.Duration
	var o Outcome
	fragged := false
	pmtu := pmtu0
	for {
		if s.Done() {
			n := afterDone(s, pmtu, now, p.pto)
			o.Rounds += n
			o.Slow += n
			now += time.Duration(n) * p.roundTime(true)
			if s.Done() {
				break
			}
		}
		t.sizes = plan(s, now, t.sizes)
		if len(t.sizes) == 0 || o.Probes+len(t.sizes) > simCap || o.Rounds >= simCap {
			// Nothing to send: finished on its budget inside Next, or stalled.
			o.Capped = !s.Done() || len(t.sizes) > 0 || s.Capped()
			break
		}
		t.round = t.round[:0]
		for _, sz := range t.sizes {
			t.fates = p.fates(sz, pmtu, t.fates)
			u := rng.Float64()
			f := t.fates[len(t.fates)-1]
			for _, x := range t.fates {
				if u < x.p {
					f = x
					break
				}
				u -= x.p
			}
			t.round = append(t.round, probe{sz, f})
		}
		slow := deliver(s, t.round, now)
		o.Probes += len(t.sizes)
		o.Rounds++
		if slow {
			o.Slow++
		}
		now += p.roundTime(slow)
		pmtu = p.pmtuAfter(pmtu0, o.Probes)
		if t.h != nil && slow && !fragged && p.Path.Frag > 0 && !s.Done() {
			// The packet without DF, as in the exact engine.
			fragged = true
			o.Probes++
			o.Rounds++
			back := rng.Float64() < p.fragOdds()
			if !back {
				o.Slow++
			}
			now += p.roundTime(!back)
			pmtu = p.pmtuAfter(pmtu0, o.Probes)
			if back {
				t.h.Hint(p.fragWindow(pmtu))
			}
		}
		if t.bd != nil && !s.Done() && s.Estimate() > pmtu {
			t.bd.OnTrafficLoss(s.Estimate(), now)
		}
	}
	o.True = p.truth(pmtu)
	o.Est = s.Estimate()
	o.Capped = o.Capped || s.Capped()
	return o
}
