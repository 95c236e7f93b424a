package exporter

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// slots bounds the probes running at once.
type slots chan struct{}

func (s slots) acquire(ctx context.Context) bool {
	select {
	case s <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s slots) release() { <-s }

// paths allows one search per destination address at a time: the kernel
// keeps one path MTU per destination, and two searches towards it would
// disturb each other (and double the rate the target sees). Entries live
// only while a search holds or waits for them, so the map is bounded by
// the requests in progress.
type paths struct {
	mu sync.Mutex
	m  map[netip.Addr]*pathLock
}

type pathLock struct {
	ch    chan struct{}
	users int
}

func (p *paths) acquire(ctx context.Context, a netip.Addr) bool {
	p.mu.Lock()
	if p.m == nil {
		p.m = map[netip.Addr]*pathLock{}
	}
	l := p.m[a]
	if l == nil {
		l = &pathLock{ch: make(chan struct{}, 1)}
		p.m[a] = l
	}
	l.users++
	p.mu.Unlock()
	select {
	case l.ch <- struct{}{}:
		return true
	case <-ctx.Done():
		p.drop(a, l)
		return false
	}
}

func (p *paths) release(a netip.Addr) {
	p.mu.Lock()
	l := p.m[a]
	p.mu.Unlock()
	<-l.ch
	p.drop(a, l)
}

func (p *paths) drop(a netip.Addr, l *pathLock) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l.users--
	if l.users == 0 {
		delete(p.m, a)
	}
}

// pacer bounds the probes the exporter sends per second in total. A
// search's length is known only at its end, so the pacer runs on debt: a
// search may start while the bucket is not empty, reserving the two probes
// a re-validation costs, and pays the rest when it ends. Over any window
// the exporter sends at most rate x window + burst + what the searches in
// flight have not paid yet (at most the concurrency times one search's
// bound), and an exporter over its budget delays new searches, never cuts
// a running one.
type pacer struct {
	mu     sync.Mutex
	rate   float64 // tokens per second; 0: no limit
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newPacer(rate float64, burst int) *pacer {
	return &pacer{rate: rate, burst: float64(max(burst, 1)), tokens: float64(max(burst, 1)), now: time.Now}
}

// reserve is the charge taken when a search starts.
const reserve = 2

// start waits until the bucket is not in debt, then takes the reserve.
func (p *pacer) start(ctx context.Context) bool {
	if p.rate <= 0 {
		return true
	}
	for {
		p.mu.Lock()
		p.refill()
		if p.tokens >= 0 {
			p.tokens -= reserve
			p.mu.Unlock()
			return true
		}
		wait := time.Duration(-p.tokens / p.rate * float64(time.Second))
		p.mu.Unlock()
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		}
	}
}

// done pays for the probes a search sent beyond the reserve (or gives
// back what it did not use).
func (p *pacer) done(sent int) {
	if p.rate <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refill()
	p.tokens = min(p.burst, p.tokens-float64(sent-reserve))
}

func (p *pacer) refill() {
	t := p.now()
	if !p.last.IsZero() {
		p.tokens = min(p.burst, p.tokens+t.Sub(p.last).Seconds()*p.rate)
	}
	p.last = t
}
