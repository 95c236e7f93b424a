package exporter

import (
	"context"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/mtukit/mtukit/probe"
)

func addrN(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

var testUDP, testICMP = &Module{Method: "udp"}, &Module{Method: "icmp"}

func TestMemoryBoundAndClock(t *testing.T) {
	mm := newMemory(3)
	k := func(i int) memKey { return memKey{addr: addrN(i), module: testUDP} }
	for i := 1; i <= 3; i++ {
		mm.put(k(i), probe.Prior{PMTU: 1400 + i})
	}
	if got := mm.get(k(2)); got.PMTU != 1402 {
		t.Fatalf("get 2: %+v", got)
	}
	// Full: the hand clears every mark (all were set by put), then evicts
	// the oldest, 1.
	mm.put(k(4), probe.Prior{PMTU: 1404, Blackhole: true})
	if mm.len() != 3 || mm.get(k(1)).PMTU != 0 || mm.get(k(4)) != (probe.Prior{PMTU: 1404, Blackhole: true}) {
		t.Fatalf("after 4: len %d, 1=%+v 4=%+v", mm.len(), mm.get(k(1)), mm.get(k(4)))
	}
	// 2 was read just now (and 4); 3 was not: 3 goes next.
	mm.get(k(2))
	mm.put(k(5), probe.Prior{PMTU: 1405})
	if mm.get(k(3)).PMTU != 0 || mm.get(k(2)).PMTU != 1402 || mm.get(k(5)).PMTU != 1405 {
		t.Errorf("after 5: 2=%+v 3=%+v 5=%+v", mm.get(k(2)), mm.get(k(3)), mm.get(k(5)))
	}
	// Updating an entry does not grow the table; modules are apart.
	mm.put(k(5), probe.Prior{PMTU: 1300})
	if mm.len() != 3 || mm.get(k(5)).PMTU != 1300 || mm.get(memKey{addr: addrN(5), module: testICMP}).PMTU != 0 {
		t.Errorf("update: len %d", mm.len())
	}
	// A long run of new targets never grows it past its bound.
	for i := range 1000 {
		mm.put(k(100+i), probe.Prior{PMTU: 1500})
		if mm.len() > 3 {
			t.Fatalf("len %d at %d", mm.len(), i)
		}
	}
	var none *memory
	none.put(k(1), probe.Prior{PMTU: 1500})
	if none.get(k(1)).PMTU != 0 || newMemory(-1).get(k(1)).PMTU != 0 {
		t.Error("a disabled memory remembered")
	}
}

func TestPacer(t *testing.T) {
	now := time.Unix(1000, 0)
	p := newPacer(100, 10) // 100 packets/s, 10 deep
	p.now = func() time.Time { return now }
	ctx := context.Background()
	// The bucket starts full: 5 searches start (reserve 2 each) ...
	for i := range 5 {
		if !p.start(ctx) {
			t.Fatalf("start %d", i)
		}
	}
	// ... and one that sent 20 packets puts it 18 in debt.
	p.done(20)
	if p.tokens != -18 {
		t.Fatalf("tokens %g, want -18", p.tokens)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if p.start(short) {
		t.Fatal("started in debt")
	}
	// 0.18 s later the debt is paid.
	now = now.Add(180 * time.Millisecond)
	if !p.start(ctx) {
		t.Fatal("not started after the debt was paid")
	}
	// Unused reserve is given back, never beyond the burst.
	p.done(0)
	p.done(0)
	now = now.Add(time.Hour)
	p.done(2)
	if p.tokens != 10 {
		t.Errorf("tokens %g, want the burst 10", p.tokens)
	}
	off := newPacer(0, 0)
	for range 1000 {
		if !off.start(ctx) {
			t.Fatal("no limit refused")
		}
	}
}

// BenchmarkMemoryPerTarget measures the bytes the exporter keeps per
// remembered path (module x address) in a full table.
func BenchmarkMemoryPerTarget(b *testing.B) {
	const n = 100000
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		mm := newMemory(n)
		for i := range n {
			mm.put(memKey{addr: addrN(i), module: testUDP}, probe.Prior{PMTU: 1400})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/target")
		runtime.KeepAlive(mm)
	}
}
