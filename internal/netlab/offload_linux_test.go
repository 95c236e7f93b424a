package netlab

import (
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestOffloadsOn: LinkOpts.Offloads turns segmentation offloads and GRO on
// at both ends, and a TCP sender's capture then shows packets larger than
// the MTU (the super-packets the kernel hands the veth).
func TestOffloadsOn(t *testing.T) {
	Require(t, "tcpdump")
	lab := New(t)
	a, b := lab.Host("a"), lab.Host("b")
	lk := lab.Link(a, b, LinkOpts{AddrA: "10.9.0.1/24", AddrB: "10.9.0.2/24", Offloads: true})
	for _, end := range []struct {
		h   *Host
		dev string
	}{{a, lk.IfA}, {b, lk.IfB}} {
		out := end.h.MustRun("ethtool", "-k", end.dev)
		for _, feat := range []string{"tcp-segmentation-offload", "generic-segmentation-offload", "generic-receive-offload"} {
			if !strings.Contains(out, feat+": on") {
				t.Errorf("%s on %s is not on:\n%s", feat, end.dev, out)
			}
		}
	}
	capt := a.Capture(lk.IfA, "tcp", "")
	c, s, err := TCPPair(b, a, netip.MustParseAddr("10.9.0.1"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	go func() { s.Write(make([]byte, 1<<20)); s.Close() }()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := io.Copy(io.Discard, c); n != 1<<20 {
		t.Fatalf("received %d bytes: %v", n, err)
	}
	c.Close()
	if _, err := capt.Stop(); err != nil {
		t.Fatal(err)
	}
	out := a.MustRun("tcpdump", "-nr", capt.Path, "-v", "greater", "1600")
	if !strings.Contains(out, "length") {
		t.Errorf("no packet above 1600 bytes in the sender's capture:\n%s", out)
	}
}
