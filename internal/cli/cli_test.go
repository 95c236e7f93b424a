package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update rewrites golden files: go test ./internal/cli -update (review the diff).
var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// run executes the real CLI in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runStdin(t, "", args...)
}

func runStdin(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func TestVersionAndUsageErrors(t *testing.T) {
	out, _, code := run(t, "version")
	if code != ExitOK || !strings.HasPrefix(out, "mtukit ") {
		t.Fatalf("version: code %d out %q", code, out)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"unknown command", []string{"nosuchcommand"}},
		{"unknown flag", []string{"version", "--nosuchflag"}},
		{"extra argument", []string{"version", "extra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := run(t, tc.args...)
			if code != ExitUsage {
				t.Fatalf("code = %d, want %d (stderr %q)", code, ExitUsage, errs)
			}
			if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "mtukit: ") {
				t.Fatalf("want one error line, got %q", errs)
			}
		})
	}
}

// goldenReport runs `mtukit CMD ARGS` and `mtukit CMD --json ARGS` and
// compares both outputs with testdata/CMD/NAME.txt and .json.
func goldenReport(t *testing.T, cmd, name string, args ...string) (text, js string) {
	t.Helper()
	text, errs, code := run(t, append([]string{cmd}, args...)...)
	if code != ExitOK {
		t.Fatalf("%s %v: exit %d: %s", cmd, args, code, errs)
	}
	golden(t, cmd+"/"+name+".txt", text)
	js, errs, code = run(t, append([]string{cmd, "--json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("%s --json %v: exit %d: %s", cmd, args, code, errs)
	}
	golden(t, cmd+"/"+name+".json", js)
	return text, js
}
