package netlab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// twoHosts is a client and a server on one veth link of the given MTU.
func twoHosts(t *testing.T, mtu int) (*Lab, *Host, *Host, *Link) {
	t.Helper()
	lab := New(t)
	a, b := lab.Host("a"), lab.Host("b")
	o := LinkOpts{MTU: mtu, AddrA: "10.0.0.1/24", AddrB: "10.0.0.2/24"}
	if mtu >= 1280 { // the kernel disables IPv6 on smaller links
		o.Addr6A, o.Addr6B = "fd00::1/64", "fd00::2/64"
	}
	lk := lab.Link(a, b, o)
	return lab, a, b, lk
}

func TestPing(t *testing.T) {
	Require(t, "ping")
	_, a, b, _ := twoHosts(t, 1500)
	for _, tc := range []struct {
		name string
		from *Host
		dst  string
	}{
		{"a-to-b-ipv4", a, "10.0.0.2"},
		{"b-to-a-ipv4", b, "10.0.0.1"},
		{"a-to-b-ipv6", a, "fd00::2"},
		{"b-to-a-ipv6", b, "fd00::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.from.Ping(tc.dst, 1, 56); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("unreachable-fails", func(t *testing.T) {
		err := a.Ping("10.0.0.99", 1, 56)
		var ce *CmdError
		if !errors.As(err, &ce) || ce.ExitCode() == 0 {
			t.Fatalf("ping of an absent address: got %v, want a *CmdError with a non-zero exit", err)
		}
		if !strings.Contains(err.Error(), "ping") || !strings.Contains(err.Error(), "10.0.0.99") {
			t.Errorf("error %q does not name the command", err)
		}
	})
}

func TestLinkMTUAndDF(t *testing.T) {
	Require(t, "ping")
	for _, mtu := range []int{576, 1280, 1400, 1500, 9000} {
		t.Run(strconv.Itoa(mtu), func(t *testing.T) {
			t.Parallel() // each failing ping waits its second; the labs are independent
			_, a, b, lk := twoHosts(t, mtu)
			for _, end := range []struct {
				h   *Host
				dev string
			}{{a, lk.IfA}, {b, lk.IfB}} {
				if got := end.h.MTU(end.dev); got != mtu {
					t.Errorf("%s %s: kernel MTU %d, asked for %d", end.h, end.dev, got, mtu)
				}
			}
			dsts := []string{"10.0.0.2"}
			if mtu >= 1280 {
				dsts = append(dsts, "fd00::2")
			}
			for _, dst := range dsts {
				if err := a.PingDF(dst, mtu); err != nil {
					t.Errorf("DF packet of %d bytes to %s over MTU %d: %v", mtu, dst, mtu, err)
				}
				if err := a.PingDF(dst, mtu+1); err == nil {
					t.Errorf("DF packet of %d bytes to %s over MTU %d went through", mtu+1, dst, mtu)
				}
			}
		})
	}
}

func TestOffloadsOff(t *testing.T) {
	Require(t)
	_, a, _, lk := twoHosts(t, 1500)
	out := a.MustRun("ethtool", "-k", lk.IfA)
	for _, feat := range []string{"tcp-segmentation-offload", "generic-segmentation-offload", "generic-receive-offload", "tx-checksumming"} {
		if !strings.Contains(out, feat+": off") {
			t.Errorf("%s on %s is not off:\n%s", feat, lk.IfA, out)
		}
	}
}

