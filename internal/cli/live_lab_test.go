//go:build linux

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mtukit/mtukit/capture"
	"github.com/mtukit/mtukit/internal/netlab"
)

// liveLab is client 10.3.1.1 - 10.3.1.2 router 10.3.2.1 - 10.3.2.2 server,
// the router's link toward the client 1400 bytes (the client's own side
// 1500, so both hosts announce MSS 1460): a download from the server is a
// black hole when the router drops its ICMP, and fine when it does not.
type liveLab struct {
	c, r, s *netlab.Host
	ifS     string // the router's interface toward the server
}

func newLiveLab(t *testing.T, dropPTB bool) *liveLab {
	t.Helper()
	netlab.Require(t, "nft", "tcpdump")
	lab := netlab.New(t)
	l := &liveLab{c: lab.Host("client"), r: lab.Host("router"), s: lab.Host("server")}
	cr := lab.Link(l.c, l.r, netlab.LinkOpts{AddrA: "10.3.1.1/24", AddrB: "10.3.1.2/24", Addr6A: "fd03:1::1/64", Addr6B: "fd03:1::2/64"})
	rs := lab.Link(l.r, l.s, netlab.LinkOpts{AddrA: "10.3.2.1/24", AddrB: "10.3.2.2/24", Addr6A: "fd03:2::1/64", Addr6B: "fd03:2::2/64"})
	l.ifS = rs.IfA
	l.r.Forwarding(true)
	l.c.Route("default", "10.3.1.2")
	l.s.Route("default", "10.3.2.1")
	l.c.Route("default", "fd03:1::2")
	l.s.Route("default", "fd03:2::1")
	l.r.SetMTU(cr.IfB, 1400)
	l.s.Sysctl("net.ipv4.tcp_mtu_probing", "0")
	if dropPTB {
		l.r.DropPTB()
	}
	return l
}

// download: the client sends 100 bytes, the server answers a 200-byte
// header and body bytes; the client reads for at most wait. It returns
// the body bytes received.
func (l *liveLab) download(t *testing.T, server string, body int, wait time.Duration) int {
	t.Helper()
	return netlab.Download(t, l.c, l.s, netip.MustParseAddr(server), body, wait, 0)
}

// stampWriter keeps what is written and when each write came.
type stampWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes []stamped
}

type stamped struct {
	at   time.Time
	text string
}

func (w *stampWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, stamped{time.Now(), string(p)})
	return w.buf.Write(p)
}

// first is the time of the first write containing s.
func (w *stampWriter) first(s string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, x := range w.writes {
		if strings.Contains(x.text, s) {
			return x.at, true
		}
	}
	return time.Time{}, false
}

func (w *stampWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// runIn runs the CLI inside host h's namespace in the background; cancel
// ctx to stop it (Ctrl-C), then read the exit code from the channel.
func runIn(h *netlab.Host, ctx context.Context, out, errw io.Writer, args ...string) <-chan int {
	done := make(chan int, 1)
	go func() {
		code := -1
		h.Do(func() error {
			code = Main(ctx, args, strings.NewReader(""), out, errw)
			return nil
		})
		done <- code
	}()
	return done
}

// TestLabAnalyzeLive: `mtukit analyze --live` on the router's interface
// toward the server prints the blackhole finding of the black-hole
// download (one JSON line) while the client still waits for its data, then
// at Ctrl-C the report with it; --fail-on error makes that exit 1.
func TestLabAnalyzeLive(t *testing.T) {
	l := newLiveLab(t, true)
	var out, errw stampWriter
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runIn(l.r, ctx, &out, &errw, "analyze", "--live", l.ifS, "--filter", "tcp or icmp or icmp6", "--json", "--fail-on", "error")
	// the capture runs once mtukit says so on stderr
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(errw.String(), "analyzing"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no start message: %q", errw.String())
		}
	}
	start := time.Now()
	got := l.download(t, "10.3.2.2", 64<<10, 3500*time.Millisecond)
	gaveUp := time.Now()
	cancel()
	code := <-done
	if got != 0 {
		t.Errorf("the client received %d body bytes through the black hole", got)
	}
	told, ok := out.first(`"code":"blackhole"`)
	if !ok {
		t.Fatalf("no blackhole line:\n%s\nstderr %s", out.String(), errw.String())
	}
	if !told.Before(gaveUp) {
		t.Errorf("blackhole printed %v into the download, after the client gave up at %v", told.Sub(start), gaveUp.Sub(start))
	}
	t.Logf("blackhole printed %v into the download; the client gave up at %v", told.Sub(start).Round(time.Millisecond), gaveUp.Sub(start).Round(time.Millisecond))
	if code != ExitFailure {
		t.Errorf("exit %d, want 1 (--fail-on error, a black hole)", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var ev struct {
		Time    time.Time       `json:"time"`
		Finding capture.Finding `json:"finding"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil || ev.Finding.Code != capture.CodeBlackhole || !strings.HasPrefix(ev.Finding.Flow, "10.3.2.2:") || ev.Time.IsZero() {
		t.Errorf("first line %s (%v): want the server's blackhole event", lines[0], err)
	}
	var last struct{ Report *capture.Report }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Report == nil {
		t.Fatalf("last line %s: %v", lines[len(lines)-1], err)
	}
	if r := last.Report; r.Format != "live" || len(r.Findings) != 1 || r.Findings[0].Code != capture.CodeBlackhole || r.Summary.PathMTUMax != 1499 || r.Summary.PathMTUMin != 252 {
		t.Errorf("report %+v: want the black hole, path MTU 252..1499", r)
	}
}

// scraper reads a URL from inside host h's namespace (where `mtukit
// watch` listens).
func scraper(h *netlab.Host) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (c net.Conn, err error) {
			err = h.Do(func() (err error) {
				var d net.Dialer
				c, err = d.DialContext(ctx, network, addr)
				return err
			})
			return c, err
		}}}
}

// startWatch runs `mtukit watch` on the router's interface toward the
// server and returns the metrics URL, its stdout and a stop function that
// returns the exit code.
func startWatch(t *testing.T, l *liveLab) (string, *stampWriter, func() int) {
	t.Helper()
	out, errw := &stampWriter{}, &stampWriter{}
	ctx, cancel := context.WithCancel(context.Background())
	done := runIn(l.r, ctx, out, errw, "watch", l.ifS, "--listen", "127.0.0.1:0", "--filter", "tcp or icmp or icmp6")
	t.Cleanup(cancel)
	re := regexp.MustCompile(`metrics on (http://\S+/metrics)`)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(errw.String()); m != nil {
			return m[1], out, func() int { cancel(); return <-done }
		}
		if time.Now().After(deadline) {
			t.Fatalf("watch did not start: %q", errw.String())
		}
	}
}

