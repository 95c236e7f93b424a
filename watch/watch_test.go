package watch

import (
	"fmt"
	"io"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mtukit/mtukit/capture"
)

func TestPeer(t *testing.T) {
	m, err := New(Config{Local: []netip.Addr{netip.MustParseAddr("10.0.2.2"), netip.MustParseAddr("2001:db8:2::2")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, flow, want string }{
		{"local sender: the receiver", "10.0.2.2:80 > 192.0.2.77:40000", "192.0.2.0/24"},
		{"local receiver: the sender", "198.51.100.9:443 > 10.0.2.2:50000", "198.51.100.0/24"},
		{"router: the receiver", "203.0.113.5:80 > 192.0.2.200:1234", "192.0.2.0/24"},
		{"both local: the receiver", "10.0.2.2:1 > 10.0.2.2:2", "10.0.2.0/24"},
		{"ipv6 /48", "[2001:db8:2::2]:80 > [2001:db8:1:ff::1]:40000", "2001:db8:1::/48"},
		{"ipv6 local receiver", "[2001:db8:99:1::5]:80 > [2001:db8:2::2]:40000", "2001:db8:99::/48"},
		{"bare addresses (fragments)", "192.0.2.1 > 198.51.100.200", "198.51.100.0/24"},
		{"v4-mapped", "[::ffff:192.0.2.1]:80 > [::ffff:198.51.100.7]:1", "198.51.100.0/24"},
		{"no flow", "", PeerNone},
		{"aggregate", "10.0.0.1 (3 flows)", PeerNone},
		{"garbage", "x > y", PeerNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := m.Peer(tc.flow); got != tc.want {
				t.Errorf("Peer(%q) = %q, want %q", tc.flow, got, tc.want)
			}
		})
	}
	m, _ = New(Config{Prefix4: 32, Prefix6: 128})
	if got := m.Peer("10.0.2.2:80 > 192.0.2.77:1"); got != "192.0.2.77/32" {
		t.Errorf("/32: %q", got)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{{Prefix4: 33}, {Prefix6: 129}, {Prefix4: -1}, {MaxPeers: -1}, {Last: -2}} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// scrape reads /metrics with Prometheus's own text parser.
func scrape(t *testing.T, m *Metrics) map[string]*model.Sample {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := expfmt.SampleDecoder{Dec: expfmt.NewDecoder(resp.Body, expfmt.NewFormat(expfmt.TypeTextPlain)), Opts: &expfmt.DecodeOptions{Timestamp: model.Now()}}
	out := map[string]*model.Sample{}
	for {
		var v model.Vector
		if err := dec.Decode(&v); err != nil {
			if err == io.EOF {
				return out
			}
			t.Fatal(err)
		}
		for _, s := range v {
			out[s.Metric.String()] = s
		}
	}
}

func ev(code string, sev capture.Severity, flow string) capture.Event {
	return capture.Event{Finding: capture.Finding{Code: code, Severity: sev, Flow: flow}}
}

// TestMetrics: counts per code and peer, the peer cap, the packet and
// flow counts, read back through Prometheus's parser.
func TestMetrics(t *testing.T) {
	m, err := New(Config{MaxPeers: 2, Last: 3})
	if err != nil {
		t.Fatal(err)
	}
	m.Observe(ev(capture.CodeBlackhole, capture.SeverityError, "10.0.2.2:80 > 192.0.2.7:1"))
	m.Observe(ev(capture.CodeBlackhole, capture.SeverityError, "10.0.2.2:80 > 192.0.2.9:2")) // same /24
	m.Observe(ev(capture.CodePTB, capture.SeverityInfo, "10.0.2.2:80 > 198.51.100.1:3"))
	m.Observe(ev(capture.CodeBlackhole, capture.SeverityError, "10.0.2.2:80 > 203.0.113.1:4")) // a third prefix: other
	m.SetCounts(1234, 5, 6)
	got := scrape(t, m)
	for k, want := range map[string]float64{
		`mtukit_watch_findings_total{code="blackhole", peer="192.0.2.0/24", severity="error"}`: 2,
		`mtukit_watch_findings_total{code="ptb", peer="198.51.100.0/24", severity="info"}`:     1,
		`mtukit_watch_findings_total{code="blackhole", peer="other", severity="error"}`:        1,
		`mtukit_watch_packets_total`:                1234,
		`mtukit_watch_flows`:                        5,
		`mtukit_watch_kernel_dropped_packets_total`: 6,
		`mtukit_watch_peer_prefixes`:                2,
	} {
		s := got[k]
		if s == nil || float64(s.Value) != want {
			t.Errorf("%s = %v, want %v", k, s, want)
		}
	}
	n := 0
	for k := range got {
		if strings.HasPrefix(k, "mtukit_watch_findings_total") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d findings series, want 3", n)
	}
	// the last 3, oldest first
	last := m.Last()
	if len(last) != 3 || last[0].Finding.Flow != "10.0.2.2:80 > 192.0.2.9:2" || last[2].Finding.Flow != "10.0.2.2:80 > 203.0.113.1:4" {
		t.Errorf("last %v", last)
	}
}

// TestSeriesBounded: a million distinct peers give at most MaxPeers+1
// series per code.
func TestSeriesBounded(t *testing.T) {
	m, _ := New(Config{MaxPeers: 10})
	for i := range 5000 {
		m.Observe(ev(capture.CodeBlackhole, capture.SeverityError, fmt.Sprintf("10.0.0.1:80 > %d.%d.%d.1:1", 1+i%200, i/200%250, i%7)))
	}
	n := 0
	for k := range scrape(t, m) {
		if strings.HasPrefix(k, "mtukit_watch_findings_total") {
			n++
		}
	}
	if n != 11 {
		t.Errorf("%d series, want 10 prefixes + other", n)
	}
}

func TestFindingsEndpoint(t *testing.T) {
	m, _ := New(Config{})
	m.Observe(capture.Event{Time: 1e18, Finding: capture.Finding{Code: capture.CodeBlackhole, Severity: capture.SeverityError, Flow: "a > b", Packets: []int64{}}})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/findings")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `{"time":"2001-09-09T01:46:40Z","finding":{"code":"blackhole","severity":"error","flow":"a \u003e b","title":"","detail":"","packets":[],"count":0,"fix":""}}` + "\n"; string(b) != want {
		t.Errorf("/findings %s\nwant %s", b, want)
	}
}

// FuzzPeer: any flow text gives PeerNone or a prefix of the configured
// length, never a panic.
func FuzzPeer(f *testing.F) {
	f.Add("10.0.2.2:80 > 192.0.2.77:40000")               // IPv4 flow
	f.Add("[2001:db8:2::2]:80 > [2001:db8:1:ff::1]:4000") // IPv6 flow
	f.Add("192.0.2.1 > 198.51.100.200")                   // addresses only
	f.Add("10.0.0.1 (3 flows)")                           // an aggregate
	f.Add(" > ")                                          // empty ends
	m, err := New(Config{Prefix4: 20, Prefix6: 40, Local: []netip.Addr{netip.MustParseAddr("10.0.2.2")}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, flow string) {
		p := m.Peer(flow)
		if p == PeerNone {
			return
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil || pfx.Addr().Is4() && pfx.Bits() != 20 || pfx.Addr().Is6() && pfx.Bits() != 40 || pfx.Masked() != pfx {
			t.Errorf("Peer(%q) = %q", flow, p)
		}
	})
}
