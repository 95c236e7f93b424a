package lint

import (
	"go/build"
	"os/exec"
	"strings"
	"testing"
)

// pure packages must not import these, directly or through any dependency
// (net/netip is fine: it is a value type, not a socket).
var forbidden = []string{"net", "syscall", "golang.org/x/sys/unix", "os/exec", "net/http"}

var purePackages = []string{"encap", "mss", "plpmtud", "plpmtud/sim", "tput", "advise", "icmpquote"}

const module = "github.com/mtukit/mtukit"

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

func TestPurePackagesImportNoNetOrSyscall(t *testing.T) {
	have := map[string]bool{}
	for _, p := range goList(t, module+"/...") {
		have[p] = true
	}
	for _, p := range purePackages {
		path := module + "/" + p
		if !have[path] {
			continue // not written yet
		}
		// Direct imports: no sockets, no syscalls.
		for _, d := range goList(t, "-f", `{{join .Imports " "}}`, path) {
			for _, f := range forbidden {
				if d == f {
					t.Errorf("pure package %s imports %s", p, f)
				}
			}
		}
		// Through the module: only other pure packages.
		for _, d := range goList(t, "-deps", path) {
			if dep, ok := strings.CutPrefix(d, module+"/"); ok && !isPure(dep) {
				t.Errorf("pure package %s depends on %s, which is not pure", p, dep)
			}
		}
	}
}

func isPure(p string) bool {
	for _, q := range purePackages {
		if p == q {
			return true
		}
	}
	return false
}

func TestEveryPackageHasADoc(t *testing.T) {
	for _, p := range goList(t, "-f", "{{.Dir}}", module+"/...") {
		pkg, err := build.ImportDir(p, build.ImportComment)
		if err != nil {
			continue
		}
		if strings.TrimSpace(pkg.Doc) == "" {
			t.Errorf("package in %s has no package doc comment", p)
		}
	}
}
