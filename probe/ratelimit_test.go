package probe

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestLimiterTotal: sources that each stay within their own limit (as
// spoofed ones do, one request each) are held to the total bucket; the
// per-source limit still holds under it, and a refused request takes no
// token from either bucket.
func TestLimiterTotal(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	src := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	count := func(l *limiter, n int, at time.Time, from func(int) netip.Addr) map[verdict]int {
		got := map[verdict]int{}
		for i := range n {
			got[l.take(from(i), at)]++
		}
		return got
	}
	for _, tc := range []struct {
		name string
		lim  *limiter
		n    int
		at   time.Duration
		from func(int) netip.Addr
		want map[verdict]int
	}{
		// before the total bucket, 10000 spoofed sources got 10000 replies
		{"spoofed, no total", newLimiter(200, 100, 4096), 10000, 0, src, map[verdict]int{allowed: 10000}},
		{"spoofed", newLimiter(200, 100, 4096).withTotal(2000, 1000), 10000, 0, src, map[verdict]int{allowed: 1000, totalLimited: 9000}},
		{"one source", newLimiter(200, 100, 4096).withTotal(2000, 1000), 150, 0, func(int) netip.Addr { return src(1) }, map[verdict]int{allowed: 100, sourceLimited: 50}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := count(tc.lim, tc.n, t0, tc.from)
			if len(got) != len(tc.want) {
				t.Fatalf("verdicts %v, want %v", got, tc.want)
			}
			for v, n := range tc.want {
				if got[v] != n {
					t.Fatalf("verdicts %v, want %v", got, tc.want)
				}
			}
		})
	}
	// the total bucket refills at its rate: 100 ms later, 200 more
	l := newLimiter(200, 100, 4096).withTotal(2000, 1000)
	count(l, 1000, t0, src)
	if got := count(l, 1000, t0.Add(100*time.Millisecond), func(i int) netip.Addr { return src(5000 + i) }); got[allowed] != 200 || got[totalLimited] != 800 {
		t.Errorf("100 ms later: %v, want 200 allowed, 800 refused by the total limit", got)
	}
}

// TestResponderSpoofedSources: on loopback, 60 sources (127.0.0.2-61) send
// one probe each; with a total bucket of 20 (1 per second) the responder
// answers 20 of them (21 if a second passes) and counts the rest as refused
// by the total limit.
func TestResponderSpoofedSources(t *testing.T) {
	r := &Responder{Listen: netip.MustParseAddrPort("127.0.0.1:0"), TotalRate: 1, TotalBurst: 20}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	addr := r.Addr()
	if !addr.IsValid() {
		t.Skip("responder did not start (not supported on this system)")
	}
	probe := make([]byte, 100)
	Encode(probe, Msg{Type: typeProbe, Size: 128, Seq: 1, Nonce: 1}, nil)
	var conns []*net.UDPConn
	for i := range 60 {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i)}), 0)))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for _, c := range conns {
		if _, err := c.WriteToUDPAddrPort(probe, addr); err != nil {
			t.Fatal(err)
		}
	}
	acks := 0
	buf := make([]byte, 200)
	deadline := time.Now().Add(300 * time.Millisecond)
	for _, c := range conns {
		c.SetReadDeadline(deadline)
		if _, _, err := c.ReadFromUDPAddrPort(buf); err == nil {
			acks++
		}
	}
	s := r.Stats()
	if acks < 20 || acks > 21 || s.UDPAcked != int64(acks) || s.TotalLimited != int64(60-acks) || s.SourceLimited != 0 || s.UDPIn != 60 {
		t.Fatalf("%d acknowledgements, stats %+v; want 20 (or 21), the other probes refused by the total limit", acks, s)
	}
}