// findingsCount is mtukit_watch_findings_total for code and peer, parsed
// by Prometheus's own text parser (0 when the series is absent).
func findingsCount(t *testing.T, c *http.Client, url, code, peer string) float64 {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	fam := fams["mtukit_watch_findings_total"]
	if fam == nil {
		return 0
	}
	total := 0.0
	for _, m := range fam.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["code"] == code && labels["peer"] == peer {
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

// TestLabWatch: `mtukit watch` on the router of the black-hole path counts
// one blackhole for the client's /24 and one for its /48 (the IPv4 and the
// IPv6 download), each printed as a JSON line before the client gives up;
// on the same path with ICMP let through, the downloads complete, no
// blackhole is counted, and the ptb finding of each flow is counted once
// the flow has closed.
func TestLabWatch(t *testing.T) {
	t.Run("blackhole", func(t *testing.T) {
		l := newLiveLab(t, true)
		url, out, stop := startWatch(t, l)
		c := scraper(l.r)
		for _, tc := range []struct{ server, peer string }{{"10.3.2.2", "10.3.1.0/24"}, {"fd03:2::2", "fd03:1::/48"}} {
			if n := findingsCount(t, c, url, capture.CodeBlackhole, tc.peer); n != 0 {
				t.Errorf("%s: %v black holes before the download", tc.peer, n)
			}
			start := time.Now()
			if got := l.download(t, tc.server, 64<<10, 3500*time.Millisecond); got != 0 {
				t.Errorf("the client received %d body bytes through the black hole", got)
			}
			gaveUp := time.Now()
			if n := findingsCount(t, c, url, capture.CodeBlackhole, tc.peer); n != 1 {
				t.Errorf("mtukit_watch_findings_total{code=blackhole,peer=%s} = %v, want 1", tc.peer, n)
			}
			prefix := tc.server
			if strings.Contains(prefix, ":") {
				prefix = "[" + prefix + "]"
			}
			told, ok := out.first(`"flow":"` + prefix + ":")
			if !ok || !told.After(start) || !told.Before(gaveUp) {
				t.Errorf("%s: the finding's line came at %v, want within the download (0..%v)\n%s", tc.server, told.Sub(start), gaveUp.Sub(start), out.String())
			}
		}
		if n := findingsCount(t, c, url, capture.CodeBlackhole, "10.3.2.0/24"); n != 0 {
			t.Errorf("a blackhole counted for the server's prefix")
		}
		if code := stop(); code != ExitOK {
			t.Errorf("exit %d", code)
		}
	})
	t.Run("clean", func(t *testing.T) {
		l := newLiveLab(t, false)
		url, out, stop := startWatch(t, l)
		c := scraper(l.r)
		body := 64 << 10
		if got := l.download(t, "10.3.2.2", body, 5*time.Second); got != body {
			t.Fatalf("the client received %d of %d bytes", got, body)
		}
		// the flow closed when download returned: its findings come
		// Closed (5 s) later
		deadline := time.Now().Add(10 * time.Second)
		for findingsCount(t, c, url, capture.CodePTB, "10.3.1.0/24") == 0 && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		if n := findingsCount(t, c, url, capture.CodePTB, "10.3.1.0/24"); n != 1 {
			t.Errorf("ptb for 10.3.1.0/24 = %v, want 1 once the flow closed\n%s", n, out.String())
		}
		if n := findingsCount(t, c, url, capture.CodeBlackhole, "10.3.1.0/24"); n != 0 {
			t.Errorf("blackhole counted on a path whose ICMP gets through: %v\n%s", n, out.String())
		}
		if strings.Contains(out.String(), "blackhole") {
			t.Errorf("a blackhole line on a clean path:\n%s", out.String())
		}
		if code := stop(); code != ExitOK {
			t.Errorf("exit %d", code)
		}
	})
}
