package exporter

import (
	"net/netip"
	"sync"

	"github.com/mtukit/mtukit/probe"
)

// memKey is one remembered path: a module (the configuration's, shared)
// towards an address.
type memKey struct {
	addr   netip.Addr
	module *Module
}

// memEntry is what is remembered: 4 bytes and a flag, so the map stays
// small (see BenchmarkMemoryPerTarget).
type memEntry struct {
	pmtu      uint16
	blackhole bool
	used      bool // read since the clock hand last passed (second chance)
}

// memory keeps the last answer per (module, address), at most max of them.
// When full, a CLOCK sweep evicts an answer that was not used since the
// hand last passed, so targets that Prometheus still scrapes stay and
// forgotten ones go; memory is bounded whatever the targets requested.
type memory struct {
	mu   sync.Mutex
	max  int
	m    map[memKey]memEntry
	ring []memKey // insertion order; once full, ring[hand] is the next candidate
	hand int
}

func newMemory(max int) *memory {
	return &memory{max: max, m: make(map[memKey]memEntry)}
}

// get returns the remembered answer for k (zero Prior: none).
func (mm *memory) get(k memKey) probe.Prior {
	if mm == nil || mm.max <= 0 {
		return probe.Prior{}
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	e, ok := mm.m[k]
	if !ok {
		return probe.Prior{}
	}
	if !e.used {
		e.used = true
		mm.m[k] = e
	}
	return probe.Prior{PMTU: int(e.pmtu), Blackhole: e.blackhole}
}

// put remembers p for k.
func (mm *memory) put(k memKey, p probe.Prior) {
	if mm == nil || mm.max <= 0 || p.PMTU <= 0 || p.PMTU > 65535 {
		return
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	e := memEntry{pmtu: uint16(p.PMTU), blackhole: p.Blackhole, used: true}
	if _, ok := mm.m[k]; ok {
		mm.m[k] = e
		return
	}
	if len(mm.ring) < mm.max {
		mm.ring = append(mm.ring, k)
		mm.m[k] = e
		return
	}
	// Full: advance the hand past answers used since its last pass
	// (clearing their mark), evict the first that was not. At most one
	// full turn plus one: after a turn every mark is clear.
	for range mm.max + 1 {
		old := mm.ring[mm.hand]
		oe := mm.m[old]
		if oe.used {
			oe.used = false
			mm.m[old] = oe
			mm.hand = (mm.hand + 1) % mm.max
			continue
		}
		delete(mm.m, old)
		mm.ring[mm.hand] = k
		mm.m[k] = e
		mm.hand = (mm.hand + 1) % mm.max
		return
	}
}

// len is the number of remembered answers.
func (mm *memory) len() int {
	if mm == nil {
		return 0
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return len(mm.m)
}
