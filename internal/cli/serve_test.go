package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/mtukit/mtukit/web"
)

func apiHandler() http.Handler {
	cfg := web.DefaultConfig()
	cfg.Rate, cfg.HeavyRate = 0, 0
	return web.New(cfg)
}

// flagsToQuery turns "--name value" pairs into the API's query.
func flagsToQuery(t *testing.T, flags []string) string {
	t.Helper()
	q := url.Values{}
	for i := 0; i < len(flags); i += 2 {
		q.Set(strings.TrimPrefix(flags[i], "--"), flags[i+1])
	}
	return q.Encode()
}

// The API answers with exactly the bytes the CLI prints, and bad input
// gives the CLI's message with the flag as the parameter.
func TestServeAPIMatchesCLI(t *testing.T) {
	h := apiHandler()
	for _, tc := range []struct {
		name  string
		cmd   string
		flags []string
	}{
		{"calc plain", "calc", nil},
		{"calc seed stack", "calc", []string{"--stack", "pppoe/esp(aes-gcm-16)/gre"}},
		{"calc every flag", "calc", []string{"--stack", "esp(aes-cbc,sha256,nat-t)/gre(key)", "--mtu", "1492", "--packet", "1400",
			"--tcp-options", "ts,sack=2", "--family", "ipv6", "--interface", "gre1", "--physical", "ppp0"}},
		{"calc jumbo vxlan", "calc", []string{"--stack", "dot1q/vxlan(ipv6)", "--mtu", "9000"}},
		{"calc critical", "calc", []string{"--stack", "wireguard/gre", "--mtu", "1280"}},
		{"calc bad stack", "calc", []string{"--stack", "pppoe/esx"}},
		{"calc bad mtu", "calc", []string{"--mtu", "40"}},
		{"calc bad family", "calc", []string{"--family", "ipx"}},
		{"calc bad options", "calc", []string{"--tcp-options", "bogus"}},
		{"calc bad packet", "calc", []string{"--packet", "70000"}},
		{"calc no room", "calc", []string{"--stack", "esp/esp/esp/esp", "--mtu", "200"}},
		{"tput defaults", "tput", nil},
		{"tput lossy ipsec", "tput", []string{"--stack", "esp(aes-cbc,sha1)", "--rtt", "80ms", "--loss", "0.005", "--rate", "100M"}},
		{"tput uncertain", "tput", []string{"--pmtu", "1400:1499", "--too-big", "pmtud", "--rtt", "30ms", "--loss", "0.001"}},
		{"tput bad loss", "tput", []string{"--loss", "1.5"}},
		{"tput bad model", "tput", []string{"--model", "cubic"}},
		// The API runs sim on one worker; sim's numbers do not depend on it.
		{"sim small", "sim", []string{"--trials", "500"}},
		{"sim lossy tunnels", "sim", []string{"--trials", "300", "--strategy", "mtukit,linear,binary", "--step", "seed", "--tunnel", "all", "--loss", "0.02", "--seed", "7"}},
		{"sim exact", "sim", []string{"--exact", "true", "--pmtu", "1400", "--loss", "0.01", "--icmp", "0.5"}},
		{"sim bad loss", "sim", []string{"--loss", "3"}},
		{"sim bad strategy", "sim", []string{"--strategy", "nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{tc.cmd, "--json"}
			for i := 0; i < len(tc.flags); i += 2 {
				args = append(args, tc.flags[i]+"="+tc.flags[i+1])
			}
			stdout, stderr, code := run(t, args...)
			r := httptest.NewRequest("GET", "/api/v1/"+tc.cmd+"?"+flagsToQuery(t, tc.flags), nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			switch code {
			case ExitOK:
				if w.Code != 200 || w.Body.String() != stdout {
					t.Fatalf("API (%d) and CLI differ:\n%s\n--- CLI\n%s", w.Code, w.Body, stdout)
				}
			case ExitUsage:
				var e struct{ Error, Param string }
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != 400 {
					t.Fatalf("API %d %q for CLI usage error %q", w.Code, w.Body, stderr)
				}
				// "mtukit: --stack: ..." is {"error": "stack: ...", "param": "stack"}.
				want := strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(stderr, "mtukit: ")), "--")
				if e.Error != want || !strings.HasPrefix(want, e.Param) || e.Param == "" {
					t.Fatalf("API error %+v, CLI %q", e, stderr)
				}
			default:
				t.Fatalf("CLI exit %d: %s", code, stderr)
			}
		})
	}
}

