package plpmtud

import "time"

// Paths rarely change, so a prober that watches a path all the time (the
// exporter) remembers its last answer K and, on the next run, checks it
// before searching: one round of two probes, K and K+ΔS (ΔS the precision
// of the wrapped strategy: 1 for mtukit), sent together.
//
//   - K acknowledged and K+ΔS lost, or refused by a PTB: the path is as it
//     was; the answer is K, for two probes. (K = Max: one probe.)
//   - K+ΔS acknowledged: the path grew; the wrapped strategy searches
//     [K+ΔS, Max], taking K+ΔS as its proven minimum.
//   - K lost (or refused) and K+ΔS not acknowledged: the path shrank, or a
//     probe was lost at random; the wrapped strategy searches the whole
//     [Min, Max] afresh, so loss can cost probes but never the answer.
//
// The revalidation is a Strategy like any other (Config.Known selects it in
// New), so the simulator and the prober run the same code.

// Revalidator is implemented by the strategies New returns for a Config
// with Known set.
type Revalidator interface {
	// Revalidated reports that the remembered answer was confirmed by the
	// first round, without a search.
	Revalidated() bool
}

// Revalidated reports whether s confirmed its remembered answer without a
// search (false for strategies built without Config.Known).
func Revalidated(s Strategy) bool {
	r, ok := s.(Revalidator)
	return ok && r.Revalidated()
}

// Phases of a revalidation.
const (
	rvCheck  uint8 = iota // the first round: known and known+step
	rvSteady              // confirmed: done, the estimate is known
	rvUp                  // the path grew: the search from known+step runs
	rvFull                // changed or unsure: the full search runs
)

// Outcomes of the two check probes.
const (
	rvPending uint8 = iota
	rvAck
	rvGone // lost, or refused by a PTB
)

type revalidate struct {
	min, max    int
	known, up   int // the two check sizes; up = 0 when known = max
	phase       uint8
	handed      uint8    // check probes handed out (0..2)
	out         [2]uint8 // outcomes of known and up
	tries       int      // traffic losses before the estimate counts as gone
	traffic     int
	full, upper Strategy // the wrapped search over [min, max] and [up, max]
}

// revalidateHint is revalidate for wrapped strategies that take hints.
type revalidateHint struct{ *revalidate }

func newRevalidate(i Info, c Config) (Strategy, error) {
	known := min(max(c.Known, c.Min), c.Max)
	c.Known = 0
	full, err := i.new(c)
	if err != nil {
		return nil, err
	}
	step := c.Step
	if i.Model || step <= 0 {
		step = i.NativeStep
	}
	step = max(step, 1)
	r := &revalidate{min: c.Min, max: c.Max, known: known, tries: c.maxProbes(3), full: full}
	if known < c.Max {
		r.up = min(known+step, c.Max)
		cu := c
		cu.Min = r.up
		if r.upper, err = i.new(cu); err != nil {
			return nil, err
		}
	}
	if _, ok := full.(Hinter); ok {
		return revalidateHint{r}, nil
	}
	return r, nil
}

// active is the wrapped search that runs, or nil while checking or steady.
func (r *revalidate) active() Strategy {
	switch r.phase {
	case rvUp:
		return r.upper
	case rvFull:
		return r.full
	}
	return nil
}

func (r *revalidate) checks() uint8 {
	if r.up == 0 {
		return 1
	}
	return 2
}

func (r *revalidate) Next(now time.Duration) (int, bool) {
	if a := r.active(); a != nil {
		return a.Next(now)
	}
	if r.phase != rvCheck || r.handed == r.checks() {
		return 0, false
	}
	r.handed++
	if r.handed == 1 {
		return r.known, true
	}
	return r.up, true
}

// which is the check probe a size reports on: 0 known, 1 up, -1 neither
// (or no longer checking).
func (r *revalidate) which(size int) int {
	if r.phase != rvCheck {
		return -1
	}
	switch {
	case size == r.known && r.handed >= 1 && r.out[0] == rvPending:
		return 0
	case r.up != 0 && size == r.up && r.handed >= 2 && r.out[1] == rvPending:
		return 1
	}
	return -1
}

