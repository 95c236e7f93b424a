package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mtukit/mtukit/capture"
	"github.com/mtukit/mtukit/internal/jsonout"
)

// realPcap is a capture from the capture package's testdata.
func realPcap(name string) string {
	return filepath.Join("..", "..", "capture", "testdata", "real", name)
}

func TestAnalyzeText(t *testing.T) {
	out, errs, code := run(t, "analyze", realPcap("zeek__tunnels_gre-sample.pcap"))
	if code != ExitOK || errs != "" {
		t.Fatalf("code %d stderr %q", code, errs)
	}
	for _, want := range []string{
		"40 packets",
		"encapsulation: eth/ipv4/gre/ipv4/tcp 22",
		"WARNING tunnel_mss  172.28.2.3:22 > 66.59.111.190:40264",
		"INFO    mss_clamped  66.59.111.190:40264 > 172.28.2.3:22",
		"clamp MSS to: 1436 (IPv4), 1416 (IPv6)",
		"tunnel: gre, 24 bytes of overhead",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FLOW ") {
		t.Error("flow table printed without --flows")
	}
	out, _, _ = run(t, "analyze", "--flows", realPcap("zeek__tunnels_gre-sample.pcap"))
	if !strings.Contains(out, "FLOW ") || !strings.Contains(out, "66.59.111.190:40264  12    1436") {
		t.Errorf("--flows: no flow table:\n%s", out)
	}
}

