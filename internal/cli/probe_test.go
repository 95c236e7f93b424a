package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/internal/netlab"
	"github.com/mtukit/mtukit/probe"
)

func TestProbeUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"no host", []string{"probe"}, "accepts 1 arg"},
		{"bad method", []string{"probe", "--method", "sctp", "127.0.0.1"}, `--method "sctp"`},
		{"bad search", []string{"probe", "--search", "nope", "127.0.0.1"}, `--search "nope"`},
		{"both families", []string{"probe", "-4", "-6", "127.0.0.1"}, "-4 and -6"},
		{"family mismatch", []string{"probe", "-6", "127.0.0.1"}, "not of the family"},
		{"bad timeout", []string{"probe", "--timeout", "0s", "127.0.0.1"}, "--timeout"},
		{"bad retries", []string{"probe", "--retries", "0", "127.0.0.1"}, "--retries 0"},
		{"bad rate", []string{"probe", "--rate", "-1", "127.0.0.1"}, "--rate"},
		{"bad stack", []string{"probe", "--stack", "gre(", "127.0.0.1"}, "--stack"},
		{"bad max", []string{"probe", "--max", "70000", "127.0.0.1"}, "--max 70000: want 68..65535"},
		{"bad socket", []string{"probe", "--socket", "magic", "127.0.0.1"}, "--socket"},
		{"hops with udp", []string{"probe", "--hops", "--method", "udp", "127.0.0.1"}, "--hops"},
		{"responder bad listen", []string{"responder", "--listen", "nowhere"}, "--listen"},
		{"responder bad rate", []string{"responder", "--rate", "0"}, "must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := run(t, tc.args...)
			if code != ExitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.msg) {
				t.Errorf("code %d stderr %q; want exit 2 and one line naming %q", code, errs, tc.msg)
			}
		})
	}
}

// TestProbeLoopbackUDP runs the real CLI against an in-process responder
// on loopback: loopback carries 65536-byte packets, so every size up to
// --max passes and the answer must be --max exactly.
func TestProbeLoopbackUDP(t *testing.T) {
	r := &probe.Responder{Listen: netip.MustParseAddrPort("127.0.0.1:0")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	port := r.Addr().Port()
	out, errs, code := run(t, "probe", "--method", "udp", "--port", fmt.Sprint(port), "--max", "1500", "--timeout", "300ms", "--json", "127.0.0.1")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep probe.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.PMTU != 1500 || rep.Blackhole || rep.ProbesLost != 0 || rep.ProbesSent != rep.ProbesAcked {
		t.Errorf("report %+v; want pmtu 1500, nothing lost", rep)
	}
	want, _ := advise.Calc(advise.Options{LinkMTU: 1500})
	if rep.Recommended == nil || rep.Recommended.MSS != want.MSS {
		t.Errorf("recommended %+v, want calc's MSS %+v", rep.Recommended, want.MSS)
	}
	for _, k := range []string{`"pmtu"`, `"method"`, `"probes_sent"`, `"ptb_received"`, `"ptb_ignored"`, `"blackhole"`, `"duration_ms"`, `"recommended"`} {
		if !strings.Contains(out, k) {
			t.Errorf("JSON lacks %s", k)
		}
	}
	if s := r.Stats(); int(s.UDPAcked) != rep.ProbesSent {
		t.Errorf("the responder acknowledged %d probes, the report says %d sent", s.UDPAcked, rep.ProbesSent)
	}
}

func TestProbeNoResponder(t *testing.T) {
	// Nothing listens on this port: every probe is lost and the error says so.
	_, errs, code := run(t, "probe", "--method", "udp", "--port", "9", "--max", "1300", "--timeout", "100ms", "--retries", "1", "127.0.0.1")
	if code != ExitFailure || !strings.Contains(errs, "no answer") || strings.Count(errs, "\n") != 1 {
		t.Errorf("exit %d stderr %q", code, errs)
	}
}

func TestProbeInterrupted(t *testing.T) {
	// Ctrl-C cancels Main's context: the probe ends at once with one line
	// saying so, not after its 10-second probe timer.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	var out, errb bytes.Buffer
	start := time.Now()
	code := Main(ctx, []string{"probe", "--method", "udp", "--port", "9", "--timeout", "10s", "127.0.0.1"}, strings.NewReader(""), &out, &errb)
	if code != ExitFailure || !strings.Contains(errb.String(), "interrupted after") || strings.Count(errb.String(), "\n") != 1 || time.Since(start) > 3*time.Second {
		t.Errorf("exit %d after %s, stderr %q", code, time.Since(start), errb.String())
	}
	// --max-time bounds a run the same way.
	_, errs, code := run(t, "probe", "--method", "udp", "--port", "9", "--timeout", "10s", "--max-time", "200ms", "127.0.0.1")
	if code != ExitFailure || !strings.Contains(errs, "gave up after --max-time 200ms") {
		t.Errorf("exit %d stderr %q", code, errs)
	}
}

// TestProbeLabGolden runs `mtukit probe` in a lab client behind a 1400-byte
// black hole and compares the text report with a golden file (the
// duration masked): the path MTU is the kernel's link MTU.
func TestProbeLabGolden(t *testing.T) {
	netlab.Require(t, "nft")
	lab := netlab.New(t)
	c, r, s := lab.Host("client"), lab.Host("router"), lab.Host("server")
	lab.Link(c, r, netlab.LinkOpts{MTU: 1500, AddrA: "10.0.1.1/24", AddrB: "10.0.1.2/24"})
	lab.Link(r, s, netlab.LinkOpts{MTU: 1400, AddrA: "10.0.2.1/24", AddrB: "10.0.2.2/24"})
	r.Forwarding(true)
	c.Route("default", "10.0.1.2")
	s.Route("default", "10.0.2.1")
	r.DropPTB()
	var out, errs string
	var code int
	if err := c.Do(func() error {
		out, errs, code = run(t, "probe", "--timeout", "200ms", "--rate", "1000", "--stack", "gre", "10.0.2.2")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	out = regexp.MustCompile(`duration     \d+ ms`).ReplaceAllString(out, "duration     N ms")
	golden(t, "probe/blackhole-1400.txt", out)
}

func TestResponderCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	var out, errb bytes.Buffer
	code := Main(ctx, []string{"responder", "--listen", "127.0.0.1:0"}, strings.NewReader(""), &out, &errb)
	if code != ExitOK || !strings.Contains(errb.String(), "mtukit responder listening on 127.0.0.1:") || !strings.Contains(errb.String(), "0 probes in") {
		t.Errorf("exit %d stderr %q", code, errb.String())
	}
	for _, tc := range []struct{ in, want string }{
		{":4821", "[::]:4821"},
		{"127.0.0.1:4821", "127.0.0.1:4821"},
		{"[::1]:9", "[::1]:9"},
	} {
		if ap, err := parseListen(tc.in); err != nil || ap.String() != tc.want {
			t.Errorf("parseListen(%q) = %v, %v; want %s", tc.in, ap, err, tc.want)
		}
	}
}