// decide moves on once every check probe has an outcome.
func (r *revalidate) decide() {
	if r.out[0] == rvPending || (r.up != 0 && r.out[1] == rvPending) {
		return
	}
	switch {
	case r.up != 0 && r.out[1] == rvAck:
		if r.up >= r.max {
			r.phase = rvSteady // grew to Max: nothing above to search
			return
		}
		r.phase = rvUp
	case r.out[0] == rvAck:
		r.phase = rvSteady
	default:
		r.phase = rvFull
	}
}

func (r *revalidate) OnAck(size int, now time.Duration) {
	if a := r.active(); a != nil {
		a.OnAck(size, now)
		return
	}
	if i := r.which(size); i >= 0 {
		r.out[i] = rvAck
		r.decide()
	}
}

func (r *revalidate) OnLoss(size int, now time.Duration) {
	if a := r.active(); a != nil {
		a.OnLoss(size, now)
		return
	}
	if i := r.which(size); i >= 0 {
		r.out[i] = rvGone
		r.decide()
	}
}

func (r *revalidate) OnPTB(size, mtu int, now time.Duration) {
	if a := r.active(); a != nil {
		a.OnPTB(size, mtu, now)
		return
	}
	// A PTB ends its probe whatever it reports (a lying one can only make
	// the full search run).
	if i := r.which(size); i >= 0 {
		r.out[i] = rvGone
		r.decide()
	}
}

// OnTrafficLoss: once the revalidated estimate is lost MaxProbes times in
// ordinary traffic, the path shrank: the full search runs (RFC 8899 §4.3).
func (r *revalidate) OnTrafficLoss(size int, now time.Duration) {
	if a := r.active(); a != nil {
		if bd, ok := a.(BlackHoleDetector); ok {
			bd.OnTrafficLoss(size, now)
		}
		return
	}
	if r.phase != rvSteady || size < r.Estimate() {
		return
	}
	r.traffic++
	if r.traffic >= r.tries {
		r.phase = rvFull
	}
}

// Hint goes to the running search; the check ignores it.
func (r revalidateHint) Hint(lo, hi int) {
	if a := r.active(); a != nil {
		a.(Hinter).Hint(lo, hi)
	}
}

func (r *revalidate) Estimate() int {
	switch {
	case r.active() != nil:
		return r.active().Estimate()
	case r.phase == rvSteady && r.up != 0 && r.out[1] == rvAck:
		return r.up
	case r.out[0] == rvAck:
		return r.known
	}
	return r.min
}

func (r *revalidate) Done() bool {
	if a := r.active(); a != nil {
		return a.Done()
	}
	return r.phase == rvSteady
}

func (r *revalidate) State() State {
	if a := r.active(); a != nil {
		return a.State()
	}
	if r.phase == rvSteady {
		return SearchComplete
	}
	return Searching
}

// Bound is the check round plus the larger of the two searches.
func (r *revalidate) Bound() int {
	b := r.full.Bound()
	if r.upper != nil {
		b = max(b, r.upper.Bound())
	}
	return int(r.checks()) + b
}

func (r *revalidate) Capped() bool {
	if a := r.active(); a != nil {
		return a.Capped()
	}
	return false
}

func (r *revalidate) Revalidated() bool { return r.phase == rvSteady }

func (r *revalidate) Reset() {
	r.phase, r.handed, r.out, r.traffic = rvCheck, 0, [2]uint8{}, 0
	r.full.Reset()
	if r.upper != nil {
		r.upper.Reset()
	}
}

func (r *revalidate) clone() *revalidate {
	c := *r
	c.full = r.full.Clone()
	if r.upper != nil {
		c.upper = r.upper.Clone()
	}
	return &c
}

func (r *revalidate) Clone() Strategy    { return r.clone() }
func (r revalidateHint) Clone() Strategy { return revalidateHint{r.clone()} }

// rvKey is revalidate's Key: its own state and the running search's.
type rvKey struct {
	known, up, traffic int
	phase, handed      uint8
	out                [2]uint8
	inner              any
}

func (r *revalidate) Key() any {
	k := rvKey{known: r.known, up: r.up, traffic: r.traffic, phase: r.phase, handed: r.handed, out: r.out}
	if a := r.active(); a != nil {
		k.inner = a.Key()
	}
	return k
}