// TestAnalyzeJSON: --json prints the capture.Report, the same bytes the web
// API serves (MarshalJSON), with the documented fields.
func TestAnalyzeJSON(t *testing.T) {
	path := realPcap("zeek__icmp_icmp6-toobig.pcap")
	out, errs, code := run(t, "analyze", "--json", path)
	if code != ExitOK || errs != "" {
		t.Fatalf("code %d stderr %q", code, errs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"packets", "flows", "findings", "summary", "encapsulations"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if _, ok := m["flow_table"]; ok {
		t.Error("flow_table present without --flows")
	}
	var r capture.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].Code != capture.CodePTBSuspicious || r.Findings[0].MTU != 1280 || r.Findings[0].Severity != capture.SeverityWarning {
		t.Errorf("findings %+v, want one ptb_suspicious warning with MTU 1280", r.Findings)
	}
	// the same bytes as the web API's encoding of the same report
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := capture.Analyze(f, capture.Options{Name: path, MaxFlows: 50000})
	if err != nil {
		t.Fatal(err)
	}
	rep.FlowTable, rep.FlowsOmitted = nil, 0
	b, err := jsonout.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != out {
		t.Errorf("CLI JSON differs from MarshalJSON of the report")
	}
}

func TestAnalyzeStdin(t *testing.T) {
	data, err := os.ReadFile(realPcap("zeek__tcp_options.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := runStdin(t, string(data), "analyze", "-")
	if code != ExitOK || !strings.HasPrefix(out, "stdin: pcap, 4 packets") {
		t.Fatalf("code %d stderr %q out %q", code, errs, out)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(realPcap("zeek__tcp_retransmit-fast009.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcap")
	if err := os.WriteFile(cut, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.pcap")
	if err := os.WriteFile(junk, []byte("this is not a capture"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		errPart string
		report  bool // a partial report on stdout
	}{
		{"no file", []string{"analyze"}, "accepts 1 arg", false},
		{"missing file", []string{"analyze", filepath.Join(dir, "nope.pcap")}, "no such file", false},
		{"directory", []string{"analyze", dir}, "is a directory", false},
		{"not a capture", []string{"analyze", junk}, "not a pcap or pcapng file", false},
		{"cut short", []string{"analyze", cut}, "file ends in the middle of the record (truncated capture) (the report covers the packets before it)", true},
		{"bad progress", []string{"analyze", "--progress", "sometimes", cut}, "--progress", false},
		{"bad max-flows", []string{"analyze", "--max-flows", "0", cut}, "--max-flows 0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := run(t, tc.args...)
			if code != ExitUsage {
				t.Errorf("code %d, want %d", code, ExitUsage)
			}
			if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "mtukit: ") || !strings.Contains(errs, tc.errPart) {
				t.Errorf("stderr %q: want one line with %q", errs, tc.errPart)
			}
			if tc.report != strings.Contains(out, "PARTIAL REPORT") {
				t.Errorf("partial report printed: %v, want %v\n%s", !tc.report, tc.report, out)
			}
		})
	}
}

func TestAnalyzeProgress(t *testing.T) {
	var b strings.Builder
	drawProgress(&b, "big.pcap", 50<<20, 100<<20)
	if got := b.String(); !strings.Contains(got, "analyzing big.pcap [===============               ]  50%") || !strings.HasPrefix(got, "\r\033[K") {
		t.Errorf("progress line %q", got)
	}
	if isTerminal(&b) {
		t.Error("a buffer is not a terminal")
	}
	// --progress always draws (and clears) even on a small file
	out, errs, code := run(t, "analyze", "--progress", "always", realPcap("zeek__tcp_options.pcap"))
	if code != ExitOK || !strings.Contains(out, "4 packets") || errs != "\r\033[K" {
		t.Errorf("code %d stderr %q", code, errs)
	}
}

// TestAnalyzeFailOn: --fail-on sets the exit status from the findings'
// severities (the goldens show what each capture holds), prints the report
// all the same, and leaves the JSON as it is.
func TestAnalyzeFailOn(t *testing.T) {
	const (
		withError   = "zeek__ipv4_fragmented-4.pcap"       // fragment_overlap (error), fragmentation (warning)
		withWarning = "suricata-verify__bug-76_input.pcap" // bad_tcp_option (warning), no error
		infoOnly    = "tcpdump__bigtcp-ipv4.pcap"          // offload (info)
		clean       = "suricata-verify__eve-flow-esp_input.pcap"
	)
	for _, tc := range []struct {
		name, file, failOn string
		code               int
		errPart            string
	}{
		{"default never, error present", withError, "", ExitOK, ""},
		{"never, error present", withError, "never", ExitOK, ""},
		{"error, error present", withError, "error", ExitFailure, "1 finding at or above error (--fail-on): fragment_overlap"},
		{"warning, error present", withError, "warning", ExitFailure, "at or above warning (--fail-on): fragment_overlap, fragmentation"},
		{"error, warning only", withWarning, "error", ExitOK, ""},
		{"warning, warning only", withWarning, "warning", ExitFailure, "bad_tcp_option"},
		{"warning, info only", infoOnly, "warning", ExitOK, ""},
		{"warning, no findings", clean, "warning", ExitOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, asJSON := range []bool{false, true} {
				args := []string{"analyze"}
				if tc.failOn != "" {
					args = append(args, "--fail-on", tc.failOn)
				}
				if asJSON {
					args = append(args, "--json")
				}
				out, errs, code := run(t, append(args, realPcap(tc.file))...)
				if code != tc.code {
					t.Errorf("json %v: code %d, want %d (stderr %q)", asJSON, code, tc.code, errs)
				}
				if tc.errPart == "" && errs != "" || tc.errPart != "" && (strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.errPart)) {
					t.Errorf("json %v: stderr %q, want one line with %q", asJSON, errs, tc.errPart)
				}
				// the report is printed whatever the verdict, and the JSON
				// is the same bytes as without --fail-on
				plainArgs := []string{"analyze", realPcap(tc.file)}
				if asJSON {
					plainArgs = append(plainArgs, "--json")
				}
				plain, _, _ := run(t, plainArgs...)
				if out != plain {
					t.Errorf("json %v: output with --fail-on differs from without", asJSON)
				}
			}
		})
	}
	out, errs, code := run(t, "analyze", "--fail-on", "info", realPcap(clean))
	if code != ExitUsage || out != "" || !strings.Contains(errs, `--fail-on "info": want warning, error or never`) {
		t.Errorf("--fail-on info: code %d stdout %q stderr %q", code, out, errs)
	}
}
