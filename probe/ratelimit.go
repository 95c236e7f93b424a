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
//
// A source address is whatever the datagram claims, so per-source buckets
// alone let spoofed sources draw one reply each, as many as the spoofer
// sends (the acknowledgement never outgrows the probe, so this reflects
// rather than amplifies). An optional total bucket, shared by all sources,
// bounds what the responder sends whatever the sources.
type limiter struct {
	mu      sync.Mutex
	seed    maphash.Seed
	rate    float64 // tokens per second
	burst   float64
	buckets []bucket

	totalRate, totalBurst float64 // 0: no total limit
	total                 bucket
}

type bucket struct {
	tokens float64
	last   time.Time
	used   bool
}

// verdict is what the limiter decided for one request.
type verdict uint8

const (
	allowed       verdict = iota
	sourceLimited         // the source's bucket is empty
	totalLimited          // the source had a token, the total bucket not
)

func newLimiter(rate float64, burst int, slots int) *limiter {
	if slots <= 0 {
		slots = 4096
	}
	return &limiter{seed: maphash.MakeSeed(), rate: rate, burst: float64(max(burst, 1)), buckets: make([]bucket, slots)}
}

// withTotal adds the total bucket: rate tokens per second for all sources
// together, burst at most (rate <= 0: none).
func (l *limiter) withTotal(rate float64, burst int) *limiter {
	l.totalRate, l.totalBurst = rate, float64(max(burst, 1))
	return l
}

// refill brings b to now.
func (b *bucket) refill(now time.Time, rate, burst float64) {
	if !b.used {
		*b = bucket{tokens: burst, last: now, used: true}
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(burst, b.tokens+dt*rate)
		b.last = now
	}
}

// allow takes a token from src's bucket at now.
func (l *limiter) allow(src netip.Addr, now time.Time) bool {
	return l.take(src, now) == allowed
}

// take takes a token from src's bucket and one from the total bucket at
// now, both or neither, and says which was empty.
func (l *limiter) take(src netip.Addr, now time.Time) verdict {
	if l == nil || l.rate <= 0 {
		return allowed
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
	b.refill(now, l.rate, l.burst)
	if b.tokens < 1 {
		return sourceLimited
	}
	if l.totalRate > 0 {
		l.total.refill(now, l.totalRate, l.totalBurst)
		if l.total.tokens < 1 {
			return totalLimited
		}
		l.total.tokens--
	}
	b.tokens--
	return allowed
}
