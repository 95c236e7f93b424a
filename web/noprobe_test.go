package web_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// No endpoint sends packets: the package imports nothing that probes or
// dials, nor the CLI.
func TestNoProbing(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "github.com/mtukit/mtukit/probe" || strings.HasPrefix(p, "github.com/mtukit/mtukit/probe/") ||
				p == "os/exec" || p == "syscall" || p == "golang.org/x/sys/unix" || p == "golang.org/x/net/icmp" ||
				p == "golang.org/x/net/ipv4" || p == "golang.org/x/net/ipv6" || p == "github.com/mtukit/mtukit/internal/netlab" {
				t.Errorf("%s imports %s: the web server must not send packets", name, p)
			}
		}
		src, _ := os.ReadFile(name)
		for _, bad := range []string{"net.Dial", "DialContext", "net.ListenPacket", "ListenUDP", "ListenIP"} {
			if strings.Contains(string(src), bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
		// The web calls the domain packages, never another front end.
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "github.com/mtukit/mtukit/internal/cli" {
				t.Errorf("%s imports the CLI: call the domain package instead", name)
			}
		}
	}
}
