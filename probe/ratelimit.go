package probe

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

// limiter is a per-source token bucket over a fixed table: memory is
// bounded whatever the number of sources (sources whose hash collides share
// a bucket, which only makes the limit stricter for them). IPv6 sources are
// grouped by /64, since one host owns a whole /64.
type limiter struct {
	mu      sync.Mutex
	seed    maphash.Seed
	rate    float64 // tokens per second
	burst   float64
	buckets []bucket
}

type bucket struct {
	tokens float64
	last   time.Time
	used   bool
}

func newLimiter(rate float64, burst int, slots int) *limiter {
	if slots <= 0 {
		slots = 4096
	}
	return &limiter{seed: maphash.MakeSeed(), rate: rate, burst: float64(max(burst, 1)), buckets: make([]bucket, slots)}
}

// allow takes a token from src's bucket at now.
func (l *limiter) allow(src netip.Addr, now time.Time) bool {
	if l == nil || l.rate <= 0 {
		return true
	}
	src = src.Unmap()
	if src.Is6() {
		p, _ := src.Prefix(64)
		src = p.Addr()
	}
	b16 := src.As16()
	i := maphash.Bytes(l.seed, b16[:]) % uint64(len(l.buckets))
	l.mu.Lock()
	defer l.mu.Unlock()
	b := &l.buckets[i]
	if !b.used {
		*b = bucket{tokens: l.burst, last: now, used: true}
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(l.burst, b.tokens+dt*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
