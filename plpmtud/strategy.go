package plpmtud

import (
	"fmt"
	"math/bits"
	"sort"
	"time"
)

// Strategy is a path MTU search: a deterministic state machine driven by
// probe outcomes. See the package documentation for the driving contract.
type Strategy interface {
	// Next returns the size of a probe to send now. ok is false when the
	// strategy wants nothing sent: it is done, or it waits for the outcome
	// of probes in flight. Strategies that probe in parallel return several
	// sizes from successive calls before any outcome is reported.
	Next(now time.Duration) (size int, ok bool)
	// OnAck reports that the probe of this size was acknowledged.
	OnAck(size int, now time.Duration)
	// OnLoss reports that the probe of this size timed out.
	OnLoss(size int, now time.Duration)
	// OnPTB reports a Packet Too Big that quotes the probe of this size
	// (validated by the caller, RFC 8899 §4.6.1) and reports mtu. It ends
	// that probe: no OnAck or OnLoss follows for it.
	OnPTB(size, mtu int, now time.Duration)
	// Estimate is the current PLPMTU: the largest size the strategy
	// believes the path carries (never more than the largest acknowledged
	// probe or Min).
	Estimate() int
	// Done reports that the search has finished.
	Done() bool
	// State is the RFC 8899 state the strategy is in.
	State() State
	// Bound is the most probes this search sends, whatever the outcomes.
	Bound() int
	// Capped reports that the search stopped because it reached Bound, not
	// by its own rule (heavy loss, or forged PTBs forcing restarts).
	Capped() bool
	// Reset returns the strategy to its initial state without allocating.
	Reset()
	// Clone returns an independent copy in the same state.
	Clone() Strategy
	// Key is a comparable value that is equal for two strategies of the
	// same kind exactly when they will behave identically from now on;
	// the exact simulator memoizes on it.
	Key() any
}

// BlackHoleDetector is implemented by strategies that react, as RFC 8899
// §4.3 asks, when ordinary packets of the current PLPMTU are lost (the path
// shrank below the estimate). The driver calls OnTrafficLoss once per
// round in which a packet of size Estimate() was lost.
type BlackHoleDetector interface {
	OnTrafficLoss(size int, now time.Duration)
}

// Hinter is implemented by strategies that can use a measurement made
// outside the search, such as the sizes of the fragments an IPv4 router cut
// from an packet sent without DF: Hint says the path MTU is likely in
// [lo, hi]. A hint is never proof: it steers the probes, and the estimate
// still moves only on acknowledged probes and stops only on lost ones.
type Hinter interface {
	Hint(lo, hi int)
}

// State is the DPLPMTUD state of RFC 8899 §5.2.
type State uint8

const (
	Base           State = iota // confirming that Min works
	Searching                   // probing for a larger PLPMTU
	SearchComplete              // finished; the estimate is the answer
	Error                       // even Min is not confirmed
)

