package capture

import (
	"math/rand/v2"
	"testing"
)

// TestFlowTable checks the open-addressing table against a Go map under
// random inserts, lookups and deletions, with hashes forced to collide so
// that probe runs wrap around the end of the table and deletions shift
// entries back.
func TestFlowTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var tab flowTable
	tab.init()
	live := map[uint32]*flow{}
	mk := func(id uint32) *flow {
		f := &flow{}
		f.key.fam = 4
		f.key.a[0], f.key.a[1], f.key.a[2], f.key.a[3] = 10, byte(id>>16), byte(id>>8), byte(id)
		f.key.pa, f.key.pb = uint16(id), 80
		// few distinct hashes, many near the end of the table
		f.hash = uint64(1020 + rng.IntN(12))
		return f
	}
	get := func(f *flow) *flow {
		k := &f.key
		g, di := tab.get(f.hash, k.fam, &k.a, &k.b, k.pa, k.pb)
		if g != nil && di != 0 {
			t.Fatalf("direction %d for a packet from a", di)
		}
		// and the reply direction
		if r, di := tab.get(f.hash, k.fam, &k.b, &k.a, k.pb, k.pa); r != g || (r != nil && di != 1) {
			t.Fatalf("reply lookup differs: %p %d vs %p", r, di, g)
		}
		return g
	}
	for step := range 20000 {
		id := uint32(rng.IntN(300))
		if f, ok := live[id]; ok {
			if get(f) != f {
				t.Fatalf("step %d: flow %d not found", step, id)
			}
			if rng.IntN(2) == 0 {
				tab.remove(f)
				delete(live, id)
				if get(f) != nil {
					t.Fatalf("step %d: flow %d found after removal", step, id)
				}
			}
		} else {
			f := mk(id)
			if get(f) != nil {
				t.Fatalf("step %d: flow %d found before insertion", step, id)
			}
			tab.put(f)
			live[id] = f
		}
		if tab.n != len(live) {
			t.Fatalf("step %d: %d flows in the table, %d live", step, tab.n, len(live))
		}
	}
	for _, f := range live {
		if get(f) != f {
			t.Fatal("a live flow went missing")
		}
	}
	n := 0
	tab.each(func(*flow) { n++ })
	if n != len(live) {
		t.Fatalf("each saw %d flows, want %d", n, len(live))
	}
}
