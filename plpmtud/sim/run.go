package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
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

// Exact computes the outcome distribution with no sampling. It propagates
// probability forward, round by round: every probe of a round branches on
// its fates (acknowledged, lost, PTB) with their probabilities, and
// identical strategy states reached by different paths with the same
// probe, round and timeout counts are merged, which works because a
// strategy's decisions depend only on the outcomes it was told. Each state
// carries one probability per path MTU of the distribution (in groups of
// up to 64), so the strategies' work is shared by all the path MTUs that
// reach a state; fates no path MTU can have are not followed. Branches whose probability falls below opt.Floor are dropped and their
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
	gs := groups(len(p.dist))
	workers = min(workers, len(gs))
	type part struct {
		dist       map[uint64]float64
		unresolved float64
	}
	parts := make([]part, len(p.dist))
	states := make([]int, len(gs))
	errs := make([]error, len(gs))
	var next, done atomic.Int64
	var tooLarge atomic.Bool // a group ran out of states: the others stop too
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var spare []*layer
			for {
				g := int(next.Add(1) - 1)
				if g >= len(gs) || ctx.Err() != nil || tooLarge.Load() {
					return
				}
				lo, hi := gs[g][0], gs[g][1]
				pm0 := make([]int, 0, hi-lo)
				for _, pt := range p.dist[lo:hi] {
					pm0 = append(pm0, pt.PMTU)
				}
				e := newExactRun(p, pm0, floor, limit, ctx)
				e.spare = spare
				errs[g] = e.run()
				if errors.Is(errs[g], ErrTooLarge) {
					tooLarge.Store(true)
				}
				spare = e.spare
				states[g] = e.states
				for j := range pm0 {
					parts[lo+j] = part{e.out[j], e.unresolved[j]}
				}
				if opt.Progress != nil {
					opt.Progress(done.Add(int64(hi-lo)), int64(len(p.dist)))
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := p.result(true)
	for g := range gs {
		if errs[g] != nil {
			return nil, errs[g]
		}
		r.States += states[g]
	}
	for i, pt := range p.dist {
		for k, v := range parts[i].dist {
			r.dist[k] += pt.P * v
		}
		r.Unresolved += pt.P * parts[i].unresolved
	}
	return r, nil
}

// DefaultFloor is the probability below which the exact mode drops a
// branch (reporting its mass as unresolved).
const DefaultFloor = 1e-12

func (p *prepared) result(exact bool) *Result {
	return &Result{Scenario: p.Scenario, Exact: exact, RTT: p.rtt, PTO: p.pto, Gap: p.gap, dist: map[uint64]float64{}}
}

// group is the most path MTUs one forward propagation carries together.
// Searches on different path MTUs share most of their states (a lost
// probe, or one that fits both, leads to the same state), so the exact
// mode propagates a vector of probabilities, one per path MTU of a group,
// through each state: the strategies' work is done once per state for the
// whole group. Groups are contiguous in MTU and do not depend on the
// number of workers, so neither does the result.
const group = 64

// groups splits n path MTUs into contiguous groups of at most group.
func groups(n int) [][2]int {
	k := (n + group - 1) / group
	size := (n + k - 1) / k
	var out [][2]int
	for lo := 0; lo < n; lo += size {
		out = append(out, [2]int{lo, min(lo+size, n)})
	}
	return out
}

// fkey identifies a node of a layer (the probes sent so far are the
// layer's): a strategy state and the counts accumulated so far.
type fkey struct {
	state        any
	rounds, slow int32
	fragged      bool // the packet without DF was sent
}

// fnode is a node: a strategy and its counts; its probabilities (one per
// path MTU of the group) are in its layer's slab. A node owns its
// strategy: nothing else refers to it.
type fnode struct {
	s            plpmtud.Strategy
	rounds, slow int
	fragged      bool
}

// layer is the nodes that have sent the same number of probes, in the
// order they were first reached, which is deterministic: float sums do not
// depend on map iteration.
type layer struct {
	index map[fkey]int32
	nodes []fnode
	w     []float64 // node i's probabilities: w[i*k : (i+1)*k]
}

// branch is a possible fate of one probe and its probability on each path
// MTU of the group.
type branch struct {
	fate fate
	w    []float64
}

// exactRun is the forward propagation for one group of initial path MTUs.
type exactRun struct {
	p          *prepared
	pm0        []int // the group's initial path MTUs
	k          int
	floor      float64
	limit      int
	ctx        context.Context
	unresolved []float64
	states     int
	out        []map[uint64]float64
	layers     []*layer // by probes sent
	spare      []*layer // emptied layers, kept for their capacity

	// Scratch space of expand and walk.
	free    []float64 // vectors are cut from here
	sizes   []int
	br      [][]branch // by probe of the round
	pre     [][]float64
	round   []probe
	order   []probe
	pending bool // a leaf waits for its strategy (pendRound, pendW)
	pendR   []probe
	pendW   []float64
	n       int // probes after the round
	rounds  int
	slow    int
	fragged bool
}

func newExactRun(p *prepared, pm0 []int, floor float64, limit int, ctx context.Context) *exactRun {
	e := &exactRun{p: p, pm0: pm0, k: len(pm0), floor: floor, limit: limit, ctx: ctx, layers: make([]*layer, simCap+2),
		unresolved: make([]float64, len(pm0)), out: make([]map[uint64]float64, len(pm0)),
		round: make([]probe, maxRound), order: make([]probe, maxRound), pendR: make([]probe, maxRound),
		br: make([][]branch, maxRound), pre: make([][]float64, maxRound+1)}
	for j := range e.out {
		e.out[j] = map[uint64]float64{}
	}
	for i := range e.pre {
		e.pre[i] = make([]float64, e.k)
	}
	e.pendW = make([]float64, e.k)
	return e
}

// vec is a zeroed vector of k probabilities, valid until the collector
// finds it unused.
func (e *exactRun) vec() []float64 {
	if len(e.free) < e.k {
		e.free = make([]float64, 64*e.k)
	}
	v := e.free[:e.k:e.k]
	e.free = e.free[e.k:]
	return v
}

func nonzero(w []float64) bool {
	for _, x := range w {
		if x != 0 {
			return true
		}
	}
	return false
}

func (e *exactRun) add(s plpmtud.Strategy, probes, rounds, slow int, fragged bool, w []float64) {
	if !nonzero(w) {
		return
	}
	l := e.layers[probes]
	if l == nil {
		if n := len(e.spare); n > 0 {
			l, e.spare = e.spare[n-1], e.spare[:n-1]
		} else {
			l = &layer{index: map[fkey]int32{}}
		}
		e.layers[probes] = l
	}
	key := fkey{s.Key(), int32(rounds), int32(slow), fragged}
	if i, ok := l.index[key]; ok {
		dst := l.w[int(i)*e.k : (int(i)+1)*e.k]
		for j, x := range w {
			dst[j] += x
		}
		return
	}
	l.index[key] = int32(len(l.nodes))
	l.nodes = append(l.nodes, fnode{s, rounds, slow, fragged})
	l.w = append(l.w, w...)
	e.states++
}

func (e *exactRun) run() error {
	root := e.vec()
	for j := range root {
		root[j] = 1
	}
	e.add(e.p.newOne(), 0, 0, 0, false, root)
	for probes := 0; probes <= simCap; probes++ {
		l := e.layers[probes]
		if l == nil {
			continue
		}
		if e.states > e.limit {
			return fmt.Errorf("%w (%s: over %d states); use Monte Carlo or a higher floor", ErrTooLarge, e.p.Strategy, e.limit)
		}
		if err := e.ctx.Err(); err != nil {
			return err
		}
		e.layers[probes] = nil
		// expand adds only to later layers: l does not change meanwhile.
		for i := range l.nodes {
			w := l.w[i*e.k : (i+1)*e.k]
			live := false
			for j, x := range w {
				if x != 0 && x < e.floor {
					e.unresolved[j] += x
					w[j] = 0
				}
				live = live || w[j] != 0
			}
			if live {
				e.expand(&l.nodes[i], w, probes)
			}
			l.nodes[i].s = nil
		}
		clear(l.index)
		l.nodes, l.w = l.nodes[:0], l.w[:0]
		e.spare = append(e.spare, l)
	}
	return nil
}

// terminal records that the search ended with outcome o (its True set per
// path MTU) for every path MTU of w.
func (e *exactRun) terminal(o Outcome, probes int, w []float64) {
	for j, x := range w {
		if x != 0 {
			o.True = e.p.truth(e.p.pmtuAfter(e.pm0[j], probes))
			e.out[j][pack(o)] += x
		}
	}
}

// expand branches node n, which has sent probes probes, on the fates of
// its next round. It uses n's strategy in place (or gives it to a child),
// so n must not be used again.
func (e *exactRun) expand(n *fnode, w []float64, probes int) {
	s := n.s
	if !s.Done() {
		e.proceed(s, w, probes, n.rounds, n.slow, n.fragged)
		return
	}
	// Ordinary traffic at the estimate: a detector reacts on the path
	// MTUs below it, each in its own way.
	est := s.Estimate()
	var below []int // distinct path MTUs below the estimate
	if _, ok := s.(plpmtud.BlackHoleDetector); ok {
		for j, x := range w {
			if m := e.p.pmtuAfter(e.pm0[j], probes); x != 0 && m < est && !slices.Contains(below, m) {
				below = append(below, m)
			}
		}
	}
	if len(below) == 0 {
		e.terminal(Outcome{Est: est, Probes: probes, Rounds: n.rounds, Slow: n.slow, Capped: s.Capped()}, probes, w)
		return
	}
	rest := e.vec()
	for j, x := range w {
		if e.p.pmtuAfter(e.pm0[j], probes) >= est {
			rest[j] = x
		}
	}
	e.terminal(Outcome{Est: est, Probes: probes, Rounds: n.rounds, Slow: n.slow, Capped: s.Capped()}, probes, rest)
	for g, m := range below {
		c := s
		if g < len(below)-1 {
			c = s.Clone()
		}
		wm := e.vec()
		for j, x := range w {
			if e.p.pmtuAfter(e.pm0[j], probes) == m {
				wm[j] = x
			}
		}
		k := afterDone(c, m, 0, e.p.pto)
		rounds, slow := n.rounds+k, n.slow+k
		if c.Done() || rounds >= simCap {
			e.terminal(Outcome{Est: c.Estimate(), Probes: probes, Rounds: rounds, Slow: slow, Capped: !c.Done() || c.Capped()}, probes, wm)
			continue
		}
		e.proceed(c, wm, probes, rounds, slow, n.fragged)
	}
}

// proceed plans s's next round and adds its children.
func (e *exactRun) proceed(s plpmtud.Strategy, w []float64, probes, rounds, slow int, fragged bool) {
	p := e.p
	e.sizes = plan(s, 0, e.sizes)
	if len(e.sizes) == 0 || probes+len(e.sizes) > simCap || rounds >= simCap {
		capped := !s.Done() || len(e.sizes) > 0 || s.Capped()
		e.terminal(Outcome{Est: s.Estimate(), Probes: probes, Rounds: rounds, Slow: slow, Capped: capped}, probes, w)
		return
	}
	var buf [4]fate
	for i, sz := range e.sizes {
		bs := e.br[i][:0]
		for j, x := range w {
			if x == 0 {
				continue
			}
			for _, f := range p.fates(sz, p.pmtuAfter(e.pm0[j], probes), buf[:0]) {
				b := -1
				for t := range bs {
					if bs[t].fate.kind == f.kind && bs[t].fate.mtu == f.mtu {
						b = t
						break
					}
				}
				if b < 0 {
					b = len(bs)
					bs = append(bs, branch{fate{f.kind, f.mtu, 0}, e.vec()})
				}
				bs[b].w[j] += f.p
			}
		}
		e.br[i] = bs
	}
	e.n = probes + len(e.sizes)
	e.rounds, e.slow, e.fragged = rounds, slow, fragged
	e.pending = false
	copy(e.pre[0], w)
	e.walk(0, s)
	if e.pending {
		e.leaf(s, e.pendR[:len(e.sizes)], e.pendW)
	}
}

// walk chooses the fate of probe i of the round, skipping fates that no
// path MTU of the group can have; at the end of the round the previous
// complete round gets a copy of s, and this one waits, so that the last
// gets s itself.
func (e *exactRun) walk(i int, s plpmtud.Strategy) {
	if i == len(e.sizes) {
		if e.pending {
			e.leaf(s.Clone(), e.pendR[:len(e.sizes)], e.pendW)
		}
		copy(e.pendR, e.round[:len(e.sizes)])
		copy(e.pendW, e.pre[i])
		e.pending = true
		return
	}
	for _, b := range e.br[i] {
		q, nz := e.pre[i+1], false
		for j, x := range e.pre[i] {
			q[j] = x * b.w[j]
			nz = nz || q[j] != 0
		}
		if !nz {
			continue
		}
		e.round[i] = probe{e.sizes[i], b.fate}
		e.walk(i+1, s)
	}
}

// leaf delivers a round's fates to child and adds it, split by path MTU
// where what follows depends on it.
func (e *exactRun) leaf(child plpmtud.Strategy, round []probe, w []float64) {
	order := e.order[:len(round)]
	copy(order, round)
	sl := 0
	if deliver(child, order, 0) {
		sl = 1
	}
	q := e.vec()
	copy(q, w)
	if bd, ok := child.(plpmtud.BlackHoleDetector); ok && !child.Done() {
		// Traffic at the estimate is lost on the path MTUs below it.
		est := child.Estimate()
		lossy := e.vec()
		for j, x := range q {
			if x != 0 && e.p.pmtuAfter(e.pm0[j], e.n) < est {
				lossy[j], q[j] = x, 0
			}
		}
		if nonzero(lossy) {
			if nonzero(q) {
				e.afterRound(child.Clone(), sl, q)
			}
			bd.OnTrafficLoss(est, 0)
			e.afterRound(child, sl, lossy)
			return
		}
	}
	e.afterRound(child, sl, q)
}

// afterRound adds child, or after a round with a lost probe, sends the
// packet without DF once: one more probe and round; back with its
// fragments (a hint that depends on the path MTU), or lost (a probe
// timeout).
func (e *exactRun) afterRound(child plpmtud.Strategy, sl int, w []float64) {
	p := e.p
	h, ok := child.(plpmtud.Hinter)
	if !ok || sl == 0 || e.fragged || p.Path.Frag == 0 || child.Done() {
		e.add(child, e.n, e.rounds+1, e.slow+sl, e.fragged, w)
		return
	}
	odds := p.fragOdds()
	lost := child.Clone()
	var wins [][2]int
	for j, x := range w {
		if x == 0 {
			continue
		}
		lo, hi := p.fragWindow(p.pmtuAfter(e.pm0[j], e.n+1))
		if !slices.Contains(wins, [2]int{lo, hi}) {
			wins = append(wins, [2]int{lo, hi})
		}
	}
	for g, win := range wins {
		c, hc := child, h
		if g < len(wins)-1 {
			c = child.Clone()
			hc = c.(plpmtud.Hinter)
		}
		wg := e.vec()
		for j, x := range w {
			if x == 0 {
				continue
			}
			if lo, hi := p.fragWindow(p.pmtuAfter(e.pm0[j], e.n+1)); lo == win[0] && hi == win[1] {
				wg[j] = x * odds
			}
		}
		hc.Hint(win[0], win[1])
		e.add(c, e.n+1, e.rounds+2, e.slow+sl, true, wg)
	}
	wl := e.vec()
	for j, x := range w {
		wl[j] = x * (1 - odds)
	}
	e.add(lost, e.n+1, e.rounds+2, e.slow+sl+1, true, wl)
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
