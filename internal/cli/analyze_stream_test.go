package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mtukit/mtukit/capture"
)

// labBlackhole is the kernel-made black-hole download of the capture
// package's testdata (gzip: stdin takes it as it is).
func labBlackhole(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "capture", "testdata", "stream", "lab-blackhole-ipv4.pcap.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAnalyzeStdinStream: a capture on stdin, streamed: the blackhole
// finding is printed when its evidence is complete (here: when the
// capture's next packet shows the third transmission unacknowledged past
// the quiet time), then the report; as text and as JSON lines.
func TestAnalyzeStdinStream(t *testing.T) {
	data := string(labBlackhole(t))
	out, errs, code := runStdin(t, data, "analyze", "--stream", "always", "-")
	if code != ExitOK || errs != "" {
		t.Fatalf("code %d stderr %q", code, errs)
	}
	ev, rep, ok := strings.Cut(out, "--- report of everything seen ---\n")
	if !ok || !strings.Contains(ev, "ERROR   blackhole  10.0.2.2:") || strings.Count(ev, "blackhole") != 1 || !strings.HasPrefix(rep, "stdin: pcap, 26 packets") || !strings.Contains(rep, "ERROR   blackhole") {
		t.Errorf("output:\n%s", out)
	}
	if !strings.Contains(ev, "sent 3 times") || !strings.Contains(rep, "sent 5 times") {
		t.Errorf("the early finding counts 3 transmissions, the report all 5:\n%s", out)
	}

	out, _, code = runStdin(t, data, "analyze", "--stream", "always", "--json", "--fail-on", "error", "-")
	if code != ExitFailure {
		t.Errorf("--fail-on error: code %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d JSON lines, want an event and the report:\n%s", len(lines), out)
	}
	var e struct {
		Time    time.Time
		Finding capture.Finding
	}
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil || e.Finding.Code != capture.CodeBlackhole || e.Time.Year() < 2020 {
		t.Errorf("event %s: %v", lines[0], err)
	}
	var r struct{ Report capture.Report }
	if err := json.Unmarshal([]byte(lines[1]), &r); err != nil || r.Report.Packets != 26 || len(r.Report.Findings) != 1 {
		t.Errorf("report %s: %v", lines[1], err)
	}

	// --stream never and a reader that is not a pipe (auto): the report
	// alone, byte for byte as for the file
	want, _, _ := runStdin(t, data, "analyze", "--json", "-")
	for _, mode := range []string{"never", "auto"} {
		got, _, _ := runStdin(t, data, "analyze", "--json", "--stream", mode, "-")
		if got != want || !strings.HasPrefix(got, "{\n") {
			t.Errorf("--stream %s: the report differs from the batch one", mode)
		}
	}
}

// TestAnalyzeStdinPipeInterrupted: a real pipe on stdin (auto streams)
// whose writer goes quiet without closing, as tcpdump before its Ctrl-C:
// at Ctrl-C (ctx cancelled) the report of what came is printed after the
// grace period, exit 0.
func TestAnalyzeStdinPipeInterrupted(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	go pw.Write(labBlackhole(t)) // and never closed
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	var out, errb bytes.Buffer
	start := time.Now()
	code := Main(ctx, []string{"analyze", "-"}, pr, &out, &errb)
	took := time.Since(start)
	if code != ExitOK || errb.Len() != 0 {
		t.Fatalf("code %d stderr %q", code, errb.String())
	}
	if !strings.Contains(out.String(), "stdin: pcap, 26 packets") || !strings.Contains(out.String(), "--- report of everything seen ---") {
		t.Errorf("output:\n%s", out.String())
	}
	if took < stdinGrace || took > stdinGrace+5*time.Second {
		t.Errorf("returned after %v, want the %v grace after Ctrl-C", took, stdinGrace)
	}
}

func TestAnalyzeLiveErrors(t *testing.T) {
	pcap := realPcap("zeek__tcp_options.pcap")
	for _, tc := range []struct {
		name    string
		args    []string
		errPart string
	}{
		{"filter without live", []string{"analyze", "--filter", "tcp", pcap}, "--filter goes with --live"},
		{"duration without live", []string{"analyze", "--duration", "1s", pcap}, "--duration goes with --live"},
		{"live and a file", []string{"analyze", "--live", "lo", pcap}, "no FILE"},
		{"no input", []string{"analyze"}, "--live IF"},
		{"bad stream", []string{"analyze", "--stream", "maybe", pcap}, `--stream "maybe"`},
		{"negative duration", []string{"analyze", "--live", "lo", "--duration", "-1s"}, "--duration -1s"},
		{"no such interface", []string{"analyze", "--live", "nosuchif0"}, "nosuchif0"},
		{"bad fail-on live", []string{"analyze", "--live", "lo", "--fail-on", "info"}, "--fail-on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := run(t, tc.args...)
			if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.errPart) {
				t.Errorf("code %d stdout %q stderr %q: want exit 2, one line with %q", code, out, errs, tc.errPart)
			}
		})
	}
}

// TestAnalyzeStdinStreamPcapng: pcapng (gzip) streams from stdin too
// (the IPv6 black-hole download, converted by editcap), with the report the
// file gives.
func TestAnalyzeStdinStreamPcapng(t *testing.T) {
	path := filepath.Join("..", "..", "capture", "testdata", "stream", "lab-blackhole-ipv6.pcapng.gz")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := runStdin(t, string(data), "analyze", "--stream", "always", "-")
	if code != ExitOK || errs != "" || !strings.Contains(out, "stdin: pcapng, ") {
		t.Fatalf("code %d stderr %q:\n%s", code, errs, out)
	}
	file, _, _ := run(t, "analyze", path)
	ev, rep, _ := strings.Cut(out, "--- report of everything seen ---\n")
	if !strings.Contains(ev, "ERROR   blackhole  [fd00:2::2]:") {
		t.Errorf("no early blackhole:\n%s", ev)
	}
	if strings.SplitN(rep, "\n", 2)[1] != strings.SplitN(file, "\n", 2)[1] {
		t.Errorf("the streamed report differs from the file's below the first line:\n%s\n---\n%s", rep, file)
	}
}

// TestAnalyzeFileStreamAlways: --stream always streams a file too.
func TestAnalyzeFileStreamAlways(t *testing.T) {
	path := filepath.Join("..", "..", "capture", "testdata", "stream", "lab-blackhole-ipv4.pcap.gz")
	out, errs, code := run(t, "analyze", "--stream", "always", path)
	ev, rep, ok := strings.Cut(out, "--- report of everything seen ---\n")
	if code != ExitOK || errs != "" || !ok || !strings.Contains(ev, "ERROR   blackhole") || !strings.HasPrefix(rep, path+": pcap, 26 packets") {
		t.Errorf("code %d stderr %q:\n%s", code, errs, out)
	}
}
