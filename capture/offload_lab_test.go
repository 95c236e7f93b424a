//go:build linux

package capture

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mtukit/mtukit/internal/netlab"
)

// offloadPath is the lab path of lab_test.go with segmentation offloads and
// GRO on at every veth end (on) or off at every one (the default).
func offloadPath(t *testing.T, toClient, toServer int, on bool) *path {
	t.Helper()
	p := newPath(t, toClient, toServer, false)
	if on {
		p.c.OffloadsOn(p.cr.IfA)
		p.r.OffloadsOn(p.cr.IfB)
		p.r.OffloadsOn(p.rs.IfA)
		p.s.OffloadsOn(p.rs.IfB)
	}
	return p
}

// ends is a scenario captured at both ends at once.
type ends struct{ sender, receiver *Report }

// labDownload is a download of body bytes from the server to the client:
// a 100-byte request, a 200-byte header, then the body, read for at most
// wait (a negative wait: not read at all, for -wait); abort, when set,
// resets the connection from the client after it.
func labDownload(t *testing.T, p *path, server netip.Addr, body int, wait, abort time.Duration) int {
	t.Helper()
	return netlab.Download(t, p.c, p.s, server, body, wait, abort)
}

// TestLabOffloadMatrix runs the lab scenarios with offloads (TSO, GSO, GRO)
// on at every veth and again off, capturing the sender and the receiver at
// the same time: the findings (codes and flows, the offload note aside)
// must be the same with and without offloads at each end, and those of
// the MTU scenarios what the scenario is.
func TestLabOffloadMatrix(t *testing.T) {
	netlab.Require(t, "tcpdump", "nft", "ping", "ethtool")
	v4, v6 := netip.MustParseAddr("10.0.2.2"), netip.MustParseAddr("fd00:2::2")
	const filter = "tcp or icmp or icmp6"
	for _, tc := range []struct {
		name               string
		toClient, toServer int
		run                func(t *testing.T, p *path, on bool) ends
	}{
		{"blackhole/ipv4", 1400, 0, func(t *testing.T, p *path, on bool) ends {
			p.r.DropPTB()
			return both(t, p, on, filter, func() {
				if got := labDownload(t, p, v4, 64<<10, 3500*time.Millisecond, 0); got != 0 {
					t.Errorf("the client received %d body bytes through a black hole", got)
				}
			})
		}},
		{"blackhole/ipv6", 1400, 0, func(t *testing.T, p *path, on bool) ends {
			p.r.DropPTB()
			return both(t, p, on, filter, func() { labDownload(t, p, v6, 64<<10, 3500*time.Millisecond, 0) })
		}},
		{"ptb/ipv4", 1400, 0, func(t *testing.T, p *path, on bool) ends {
			return both(t, p, on, filter, func() {
				if got := labDownload(t, p, v4, 256<<10, 5*time.Second, 0); got != 256<<10 {
					t.Errorf("the client received %d of %d bytes", got, 256<<10)
				}
			})
		}},
		{"ptb/ipv6", 1400, 0, func(t *testing.T, p *path, on bool) ends {
			return both(t, p, on, filter, func() { labDownload(t, p, v6, 256<<10, 5*time.Second, 0) })
		}},
		{"clamped", 1400, 0, func(t *testing.T, p *path, on bool) ends {
			p.r.DropPTB()
			p.r.NftRule(netlab.Forward, "tcp flags & (syn | rst) == syn tcp option maxseg size set 1360")
			return both(t, p, on, filter, func() {
				if got := labDownload(t, p, v4, 256<<10, 5*time.Second, 0); got != 256<<10 {
					t.Errorf("the client received %d of %d bytes through the clamp", got, 256<<10)
				}
			})
		}},
		{"fragmenting", 0, 1400, func(t *testing.T, p *path, on bool) ends {
			// pings of 3000 bytes without DF: the client cuts them to its
			// 1500, the router to 1400
			frag := "tcp or icmp or (ip[6:2] & 0x3fff != 0)"
			sc := p.c.Capture(p.cr.IfA, frag, "")
			rc := p.s.Capture(p.rs.IfB, frag, "")
			if err := p.c.Ping("10.0.2.2", 3, 3000, "-M", "dont", "-i", "0.2"); err != nil {
				t.Fatal(err)
			}
			return ends{analyzeLab(t, sc, labName(t, on, "sender")), analyzeLab(t, rc, labName(t, on, "receiver"))}
		}},
		// what is not a black hole must stay so with offloads on
		{"not/zero-window", 0, 0, func(t *testing.T, p *path, on bool) ends {
			p.c.Sysctl("net.ipv4.tcp_rmem", "4096 16384 16384")
			return both(t, p, on, filter, func() {
				labDownload(t, p, v4, 4<<20, -3*time.Second, 0) // window 0, then probes
			})
		}},
		{"not/congestion-loss", 0, 0, func(t *testing.T, p *path, on bool) ends {
			p.r.RandomLoss(netlab.Forward, 3, "ip daddr 10.0.1.1 meta length > 1000")
			return both(t, p, on, filter, func() {
				if got := labDownload(t, p, v4, 2<<20, 10*time.Second, 0); got != 2<<20 {
					t.Errorf("the client received %d of %d bytes", got, 2<<20)
				}
			})
		}},
		{"not/closed-receiver", 1400, 0, func(t *testing.T, p *path, on bool) ends {
			p.r.DropPTB()
			return both(t, p, on, filter, func() { labDownload(t, p, v4, 64<<10, 0, 1700*time.Millisecond) })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want, ok := offloadMatrixWant[tc.name]
			if !ok {
				t.Fatalf("no verdicts in offloadMatrixWant for %s", tc.name)
			}
			var got [2]ends
			for i, on := range []bool{false, true} {
				p := offloadPath(t, tc.toClient, tc.toServer, on)
				got[i] = tc.run(t, p, on)
			}
			if t.Failed() {
				return
			}
			for _, side := range []struct {
				name    string
				want    []string
				off, on *Report
			}{{"sender", want.sender, got[0].sender, got[1].sender}, {"receiver", want.receiver, got[0].receiver, got[1].receiver}} {
				off, on := verdicts(side.off), verdicts(side.on)
				if !slices.Equal(off, side.want) {
					t.Errorf("%s, offloads off: %q, want %q\n%s", side.name, off, side.want, text(side.off))
				}
				if !slices.Equal(on, off) {
					t.Errorf("%s: offloads on %q, off %q\n%s", side.name, on, off, text(side.on))
				}
				if a, b := side.off.Summary, side.on.Summary; a.PathMTU != b.PathMTU || a.PathMTUMin != b.PathMTUMin || a.PathMTUMax != b.PathMTUMax {
					t.Errorf("%s: path MTU off %d (%d..%d), on %d (%d..%d)", side.name, a.PathMTU, a.PathMTUMin, a.PathMTUMax, b.PathMTU, b.PathMTUMin, b.PathMTUMax)
				}
			}
			if tc.name != "fragmenting" && find(got[1].sender, CodeOffload) == nil {
				t.Errorf("sender capture with offloads on has no super-packet: the lab did not turn TSO on\n%s", text(got[1].sender))
			}
		})
	}
}

// both captures the sender (the server's end of its link) and the
// receiver (the client's) while traffic runs.
func both(t *testing.T, p *path, on bool, filter string, traffic func()) ends {
	t.Helper()
	sc := p.s.Capture(p.rs.IfB, filter, "")
	rc := p.c.Capture(p.cr.IfA, filter, "")
	traffic()
	return ends{analyzeLab(t, sc, labName(t, on, "sender")), analyzeLab(t, rc, labName(t, on, "receiver"))}
}

// labName names a capture for -labout: lab-offload-blackhole-ipv4-on-sender.
func labName(t *testing.T, on bool, end string) string {
	state := "off"
	if on {
		state = "on"
	}
	name := strings.TrimPrefix(t.Name(), "TestLabOffloadMatrix/")
	return "lab-offload-" + strings.ReplaceAll(name, "/", "-") + "-" + state + "-" + end
}
