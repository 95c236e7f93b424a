package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeTour runs every command of the README's code blocks, as
// written, in-process through Main, in a scratch directory holding a copy
// of examples/ (so the files the tour names exist and what it writes goes
// nowhere). Lines that are not mtukit commands are skipped only for a
// stated reason; any other line fails the test, so the README cannot show
// a command that does not run. The numbers a command's comment promises
// must be in its output.
func TestReadmeTour(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "examples"), os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	skip := []struct{ prefix, why string }{
		{"./scripts/test.sh", "the whole test suite; it runs this test"},
		{"go install ", "fetches the module from the network"},
		{"mtukit responder ", "a long-running server on the far end of a real path"},
		{"mtukit probe ", "probes a real remote host (far.example.net); probe's own tests cover it against a loopback responder"},
		{"mtukit exporter ", "a long-running server that probes real targets; exporter's own tests and TestLabPrometheus cover it"},
		{"mtukit watch ", "captures a live interface until stopped; TestLabWatch covers it in a namespace lab"},
		{"mtukit analyze --live ", "captures a live interface (root); TestLabAnalyzeLive covers it in a namespace lab"},
		{"tcpdump ", "captures a live interface (root); TestLabAnalyzeLive and the stdin tests cover analyze -"},
		{"mtukit serve", "a long-running server; TestServeRuns starts it and compares its API with the CLI"},
	}
	number := regexp.MustCompile(`\b\d{3,}\b`)
	exitStatus := regexp.MustCompile(`exit status (\d)\b`)
	ran := 0
	for _, line := range readmeCommands(string(readme)) {
		cmd, comment, _ := strings.Cut(line, " # ")
		cmd = strings.TrimSpace(cmd)
		t.Run(cmd, func(t *testing.T) {
			for _, s := range skip {
				if strings.HasPrefix(cmd, s.prefix) {
					t.Skip(s.why)
				}
			}
			args := shellWords(t, cmd)
			switch {
			case len(args) > 3 && args[0] == "go" && args[1] == "run" && args[2] == "./cmd/mtukit":
				args = args[3:]
			case len(args) > 0 && args[0] == "mtukit":
				args = args[1:]
			default:
				t.Fatalf("README shows %q, which is neither an mtukit command nor skipped for a reason", cmd)
			}
			want := 0 // a comment saying "exit status N" promises that status
			if m := exitStatus.FindStringSubmatch(comment); m != nil {
				want = int(m[1][0] - '0')
			}
			var out, errb bytes.Buffer
			if code := Main(context.Background(), args, strings.NewReader(""), &out, &errb); code != want {
				t.Fatalf("exit %d, want %d: %s", code, want, errb.String())
			}
			for _, n := range number.FindAllString(comment, -1) {
				if !strings.Contains(out.String(), n) {
					t.Errorf("the README's comment promises %s; the output has no %s", strings.TrimSpace(comment), n)
				}
			}
			ran++
		})
	}
	if ran < 15 {
		t.Errorf("ran %d README commands: the parser lost some", ran)
	}
}

// readmeCommands are the lines of the README's sh code blocks, without
// blank lines and whole-line comments.
func readmeCommands(md string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(md, "\n") {
		switch t := strings.TrimSpace(l); {
		case strings.HasPrefix(t, "```sh"):
			in = true
		case strings.HasPrefix(t, "```"):
			in = false
		case in && t != "" && !strings.HasPrefix(t, "#"):
			out = append(out, t)
		}
	}
	return out
}

// shellWords splits a command line as sh would for the quoting the README
// uses: words separated by blanks, '...' and "..." quoted.
func shellWords(t *testing.T, s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.IndexByte("|&;<>$`\\", c) >= 0:
			t.Fatalf("%q uses shell syntax (%q) the tour cannot run in-process", s, c)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("%q: unclosed quote", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
