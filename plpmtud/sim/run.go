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
	// samples are a Monte Carlo run's outcomes (packed) in trial order,
	// kept up to maxSamples trials for paired comparisons.
	samples []uint64
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
			e := newExactRun(p, floor, limit, ctx)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(p.dist) || ctx.Err() != nil {
					return
				}
				e.reset(p.dist[i].PMTU)
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

// fkey identifies a node of a layer (the probes sent so far are the
// layer's): a strategy state and the counts accumulated so far.
type fkey struct {
	state        any
	rounds, slow int32
	fragged      bool // the packet without DF was sent
}

// fnode is a node: a strategy, the probability of reaching it and its
// counts. A node owns its strategy: nothing else refers to it.
type fnode struct {
	s            plpmtud.Strategy
	p            float64
	rounds, slow int
	fragged      bool
}

// layer is the nodes that have sent the same number of probes, in the
// order they were first reached, which is deterministic: float sums do not
// depend on map iteration.
type layer struct {
	index map[fkey]int32
	nodes []fnode
}

// exactRun is the forward propagation for one initial path MTU. A worker
// reuses one for every path MTU it computes.
type exactRun struct {
	p          *prepared
	pmtu0      int
	floor      float64
	limit      int
	ctx        context.Context
	unresolved float64
	states     int
	out        map[uint64]float64
	layers     []*layer // by probes sent
	free       []*layer

	// Scratch space of expand and walk.
	sizes        []int
	fs           [][]fate
	round, order []probe
	c            plpmtud.Strategy // the strategy whose round walk branches
	leaves, leaf int              // the round's fate combinations; the current one
	n, pm        int              // probes after the round; path MTU then
	rounds, slow int
	fragged      bool
}

func newExactRun(p *prepared, floor float64, limit int, ctx context.Context) *exactRun {
	return &exactRun{p: p, floor: floor, limit: limit, ctx: ctx, layers: make([]*layer, simCap+2),
		round: make([]probe, maxRound), order: make([]probe, maxRound)}
}

// reset prepares e for the initial path MTU pmtu0, keeping its buffers.
func (e *exactRun) reset(pmtu0 int) {
	e.pmtu0, e.unresolved, e.states = pmtu0, 0, 0
	e.out = map[uint64]float64{}
	for i, l := range e.layers {
		if l != nil {
			e.recycle(l)
			e.layers[i] = nil
		}
	}
}

func (e *exactRun) recycle(l *layer) {
	clear(l.index)
	clear(l.nodes) // drop the strategies for the collector
	l.nodes = l.nodes[:0]
	e.free = append(e.free, l)
}

func (e *exactRun) add(s plpmtud.Strategy, probes, rounds, slow int, fragged bool, pr float64) {
	if pr == 0 {
		return
	}
	l := e.layers[probes]
	if l == nil {
		if n := len(e.free); n > 0 {
			l, e.free = e.free[n-1], e.free[:n-1]
		} else {
			l = &layer{index: map[fkey]int32{}}
		}
		e.layers[probes] = l
	}
	k := fkey{s.Key(), int32(rounds), int32(slow), fragged}
	if i, ok := l.index[k]; ok {
		l.nodes[i].p += pr
		return
	}
	l.index[k] = int32(len(l.nodes))
	l.nodes = append(l.nodes, fnode{s, pr, rounds, slow, fragged})
	e.states++
}

func (e *exactRun) run() (map[uint64]float64, error) {
	e.add(e.p.newOne(), 0, 0, 0, false, 1)
	for probes := 0; probes <= simCap; probes++ {
		l := e.layers[probes]
		if l == nil {
			continue
		}
		if e.states > e.limit {
			return nil, fmt.Errorf("%w (%s: over %d states); use Monte Carlo or a higher floor", ErrTooLarge, e.p.Strategy, e.limit)
		}
		if err := e.ctx.Err(); err != nil {
			return nil, err
		}
		// expand adds only to later layers: l does not grow meanwhile.
		for i := range l.nodes {
			n := &l.nodes[i]
			if n.p < e.floor {
				e.unresolved += n.p
				continue
			}
			e.expand(n, probes)
		}
		e.layers[probes] = nil
		e.recycle(l)
	}
	return e.out, nil
}

func (e *exactRun) terminal(o Outcome, pr float64) { e.out[pack(o)] += pr }

