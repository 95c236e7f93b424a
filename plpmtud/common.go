package plpmtud

// common is the bookkeeping every strategy shares: the search range, the
// probe budget, the probe in flight and the RFC 8899 state. It holds only
// comparable fields so that a strategy's Key can be its own value.
type common struct {
	min, max int
	sent     int // probes handed out by Next
	bound    int // the most probes this search may send (Bound)
	inflight int // probes handed out and not yet resolved
	done     bool
	capped   bool // stopped by the budget rather than by the algorithm
	state    State
}

func newCommon(c Config, bound int) common {
	return common{min: c.Min, max: c.Max, bound: bound}
}

// reset returns the bookkeeping to its initial state, keeping the range
// and the budget.
func (c *common) reset() {
	*c = common{min: c.min, max: c.max, bound: c.bound}
}

// ready reports whether a one-at-a-time strategy may send a probe now. A
// search that has used its budget stops here, so Bound always holds.
func (c *common) ready() bool {
	if c.done || c.inflight > 0 {
		return false
	}
	if c.sent >= c.bound {
		c.finish()
		c.capped = true
		return false
	}
	return true
}

// send records a probe handed out.
func (c *common) send(size int) (int, bool) {
	c.sent++
	c.inflight++
	return size, true
}

// resolve records the outcome of a probe; it reports false for an outcome
// with no probe in flight, which strategies ignore.
func (c *common) resolve() bool {
	if c.inflight == 0 {
		return false
	}
	c.inflight--
	return true
}

func (c *common) finish() {
	c.done = true
	if c.state != Error {
		c.state = SearchComplete
	}
}

func (c *common) Done() bool   { return c.done }
func (c *common) State() State { return c.state }
func (c *common) Bound() int   { return c.bound }

func (c *common) Capped() bool { return c.capped }

// validPTB reports whether a PTB reporting mtu for a probe of size can be
// believed at all: RFC 8899 §4.6.2 ignores a reported MTU below the
// minimum or not smaller than the probe it quotes.
func (c *common) validPTB(size, mtu int) bool {
	return mtu >= c.min && mtu < size
}
