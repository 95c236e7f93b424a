//go:build linux

package capture

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/mtukit/mtukit/internal/netlab"
)

// TestLabLiveBlackhole: the black-hole download of TestLabBlackhole,
// watched live on the router's interface toward the server (AF_PACKET,
// with a BPF filter compiled by tcpdump). The blackhole finding arrives
// while the client still waits, long before it gives up, and the report at
// the end has it with the path MTU bounds of the capture-file analysis.
func TestLabLiveBlackhole(t *testing.T) {
	for _, tc := range []struct {
		fam, server string
		hdr         int
	}{{"ipv4", "10.0.2.2", 20 + 32}, {"ipv6", "fd00:2::2", 40 + 32}} {
		t.Run(tc.fam, func(t *testing.T) {
			p := newPath(t, 1400, 0, false)
			p.r.DropPTB()
			var live *Live
			if err := p.r.Do(func() (err error) {
				live, err = OpenLive(p.rs.IfA, LiveOptions{Filter: "tcp or icmp or icmp6"})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer live.Close()

			var mu sync.Mutex
			var evs []Event
			var told []time.Time
			s := NewStream(StreamOptions{Options: Options{Name: p.rs.IfA}}, func(e Event) {
				mu.Lock()
				evs = append(evs, e)
				told = append(told, time.Now())
				mu.Unlock()
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- live.Run(ctx, s, 0, nil) }()

			start := time.Now()
			got := p.downloadFrom(t, netip.MustParseAddr(tc.server), 64<<10, 3500*time.Millisecond)
			gaveUp := time.Now()
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got != 0 {
				t.Errorf("the client received %d body bytes through a black hole", got)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(evs) != 1 || evs[0].Finding.Code != CodeBlackhole {
				t.Fatalf("events %+v, want one blackhole", evs)
			}
			if !told[0].Before(gaveUp) {
				t.Errorf("blackhole told %v after the download started, after the client gave up (%v)", told[0].Sub(start), gaveUp.Sub(start))
			}
			t.Logf("blackhole told %v after the download started; the client gave up after %v", told[0].Sub(start).Round(time.Millisecond), gaveUp.Sub(start).Round(time.Millisecond))
			r := s.Report()
			wantCodes(t, r, CodeBlackhole)
			if r.Format != "live" || r.Summary.PathMTUMax != 1499 || r.Summary.PathMTUMin != 200+tc.hdr {
				t.Errorf("format %q path MTU bounds %d..%d, want live, %d..1499", r.Format, r.Summary.PathMTUMin, r.Summary.PathMTUMax, 200+tc.hdr)
			}
			if st, err := live.Stats(); err != nil || st.Received == 0 || st.Dropped != 0 {
				t.Errorf("socket stats %+v %v: want packets and no drops", st, err)
			}
		})
	}
}

// TestLabLiveLoopback: on lo every packet passes twice (leaving and
// arriving); the live capture keeps one, as tcpdump does: the same count
// as tcpdump -i lo for the same pings, with and without a filter.
func TestLabLiveLoopback(t *testing.T) {
	for _, filter := range []string{"", "icmp"} {
		t.Run("filter="+filter, func(t *testing.T) {
			netlab.Require(t, "tcpdump", "ping")
			h := netlab.New(t).Host("h")
			var live *Live
			if err := h.Do(func() (err error) {
				live, err = OpenLive("lo", LiveOptions{Filter: filter})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer live.Close()
			cap := h.Capture("lo", "icmp", "")
			s := NewStream(StreamOptions{}, func(Event) {})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- live.Run(ctx, s, 0, nil) }()
			if err := h.Ping("127.0.0.1", 3, 56, "-i", "0.2"); err != nil {
				t.Fatal(err)
			}
			n, err := cap.Stop()
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := s.Report(); n != 6 || r.Packets != int64(n) {
				t.Errorf("live capture %d packets, tcpdump %d: want 6 each (3 pings, 3 replies)", r.Packets, n)
			}
		})
	}
}
