package cli

import (
	"strings"
	"testing"
)

func TestWatchErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		errPart string
	}{
		{"no interface", []string{"watch"}, "accepts 1 arg"},
		{"prefix4", []string{"watch", "lo", "--prefix4", "33"}, "--prefix4 33: want 1 to 32"},
		{"prefix6", []string{"watch", "lo", "--prefix6", "0"}, "--prefix6 0: want 1 to 128"},
		{"max-peers", []string{"watch", "lo", "--max-peers", "0"}, "--max-peers 0"},
		{"max-flows", []string{"watch", "lo", "--max-flows", "0"}, "--max-flows 0"},
		{"duration", []string{"watch", "lo", "--duration", "-5s"}, "--duration -5s"},
		{"no such interface", []string{"watch", "nosuchif0"}, "nosuchif0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := run(t, tc.args...)
			if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.errPart) {
				t.Errorf("code %d stdout %q stderr %q: want exit 2, one line with %q", code, out, errs, tc.errPart)
			}
		})
	}
}
