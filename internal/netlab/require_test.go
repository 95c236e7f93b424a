package netlab

import (
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  string
		ok   bool
		want action
	}{
		{"unset-possible-runs", "", true, actRun},
		{"unset-impossible-skips", "", false, actSkip},
		{"lab1-possible-runs", "1", true, actRun},
		{"lab1-impossible-fails", "1", false, actFail},
		{"lab0-possible-skips", "0", true, actSkip},
		{"lab0-impossible-skips", "0", false, actSkip},
		{"other-impossible-skips", "yes", false, actSkip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, msg := decide(tc.env, tc.ok, "no root")
			if got != tc.want {
				t.Fatalf("decide(%q, %v) = %v, want %v", tc.env, tc.ok, got, tc.want)
			}
			if got != actRun && !tc.ok && tc.env != "0" && !strings.Contains(msg, "no root") {
				t.Errorf("message %q does not carry the reason", msg)
			}
		})
	}
}

// fakeTB records what Require does instead of stopping the test.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Skipf(format string, a ...any)  { f.skipped = format + "|" + a[0].(string) }
func (f *fakeTB) Fatalf(format string, a ...any) { f.failed = format + "|" + a[0].(string) }

func TestRequire(t *testing.T) {
	saved := probe
	t.Cleanup(func() { probe = saved })
	var asked []string
	probe = func(tools []string) (bool, string) { asked = tools; return false, "needs root (euid 1000)" }

	t.Run("skips-without-env", func(t *testing.T) {
		t.Setenv(EnvVar, "")
		f := &fakeTB{TB: t}
		Require(f, "tcpdump")
		if f.failed != "" || !strings.Contains(f.skipped, "needs root") {
			t.Errorf("skipped %q, failed %q; want a skip with the reason", f.skipped, f.failed)
		}
		if strings.Join(asked, ",") != "ip,ethtool,tcpdump" {
			t.Errorf("checked tools %v, want ip, ethtool, tcpdump", asked)
		}
	})
	t.Run("fails-with-lab1", func(t *testing.T) {
		t.Setenv(EnvVar, "1")
		f := &fakeTB{TB: t}
		Require(f)
		if f.skipped != "" || !strings.Contains(f.failed, "needs root") {
			t.Errorf("skipped %q, failed %q; want a failure with the reason", f.skipped, f.failed)
		}
	})
	t.Run("runs-when-possible", func(t *testing.T) {
		t.Setenv(EnvVar, "1")
		probe = func([]string) (bool, string) { return true, "" }
		f := &fakeTB{TB: t}
		Require(f)
		if f.skipped != "" || f.failed != "" {
			t.Errorf("skipped %q, failed %q; want neither", f.skipped, f.failed)
		}
	})
}

func TestEnabledHere(t *testing.T) {
	ok, reason := Enabled()
	t.Logf("netlab enabled here: %v %s", ok, reason)
	if !ok && reason == "" {
		t.Errorf("disabled without a reason")
	}
}

func TestCapturedCount(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     int
	}{
		{"normal", "listening on eth0\n6 packets captured\n6 packets received by filter\n0 packets dropped by kernel\n", 6},
		{"singular", "listening on eth0\n1 packet captured\n1 packet received by filter\n0 packets dropped by kernel\n", 1},
		{"absent", "tcpdump: eth9: No such device\n", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := capturedCount(tc.in); got != tc.want {
				t.Errorf("capturedCount = %d, want %d", got, tc.want)
			}
		})
	}
}