func TestCleanupLeavesNothing(t *testing.T) {
	Require(t, "sleep")
	rootLinks := func() string {
		out, err := runCmd(t.Context(), DefaultTimeout, nil, "ip", "-o", "link", "show")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := rootLinks()
	var names []string
	var proc *Proc
	t.Run("lab", func(t *testing.T) {
		lab, a, _, _ := twoHosts(t, 1400)
		proc = a.Start("sleep", "60")
		names = lab.Namespaces()
		if len(names) != 2 {
			t.Fatalf("namespaces %v, want 2", names)
		}
		for _, n := range names {
			if !strings.HasPrefix(n, lab.Prefix()) || !strings.Contains(n, "-"+strconv.Itoa(os.Getpid())+"-") {
				t.Errorf("namespace %q does not carry the lab prefix %q and pid", n, lab.Prefix())
			}
			if _, err := os.Stat(filepath.Join(nsDir, n)); err != nil {
				t.Errorf("namespace %s missing while the lab runs: %v", n, err)
			}
		}
	})
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(nsDir, n)); !os.IsNotExist(err) {
			t.Errorf("namespace %s still exists after cleanup (stat: %v)", n, err)
		}
	}
	if proc == nil || !proc.Exited() {
		t.Errorf("background process still running after cleanup")
	}
	if after := rootLinks(); after != before {
		t.Errorf("links in the caller's namespace changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestUniqueNames(t *testing.T) {
	Require(t)
	l1, l2 := New(t), New(t)
	if l1.Prefix() == l2.Prefix() {
		t.Fatalf("two labs share the prefix %q", l1.Prefix())
	}
	h1, h2 := l1.Host("x"), l2.Host("x")
	if h1.Namespace() == h2.Namespace() {
		t.Fatalf("same host name in two labs gave one namespace %q", h1.Namespace())
	}
}

func TestDoOpensSocketsInNamespace(t *testing.T) {
	Require(t)
	_, a, b, _ := twoHosts(t, 1500)
	var ln net.Listener
	if err := b.Do(func() (err error) {
		ln, err = net.Listen("tcp4", "10.0.0.2:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	var c net.Conn
	if err := a.Do(func() (err error) {
		c, err = net.DialTimeout("tcp4", ln.Addr().String(), 3*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "hi" {
		t.Fatalf("read %q, %v; want hi", buf, err)
	}
	// The caller's namespace has no 10.0.0.2: the listener is not there.
	if _, err := net.DialTimeout("tcp4", ln.Addr().String(), 200*time.Millisecond); err == nil {
		t.Errorf("dialled %s from the test's own namespace", ln.Addr())
	}
	// Do restores the thread: the namespace files differ inside and outside.
	outside, _ := os.Readlink("/proc/thread-self/ns/net")
	var inside string
	a.Do(func() error { inside, _ = os.Readlink("/proc/thread-self/ns/net"); return nil })
	if inside == outside || inside == "" {
		t.Errorf("netns inside Do %q, outside %q", inside, outside)
	}
	if err := a.Do(func() error { panic("boom") }); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("panic in Do returned %v", err)
	}
}

func TestSysctlAndForwarding(t *testing.T) {
	Require(t)
	lab := New(t)
	h := lab.Host("r")
	for _, key := range []string{"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"} {
		if v, err := h.GetSysctl(key); err != nil || v != "0" {
			t.Errorf("%s = %q, %v before Forwarding(true), want 0", key, v, err)
		}
	}
	h.Forwarding(true)
	for _, key := range []string{"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"} {
		if v, err := h.GetSysctl(key); err != nil || v != "1" {
			t.Errorf("%s = %q, %v after Forwarding(true), want 1", key, v, err)
		}
	}
	h.Sysctl("net.ipv4.tcp_timestamps", "0")
	if out := h.MustRun("cat", "/proc/sys/net/ipv4/tcp_timestamps"); strings.TrimSpace(out) != "0" {
		t.Errorf("tcp_timestamps seen by a process in the namespace: %q, want 0", out)
	}
	// Per namespace: the test's own namespace is untouched by the host's value.
	if v, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(string(v)) == "1" {
		t.Log("note: ip_forward is 1 in the caller's namespace (set outside this test)")
	}
	if err := h.SetSysctl("net.ipv4.no_such_key", "1"); err == nil {
		t.Errorf("setting a missing sysctl succeeded")
	}
}

// TestRouterNft builds client - router - server, with the router's second
// link smaller, and checks the nft helpers change what gets through.
func TestRouterNft(t *testing.T) {
	Require(t, "ping", "nft")
	lab := New(t)
	c, r, s := lab.Host("client"), lab.Host("router"), lab.Host("server")
	lab.Link(c, r, LinkOpts{MTU: 1500, AddrA: "10.1.0.1/24", AddrB: "10.1.0.2/24", Addr6A: "fd01::1/64", Addr6B: "fd01::2/64"})
	lab.Link(r, s, LinkOpts{MTU: 1400, AddrA: "10.2.0.1/24", AddrB: "10.2.0.2/24", Addr6A: "fd02::1/64", Addr6B: "fd02::2/64"})
	r.Forwarding(true)
	c.Route("default", "10.1.0.2")
	c.Route("default6", "fd01::2")
	s.Route("default", "10.2.0.1")
	s.Route("default6", "fd02::1")

	for _, dst := range []string{"10.2.0.2", "fd02::2"} {
		if err := c.PingDF(dst, 1400); err != nil {
			t.Fatalf("routed DF ping of 1400 to %s: %v", dst, err)
		}
	}
	// Each step below adds rules to the router; they accumulate, so the
	// order matters (the size drop only concerns packets over 1000 bytes).
	r.DropLarger(Forward, 1000)
	if err := c.PingDF("10.2.0.2", 1000); err != nil {
		t.Errorf("size drop: 1000-byte packet dropped: %v", err)
	}
	if err := c.PingDF("10.2.0.2", 1001); err == nil {
		t.Errorf("size drop: 1001-byte packet passed a meta length > 1000 drop")
	}

	// Black hole: a 1401-byte IPv6 probe to the 1400 link makes the router
	// send a PTB, which the router's own output chain drops.
	r.DropPTB()
	before := ptbCount(c)
	if err := c.PingDF("fd02::2", 1401); err == nil {
		t.Errorf("black hole: a 1401-byte packet crossed a 1400 link")
	}
	if got := ptbCount(c); got != before {
		t.Errorf("black hole: client received %d PTBs", got-before)
	}
	if rules := r.NftList(); !strings.Contains(rules, "packet-too-big counter packets 1 ") {
		t.Errorf("black hole: the router's PTB drop rule did not count exactly one packet:\n%s", rules)
	}

	// 30% random loss on ICMP in both directions: an echo survives with
	// probability 0.7*0.7 = 0.49, so 200 echoes give 98 replies on average
	// (standard deviation 7); 60..140 is more than five deviations either way.
	r.RandomLoss(Forward, 30, "ip protocol icmp")
	out, _ := c.Run("ping", "-n", "-q", "-c", "200", "-i", "0.002", "-W", "1", "10.2.0.2")
	got := received(out)
	if got < 60 || got > 140 {
		t.Errorf("random loss 30%%: %d of 200 echoes answered, want about 98\n%s", got, out)
	}
	r.RandomLoss(Forward, 100, "ip protocol icmp")
	if err := c.Ping("10.2.0.2", 1, 56); err == nil {
		t.Errorf("random loss 100%%: ping passed")
	}
}

// received parses ping's "N received" summary (-1 when absent).
func received(out string) int {
	for _, f := range strings.Split(out, ",") {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d received", &n); err == nil {
			return n
		}
	}
	return -1
}

// ptbCount is the client's count of received ICMPv6 packet-too-big messages.
func ptbCount(h *Host) int {
	out, err := h.Run("cat", "/proc/net/snmp6")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "Icmp6InPktTooBigs" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return -1
}

func TestCapture(t *testing.T) {
	Require(t, "tcpdump", "ping")
	_, a, b, lk := twoHosts(t, 1500)
	cp := b.Capture(lk.IfB, "icmp", "")
	for i := 0; i < 3; i++ {
		if err := a.Ping("10.0.0.2", 1, 100); err != nil {
			t.Fatal(err)
		}
	}
	n, err := cp.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 { // three requests and three replies
		t.Errorf("captured %d packets, want 6", n)
	}
	if st, err := os.Stat(cp.Path); err != nil || st.Size() < 24+6*(16+142) {
		t.Errorf("pcap %s: %v, size %v", cp.Path, err, st)
	}
}

func TestRunErrorNamesCommand(t *testing.T) {
	Require(t)
	lab := New(t)
	h := lab.Host("h")
	_, err := h.Run("ip", "link", "show", "dev", "nosuchdev0")
	var ce *CmdError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want *CmdError", err)
	}
	if !strings.Contains(err.Error(), "ip link show dev nosuchdev0") || !strings.Contains(err.Error(), "nosuchdev0") || ce.Stderr == "" {
		t.Errorf("error %q lacks the command or stderr", err)
	}
	lab.Timeout = 200 * time.Millisecond
	start := time.Now()
	_, err = h.Run("sleep", "5")
	if err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("sleep 5 with a 200ms timeout: %v after %v", err, time.Since(start))
	}
}

func TestSweepStale(t *testing.T) {
	Require(t)
	// A pid above any pid_max (at most 2^22) belongs to no process.
	dead := nsPrefix + "99999999-1-abcd-x"
	alive := nsPrefix + strconv.Itoa(os.Getppid()) + "-1-abcd-x" // our parent is alive
	for _, n := range []string{dead, alive} {
		if _, err := runCmd(t.Context(), DefaultTimeout, nil, "ip", "netns", "add", n); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { runCmd(context.Background(), DefaultTimeout, nil, "ip", "netns", "delete", n) })
	}
	sweepStale()
	if _, err := os.Stat(filepath.Join(nsDir, dead)); !os.IsNotExist(err) {
		t.Errorf("namespace of a dead pid survived the sweep (stat: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(nsDir, alive)); err != nil {
		t.Errorf("namespace of a live pid was swept: %v", err)
	}
}
