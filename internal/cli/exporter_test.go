package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe to read while the command writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExporterStartupErrors(t *testing.T) {
	good := writeFile(t, "good.yml", "modules:\n  udp:\n    method: udp\n    port: 4821\n    timeout: 60s\n")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no config", []string{"exporter"}, ExitUsage, "--config: required"},
		{"missing file", []string{"exporter", "--config", "/nonexistent/mtukit.yml"}, ExitUsage, "no such file"},
		{"unknown key", []string{"exporter", "--config", writeFile(t, "bad.yml", "modules:\n  udp:\n    methd: udp\n")}, ExitUsage,
			`bad.yml: line 3: unknown key "methd" in module "udp"`},
		{"bad module", []string{"exporter", "--config", writeFile(t, "m.yml", "modules:\n  a:\n    method: sctp\n")}, ExitUsage, `module "a": method "sctp"`},
		{"bad concurrency", []string{"exporter", "--config", good, "--concurrency", "0"}, ExitUsage, "--concurrency 0"},
		{"bad rate", []string{"exporter", "--config", good, "--rate", "-1"}, ExitUsage, "--rate -1"},
		{"bad listen", []string{"exporter", "--config", good, "--listen", "nowhere"}, ExitUsage, "--listen"},
		{"check", []string{"exporter", "--config", good, "--check"}, ExitOK, "1 modules OK"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(context.Background(), tc.args, strings.NewReader(""), &out, &errb)
			text := out.String() + errb.String()
			if code != tc.code || !strings.Contains(text, tc.want) {
				t.Errorf("exit %d %q, want %d with %q", code, text, tc.code, tc.want)
			}
			if tc.code == ExitUsage && strings.Count(errb.String(), "\n") != 1 {
				t.Errorf("not one line: %q", errb.String())
			}
		})
	}
}

// TestExporterServes runs the command in-process: it listens, answers
// /healthz, /metrics and a bad /probe with 400, and stops on cancel.
func TestExporterServes(t *testing.T) {
	cfg := writeFile(t, "mtukit.yml", "allowed_targets: [192.0.2.0/24]\nmodules:\n  udp:\n    method: udp\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"exporter", "--config", cfg, "--listen", "127.0.0.1:0"}, strings.NewReader(""), io.Discard, &stderr)
	}()
	addr := ""
	re := regexp.MustCompile(`listening on http://([0-9.:]+)/`)
	for end := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("never listened: %q", stderr.String())
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz %d %q", code, body)
	}
	if code, body := get("/probe?module=udp&target=198.51.100.1"); code != 400 || !strings.Contains(body, "not in allowed_targets") {
		t.Errorf("probe outside the list: %d %q", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `mtukit_exporter_requests_rejected_total{reason="target"} 1`) {
		t.Errorf("metrics %d %q", code, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop")
	}
}