func (s State) String() string {
	switch s {
	case Base:
		return "BASE"
	case Searching:
		return "SEARCHING"
	case SearchComplete:
		return "SEARCH_COMPLETE"
	case Error:
		return "ERROR"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Config parameterises a strategy. Sizes are IP packet sizes in bytes: what
// counts against a link MTU. Zero fields take the strategy's default.
type Config struct {
	// Min is the size known (or assumed) to work: RFC 8899's BASE_PLPMTU.
	// Strategies that confirm it (rfc8899, linear, the SCTP models) spend a
	// probe on it; the others take it for granted, as QUIC does after its
	// handshake.
	Min int
	// Max is the largest size worth probing (the local interface MTU, or
	// the peer's limit).
	Max int
	// Step is ΔS: the increment of linear search and the precision at
	// which the binary family stops (an interval narrower than Step).
	// Models of real stacks use their own constant and ignore it.
	Step int
	// MaxProbes is the number of lost probes of one size after which that
	// size counts as too big (RFC 8899 MAX_PROBES).
	MaxProbes int
	// Parallel is the number of probes per round for strategies that can
	// send several at once (mtukit); others send one at a time.
	Parallel int
	// HybridRounds is the number of binary rounds before hybrid turns
	// linear.
	HybridRounds int
	// LossPrior is the random loss rate mtukit assumes when it weighs a
	// loss (0 < LossPrior < 1).
	LossPrior float64
	// Epsilon is mtukit's stopping risk: it stops once the probability
	// that the PMTU is at least Estimate()+Step is below Epsilon.
	Epsilon float64
	// Background is the share of mtukit's prior spread evenly over
	// [Min, Max] rather than on the plateaus (0 < Background <= 1).
	Background float64
	// Plateaus is mtukit's prior; nil means DefaultPlateaus().
	Plateaus []Plateau
	// PTBConfirm is the number of valid PTBs reporting the same MTU that
	// mtukit needs before it takes that MTU as an upper bound (0 means 1,
	// as RFC 8899 §4.6.2 allows for a validated PTB). 2 makes it proof
	// against a lone lying PTB at the price of one probe more on paths
	// that send PTBs; fewer agreeing PTBs only steer its probes.
	PTBConfirm int
	// Known is a remembered answer for this path (0: none): the search
	// first re-validates it with at most two probes, Known and the next
	// size up, and searches as usual only when the path changed
	// (revalidate.go). It is clamped into [Min, Max].
	Known int
}

// Limits on Config sizes: an IPv4 packet is at least 68 bytes (RFC 791) and
// at most 65535.
const (
	MinSize = 68
	MaxSize = 65535
)

func (c Config) validate() error {
	switch {
	case c.Min < MinSize || c.Min > MaxSize:
		return fmt.Errorf("min %d out of range [%d, %d]", c.Min, MinSize, MaxSize)
	case c.Max < c.Min || c.Max > MaxSize:
		return fmt.Errorf("max %d out of range [min %d, %d]", c.Max, c.Min, MaxSize)
	case c.Step < 0 || c.Step > MaxSize:
		return fmt.Errorf("step %d out of range [0, %d]", c.Step, MaxSize)
	case c.MaxProbes < 0 || c.MaxProbes > 16:
		return fmt.Errorf("max probes %d out of range [0, 16]", c.MaxProbes)
	case c.Parallel < 0 || c.Parallel > 8:
		return fmt.Errorf("parallel %d out of range [0, 8]", c.Parallel)
	case c.HybridRounds < 0 || c.HybridRounds > 32:
		return fmt.Errorf("hybrid rounds %d out of range [0, 32]", c.HybridRounds)
	case c.LossPrior < 0 || c.LossPrior >= 1 || c.LossPrior != c.LossPrior:
		return fmt.Errorf("loss prior %g out of range [0, 1)", c.LossPrior)
	case c.Epsilon < 0 || c.Epsilon >= 1 || c.Epsilon != c.Epsilon:
		return fmt.Errorf("epsilon %g out of range [0, 1)", c.Epsilon)
	case c.Known != 0 && (c.Known < MinSize || c.Known > MaxSize):
		return fmt.Errorf("known %d out of range [%d, %d]", c.Known, MinSize, MaxSize)
	case c.PTBConfirm < 0 || c.PTBConfirm > 8:
		return fmt.Errorf("ptb confirm %d out of range [0, 8]", c.PTBConfirm)
	case c.Background < 0 || c.Background > 1 || c.Background != c.Background:
		return fmt.Errorf("background %g out of range [0, 1]", c.Background)
	}
	for _, p := range c.Plateaus {
		if p.MTU < MinSize || p.MTU > MaxSize || !(p.Weight >= 0) {
			return fmt.Errorf("plateau %d (weight %g) invalid", p.MTU, p.Weight)
		}
	}
	return nil
}

func (c Config) step(def int) int {
	if c.Step > 0 {
		return c.Step
	}
	return def
}

func (c Config) maxProbes(def int) int {
	if c.MaxProbes > 0 {
		return c.MaxProbes
	}
	return def
}

// Info describes a registered strategy.
type Info struct {
	Name    string
	Summary string
	// Model is true for models of real stacks, whose constants come from
	// their source and ignore Config.Step and Config.MaxProbes.
	Model bool
	// NativeStep is the precision the strategy works to when Config.Step
	// is zero (for models: always).
	NativeStep int
	// PacingRTTs is the least time between two probes, in RTTs, that the
	// modelled stack waits (quic-go sends a probe every 5 RTTs); 0 for none.
	PacingRTTs float64
	new        func(Config) (Strategy, error)
}

var registry = map[string]Info{}

func register(i Info) {
	if _, dup := registry[i.Name]; dup {
		panic("plpmtud: duplicate strategy " + i.Name)
	}
	registry[i.Name] = i
}

// Default is the strategy mtukit uses unless told otherwise.
const Default = "mtukit"

// Names lists the registered strategies: mtukit's own first, then the
// textbook searches, then the models of real stacks, each group sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	rank := func(n string) int {
		switch {
		case n == Default:
			return 0
		case !registry[n].Model:
			return 1
		}
		return 2
	}
	sort.Slice(names, func(a, b int) bool {
		ra, rb := rank(names[a]), rank(names[b])
		if ra != rb {
			return ra < rb
		}
		return names[a] < names[b]
	})
	return names
}

// Lookup returns the description of a registered strategy.
func Lookup(name string) (Info, bool) {
	i, ok := registry[name]
	return i, ok
}

// New builds the named strategy. Zero Config fields take the strategy's
// defaults; Min and Max are required.
func New(name string, cfg Config) (Strategy, error) {
	i, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown strategy %q (known: %v)", name, Names())
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Known != 0 {
		return newRevalidate(i, cfg)
	}
	return i.new(cfg)
}

// log2ceil is ceil(log2 n) for n >= 1.
func log2ceil(n int) int {
	if n <= 1 {
		return 0
	}
	return bits.Len(uint(n - 1))
}

// bisectBound is the most probes a one-try bisection of a half-open
// interval of length n needs to shrink it to at most stop.
func bisectBound(n, stop int) int {
	if stop < 1 {
		stop = 1
	}
	k := 0
	for n > stop {
		n = (n + 1) / 2
		k++
	}
	return k
}
