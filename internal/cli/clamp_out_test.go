package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clampRef is the output of a plain clamp of in into a new file, to compare
// the other ways of writing with.
func clampRef(t *testing.T, in string) []byte {
	t.Helper()
	ref := filepath.Join(t.TempDir(), "ref.pcap")
	if _, errs, code := run(t, "clamp", "--in", in, "--out", ref, "--mss", "1200"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestClampOutRefused: issue 14 items 7-9. --out is replaced only when it is
// a regular file (or not there yet) that is not the input; the refusals are
// bad input (exit 2, one line) that name the user's path, never the
// temporary file's, and leave what was there untouched.
func TestClampOutRefused(t *testing.T) {
	in := filepath.Join(clampPcaps, "zeek__tcp_options.pcap")
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(dir, "own.pcap")
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(own, b, 0o644); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.pcap")
	if err := os.Link(own, hard); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, in, out, want string
		extra               []string
	}{
		{"directory", in, sub, "--out " + sub + " is a directory, not a regular file", nil},
		{"symbolic link", in, link, "--out " + link + " is a symbolic link, not a regular file", nil},
		{"out is in", own, own, "--out " + own + " is the input file: give --in-place", nil},
		{"out is a hard link to in", own, hard, "--out " + hard + " is the input file", nil},
		{"directory missing", in, filepath.Join(dir, "nope", "o.pcap"), "--out " + filepath.Join(dir, "nope", "o.pcap") + ": directory " + filepath.Join(dir, "nope") + " does not exist", nil},
		{"fifo flag on a regular file", in, target, "--fifo wants a named pipe, not", []string{"--fifo"}},
		{"in place to stdout", in, "-", "--in-place replaces a file", []string{"--in-place"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"clamp", "--in", tc.in, "--out", tc.out, "--mss", "1200"}, tc.extra...)
			_, errs, code := run(t, args...)
			if code != ExitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) || strings.Contains(errs, ".tmp-") {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, errs, tc.want)
			}
			if b, _ := os.ReadFile(target); string(b) != "keep" {
				t.Fatalf("link target rewritten: %q", b)
			}
			if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("symbolic link replaced: %v", err)
			}
			if b2, _ := os.ReadFile(own); !bytes.Equal(b2, b) {
				t.Fatal("input rewritten")
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Fatalf("temporary file left: %s", e.Name())
				}
			}
		})
	}
}

// TestClampInPlace: --in-place replaces the input with what a clamp into a
// new file writes, with --out the same file or left out.
func TestClampInPlace(t *testing.T) {
	in := filepath.Join(clampPcaps, "zeek__tcp_options.pcap")
	want := clampRef(t, in)
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--out", "SELF"}, {}} {
		f := filepath.Join(t.TempDir(), "f.pcap")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for i := range args {
			if args[i] == "SELF" {
				args[i] = f
			}
		}
		_, errs, code := run(t, append([]string{"clamp", "--in", f, "--mss", "1200", "--in-place"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if got, _ := os.ReadFile(f); !bytes.Equal(got, want) {
			t.Fatalf("%v: in-place output differs from a clamp into a new file", args)
		}
	}
}

// TestClampStdout: --out - writes the capture to stdout, byte for byte what
// a file gets, and the report to stderr; --in - reads stdin.
func TestClampStdout(t *testing.T) {
	in := filepath.Join(clampPcaps, "zeek__tcp_options.pcap")
	want := clampRef(t, in)
	out, errs, code := run(t, "clamp", "--in", in, "--out", "-", "--mss", "1200")
	if code != 0 || out != string(want) || !strings.Contains(errs, "packets_in") {
		t.Fatalf("exit %d, %d bytes on stdout (want %d), stderr %q", code, len(out), len(want), errs)
	}
	b, _ := os.ReadFile(in)
	out, _, code = runStdin(t, string(b), "clamp", "--in", "-", "--out", "-", "--mss", "1200")
	if code != 0 || out != string(want) {
		t.Fatalf("stdin to stdout: exit %d, %d bytes", code, len(out))
	}
}
