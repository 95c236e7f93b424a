package capture

import (
	"encoding/binary"
	"math/bits"
)

// flowTable maps a packet's addresses and ports to its TCP flow. It is an
// open-addressing hash table with linear probing, keyed by a hash that is
// the same in both directions, so a packet is looked up without first
// ordering its endpoints into a canonical key (the profile's top cost with
// a Go map on a busy capture).
type flowTable struct {
	slots []slot
	n     int
}

// slot keeps the hash next to the pointer, so a probe that collides does
// not touch the other flow's memory (a cache miss on a busy capture).
type slot struct {
	hash uint64
	f    *flow
}

// Hash mixing constants (from wyhash / splitmix64).
const (
	mixA = 0xa0761d6478bd642f
	mixB = 0xe7037ed1a0b428db
)

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a^mixA, b^mixB)
	return hi ^ lo
}

// endHash hashes one endpoint.
func endHash(addr *[16]byte, port uint16) uint64 {
	w0 := binary.LittleEndian.Uint64(addr[0:8])
	w1 := binary.LittleEndian.Uint64(addr[8:16])
	return mix(w0, w1^uint64(port)<<1)
}

// flowHash is symmetric: the same for a packet and its reply.
func flowHash(fam uint8, src, dst *[16]byte, sp, dp uint16) uint64 {
	return mix(endHash(src, sp)+endHash(dst, dp), uint64(fam))
}

// match reports whether f is the flow of a packet src:sp -> dst:dp and in
// which direction.
func (f *flow) match(fam uint8, src, dst *[16]byte, sp, dp uint16) (int, bool) {
	k := &f.key
	if k.fam != fam {
		return 0, false
	}
	if k.pa == sp && k.pb == dp && k.a == *src && k.b == *dst {
		return 0, true
	}
	if k.pa == dp && k.pb == sp && k.a == *dst && k.b == *src {
		return 1, true
	}
	return 0, false
}

func (t *flowTable) init() { t.slots = make([]slot, 1024) }

// get finds the flow of a packet.
func (t *flowTable) get(h uint64, fam uint8, src, dst *[16]byte, sp, dp uint16) (*flow, int) {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.f == nil {
			return nil, 0
		}
		if s.hash == h {
			if di, ok := s.f.match(fam, src, dst, sp, dp); ok {
				return s.f, di
			}
		}
	}
}

// put inserts a new flow (not present).
func (t *flowTable) put(f *flow) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	t.insert(f)
	t.n++
}

func (t *flowTable) insert(f *flow) {
	mask := uint64(len(t.slots) - 1)
	i := f.hash & mask
	for t.slots[i].f != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = slot{f.hash, f}
}

func (t *flowTable) grow() {
	old := t.slots
	t.slots = make([]slot, 2*len(old))
	for _, s := range old {
		if s.f != nil {
			t.insert(s.f)
		}
	}
}

// remove deletes f, shifting later entries of its probe run back so that
// lookups never stop early (no tombstones).
func (t *flowTable) remove(f *flow) {
	mask := uint64(len(t.slots) - 1)
	i := f.hash & mask
	for t.slots[i].f != f {
		if t.slots[i].f == nil {
			return
		}
		i = (i + 1) & mask
	}
	t.slots[i] = slot{}
	t.n--
	for j := (i + 1) & mask; t.slots[j].f != nil; j = (j + 1) & mask {
		g := t.slots[j]
		home := g.hash & mask
		// g may move to the hole at i if its home is not in (i, j]
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i], t.slots[j] = g, slot{}
			i = j
		}
	}
}

// each calls fn for every flow.
func (t *flowTable) each(fn func(*flow)) {
	for _, s := range t.slots {
		if s.f != nil {
			fn(s.f)
		}
	}
}