// Without parameters the API runs what `mtukit sim` runs: every row exact
// (the engine the report names), so --trials does not matter to it; a
// sampled row would take simDefaultTrials (2000).
func TestServeSimDefaultTrials(t *testing.T) {
	stdout, stderr, code := run(t, "sim", "--json", "--trials", "2000")
	if code != 0 {
		t.Fatal(stderr)
	}
	w := httptest.NewRecorder()
	start := time.Now()
	apiHandler().ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/sim", nil))
	if w.Code != 200 || w.Body.String() != stdout {
		t.Fatalf("API default sim (%d) differs from sim --trials 2000", w.Code)
	}
	t.Logf("default sim answered in %v", time.Since(start))
}

func TestServeAnalyzeMatchesCLI(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "capture", "testdata", "real", "zeek__icmp_icmp6-toobig.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile("toobig.pcap", src, 0o644); err != nil {
		t.Fatal(err)
	}
	h := apiHandler()
	for _, flows := range []bool{false, true} {
		args := []string{"analyze", "toobig.pcap", "--json"}
		target := "/api/v1/analyze"
		if flows {
			args = append(args, "--flows")
			target += "?flows=true"
		}
		stdout, stderr, code := run(t, args...)
		if code != 0 {
			t.Fatalf("CLI: %d %s", code, stderr)
		}
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "toobig.pcap")
		fw.Write(src)
		mw.Close()
		r := httptest.NewRequest("POST", target, &body)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || w.Body.String() != stdout {
			t.Fatalf("flows=%v: API (%d) and CLI differ:\n%s\n--- CLI\n%s", flows, w.Code, w.Body, stdout)
		}
	}
}

func TestServeFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"negative rate", []string{"serve", "--rate-limit", "-1"}, "--rate-limit"},
		{"tiny upload", []string{"serve", "--max-upload", "10"}, "--max-upload"},
		{"no jobs", []string{"serve", "--max-jobs", "0"}, "--max-jobs"},
		{"bad listen", []string{"serve", "--listen", "nonsense"}, "--listen"},
		{"extra argument", []string{"serve", "now"}, "unknown command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, tc.args...)
			if code != ExitUsage || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("code %d stderr %q", code, stderr)
			}
		})
	}
}

// mtukit serve listens, answers, and stops when its context ends.
func TestServeRuns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		code := Main(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, strings.NewReader(""), io.Discard, pw)
		pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no serving line: %v", err)
	}
	go io.Copy(io.Discard, pr)
	base := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(line, "mtukit: serving on ")), "/")
	resp, err := http.Get(base + "/api/v1/calc?stack=vxlan")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want, _, _ := run(t, "calc", "--json", "--stack", "vxlan")
	if resp.StatusCode != 200 || string(got) != want {
		t.Errorf("served calc differs from the CLI: %d", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// The CLI's flags and the API's query parameters are the same names: each
// command's flags (but the ones that only the CLI has) are what
// openapi.json documents for its endpoint, which web's test holds to the
// web's binders.
func TestServeParamsMatchFlags(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "web", "assets", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In string } `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	cliOnly := map[string]bool{"json": true, "plot": true, "workers": true, "vendor": true, "list": true, "list-presets": true, "help": true}
	root := NewRoot(&Env{})
	for _, cmd := range []string{"calc", "tput", "sim"} {
		c, _, err := root.Find([]string{cmd})
		if err != nil {
			t.Fatal(err)
		}
		var flags, params []string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !cliOnly[f.Name] {
				flags = append(flags, f.Name)
			}
		})
		for _, p := range spec.Paths["/api/v1/"+cmd]["get"].Parameters {
			params = append(params, p.Name)
		}
		slices.Sort(flags)
		slices.Sort(params)
		if !slices.Equal(flags, params) {
			t.Errorf("%s: flags %v, API parameters %v", cmd, flags, params)
		}
	}
}