// expand branches node n, which has sent probes probes, on the fates of
// its next round. It uses n's strategy in place (and gives it to the last
// child), so n must not be used again.
func (e *exactRun) expand(n *fnode, probes int) {
	p := e.p
	s, rounds, slow := n.s, n.rounds, n.slow
	pmtu := p.pmtuAfter(e.pmtu0, probes)
	if s.Done() {
		k := afterDone(s, pmtu, 0, p.pto)
		if s.Done() || rounds+k >= simCap {
			e.terminal(Outcome{True: p.truth(pmtu), Est: s.Estimate(), Probes: probes, Rounds: rounds + k, Slow: slow + k, Capped: !s.Done() || s.Capped()}, n.p)
			return
		}
		rounds, slow = rounds+k, slow+k
	}
	e.sizes = plan(s, 0, e.sizes)
	if len(e.sizes) == 0 || probes+len(e.sizes) > simCap || rounds >= simCap {
		capped := !s.Done() || len(e.sizes) > 0 || s.Capped()
		e.terminal(Outcome{True: p.truth(pmtu), Est: s.Estimate(), Probes: probes, Rounds: rounds, Slow: slow, Capped: capped}, n.p)
		return
	}
	for len(e.fs) < len(e.sizes) {
		e.fs = append(e.fs, nil)
	}
	e.leaves = 1
	for i, sz := range e.sizes {
		e.fs[i] = p.fates(sz, pmtu, e.fs[i])
		e.leaves *= len(e.fs[i])
	}
	e.c, e.leaf = s, 0
	e.n = probes + len(e.sizes)
	e.pm = p.pmtuAfter(e.pmtu0, e.n)
	e.rounds, e.slow, e.fragged = rounds, slow, n.fragged
	e.walk(0, n.p)
	e.c = nil
}

// walk chooses the fate of probe i of the round, and at the end of the
// round delivers the fates to a copy of e.c (e.c itself for the last
// combination) and adds the child.
func (e *exactRun) walk(i int, q float64) {
	if i < len(e.sizes) {
		for _, f := range e.fs[i] {
			e.round[i] = probe{e.sizes[i], f}
			e.walk(i+1, q*f.p)
		}
		return
	}
	p := e.p
	e.leaf++
	child := e.c
	if e.leaf < e.leaves {
		child = e.c.Clone()
	}
	order := e.order[:len(e.sizes)]
	copy(order, e.round)
	sl := 0
	if deliver(child, order, 0) {
		sl = 1
	}
	if bd, ok := child.(plpmtud.BlackHoleDetector); ok && !child.Done() && child.Estimate() > e.pm {
		bd.OnTrafficLoss(child.Estimate(), 0)
	}
	if h, ok := child.(plpmtud.Hinter); ok && sl == 1 && !e.fragged && p.Path.Frag > 0 && !child.Done() {
		// The packet without DF: one more probe and round; back with its
		// fragments, or lost (a probe timeout).
		odds := p.fragOdds()
		lost := child.Clone()
		lo, hi := p.fragWindow(p.pmtuAfter(e.pmtu0, e.n+1))
		h.Hint(lo, hi)
		e.add(child, e.n+1, e.rounds+2, e.slow+sl, true, q*odds)
		e.add(lost, e.n+1, e.rounds+2, e.slow+sl+1, true, q*(1-odds))
		return
	}
	e.add(child, e.n, e.rounds+1, e.slow+sl, e.fragged, q)
}

// chunk is the number of Monte Carlo trials a worker takes at a time.
const chunk = 1024

// maxSamples is the most trials whose outcomes a Monte Carlo result keeps
// one by one, for the paired comparisons of Recommend.
const maxSamples = 1 << 20

// MonteCarlo samples opt.Trials searches in parallel. Trial i draws its
// path MTU and then the fates of its probes, in the order sent, from its
// own random stream keyed by (seed, i): the same seed gives the same result
// for any number of workers, and two strategies run with the same seed and
// path see the same sampled path MTUs and the same draws for their first,
// second... probes (common random numbers), so their difference has far
// less noise than either result (Recommend compares them trial by trial).
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
	var samples []uint64
	if opt.Trials <= maxSamples {
		samples = make([]uint64, opt.Trials)
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
			src := new(rand.PCG)
			rng := rand.New(src)
			for {
				c := int(next.Add(1) - 1)
				if c >= nchunks || ctx.Err() != nil {
					return
				}
				lo, hi := c*chunk, min((c+1)*chunk, opt.Trials)
				for i := lo; i < hi; i++ {
					seedTrial(src, opt.Seed, i)
					pmtu := p.dist[pick(cum, rng.Float64())].PMTU
					o := t.run(pmtu, rng)
					events[w] += int64(o.Probes)
					k := pack(o)
					h[k]++
					if samples != nil {
						samples[i] = k
					}
				}
				if opt.Progress != nil {
					opt.Progress(done.Add(int64(hi-lo)), int64(opt.Trials))
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
	r.samples = samples
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

// seedTrial points src at the random stream of trial i. The trial index
// goes through the SplitMix64 finalizer (a bijection), so neighbouring
// trials start far apart in PCG's state space.
func seedTrial(src *rand.PCG, seed uint64, i int) {
	z := uint64(i) + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	src.Seed(seed, z^z>>31)
}

// trialRand is the random stream of trial i.
func trialRand(seed uint64, i int) *rand.Rand {
	src := new(rand.PCG)
	seedTrial(src, seed, i)
	return rand.New(src)
}

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
