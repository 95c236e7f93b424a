package netlab

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// EnvVar is the environment variable that controls lab tests: "1" turns every
// reason to skip into a failure, "0" skips lab tests even where they could
// run, anything else (or unset) runs them when possible and skips otherwise.
const EnvVar = "MTUKIT_LAB"

// baseTools are the commands every lab uses (hosts, links, offloads).
var baseTools = []string{"ip", "ethtool"}

// probe reports whether the lab can run here; tests replace it.
var probe = func(tools []string) (bool, string) {
	if runtime.GOOS != "linux" {
		return false, fmt.Sprintf("netlab needs linux network namespaces (GOOS=%s)", runtime.GOOS)
	}
	if uid := os.Geteuid(); uid != 0 {
		return false, fmt.Sprintf("netlab needs root to create network namespaces (euid %d)", uid)
	}
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return false, fmt.Sprintf("netlab needs %s in PATH (apt-get install iproute2 ethtool nftables tcpdump iputils-ping)", strings.Join(missing, ", "))
	}
	return true, ""
}

// Enabled reports whether lab tests can run here (Linux, root, ip and
// ethtool, plus the extra tools named) and, when not, why.
// It does not look at MTUKIT_LAB.
func Enabled(tools ...string) (bool, string) {
	return probe(append(append([]string(nil), baseTools...), tools...))
}

// Require skips t when the lab cannot run here (not Linux, not root, a tool
// missing: ip and ethtool always, plus the tools named), with the reason.
// With MTUKIT_LAB=1 it fails t instead, so a CI job that promises lab
// coverage cannot silently skip. With MTUKIT_LAB=0 it always skips.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	ok, reason := Enabled(tools...)
	switch act, msg := decide(os.Getenv(EnvVar), ok, reason); act {
	case actFail:
		t.Fatalf("%s", msg)
	case actSkip:
		t.Skipf("%s", msg)
	}
}

type action int

const (
	actRun action = iota
	actSkip
	actFail
)

// decide is Require's policy, apart from the environment so it can be tested.
func decide(env string, ok bool, reason string) (action, string) {
	switch {
	case env == "0":
		return actSkip, "lab test skipped: " + EnvVar + "=0"
	case ok:
		return actRun, ""
	case env == "1":
		return actFail, "lab test cannot run and " + EnvVar + "=1 requires it: " + reason
	default:
		return actSkip, "lab test skipped: " + reason + " (set " + EnvVar + "=1 to fail instead)"
	}
}
