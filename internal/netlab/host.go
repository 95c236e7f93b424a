package netlab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Host is one network namespace in a lab.
type Host struct {
	lab  *Lab
	name string // as given to Lab.Host
	ns   string // namespace name (unique on the machine)

	ifCount int // for default interface names
}

var hostName = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

// Host creates a namespace for a host called name (lower-case letters and
// digits, at most 16, unique in the lab), with lo up, IPv6 DAD off, ICMP rate
// limits off and forwarding off.
func (l *Lab) Host(name string) *Host {
	l.t.Helper()
	if !hostName.MatchString(name) {
		l.t.Fatalf("netlab: host name %q: want 1-16 lower-case letters and digits, starting with a letter", name)
	}
	l.mu.Lock()
	for _, h := range l.hosts {
		if h.name == name {
			l.mu.Unlock()
			l.t.Fatalf("netlab: host %q already exists in this lab", name)
		}
	}
	if l.closed {
		l.mu.Unlock()
		l.t.Fatalf("netlab: Host(%q) on a lab that was already cleaned up", name)
	}
	h := &Host{lab: l, name: name, ns: l.prefix + name}
	l.mu.Unlock()

	if _, err := l.run(context.Background(), "ip", "netns", "add", h.ns); err != nil {
		l.t.Fatalf("netlab: %v", err)
	}
	// Registered only once it exists, so cleanup deletes exactly what was made.
	l.mu.Lock()
	l.hosts = append(l.hosts, h)
	l.mu.Unlock()

	h.ip("link", "set", "lo", "up")
	for _, kv := range [][2]string{
		{"net.ipv6.conf.all.accept_dad", "0"},
		{"net.ipv6.conf.default.accept_dad", "0"},
		{"net.ipv4.icmp_ratelimit", "0"},
		{"net.ipv6.icmp.ratelimit", "0"},
		{"net.ipv4.ip_forward", "0"},
		{"net.ipv6.conf.all.forwarding", "0"},
	} {
		h.Sysctl(kv[0], kv[1])
	}
	return h
}

// Name is the host's name in the lab ("client").
func (h *Host) Name() string { return h.name }

// Namespace is the host's network namespace name, as ip netns knows it.
func (h *Host) Namespace() string { return h.ns }

// NamespacePath is the file that pins the namespace (for setns or nsenter).
func (h *Host) NamespacePath() string { return filepath.Join(nsDir, h.ns) }

func (h *Host) String() string { return h.name }

// ip runs "ip -n NS args..." and fails the test on error.
func (h *Host) ip(args ...string) string {
	h.lab.t.Helper()
	out, err := h.lab.run(context.Background(), append([]string{"ip", "-n", h.ns}, args...)...)
	if err != nil {
		h.lab.t.Fatalf("netlab %s: %v", h.name, err)
	}
	return out
}

// IP runs the ip command against this host's namespace ("ip -n NS args...")
// and fails the test on error.
func (h *Host) IP(args ...string) string {
	h.lab.t.Helper()
	return h.ip(args...)
}

// Run runs argv inside the host's namespace (ip netns exec) with the lab's
// timeout and returns its stdout. A failure is a *CmdError naming the command
// and carrying its stderr.
func (h *Host) Run(argv ...string) (string, error) {
	return h.RunContext(context.Background(), argv...)
}

// RunContext is Run with a context; the lab's timeout still applies.
func (h *Host) RunContext(ctx context.Context, argv ...string) (string, error) {
	if len(argv) == 0 {
		return "", fmt.Errorf("netlab %s: run: empty command", h.name)
	}
	return runCmd(ctx, h.lab.timeout(), nil, h.execArgv(argv)...)
}

// RunInput is Run with stdin.
func (h *Host) RunInput(stdin string, argv ...string) (string, error) {
	if len(argv) == 0 {
		return "", fmt.Errorf("netlab %s: run: empty command", h.name)
	}
	return runCmd(context.Background(), h.lab.timeout(), []byte(stdin), h.execArgv(argv)...)
}

// MustRun is Run that fails the test on error.
func (h *Host) MustRun(argv ...string) string {
	h.lab.t.Helper()
	out, err := h.Run(argv...)
	if err != nil {
		h.lab.t.Fatalf("netlab %s: %v", h.name, err)
	}
	return out
}

func (h *Host) execArgv(argv []string) []string {
	return append([]string{"ip", "netns", "exec", h.ns}, argv...)
}

// Sysctl sets a sysctl in the host's namespace; key is dotted
// ("net.ipv4.tcp_timestamps") or a path under /proc/sys
// ("net/ipv4/conf/eth0.100/mtu" for names with dots). It fails the test on error.
func (h *Host) Sysctl(key, value string) {
	h.lab.t.Helper()
	if err := h.SetSysctl(key, value); err != nil {
		h.lab.t.Fatalf("netlab %s: %v", h.name, err)
	}
}

// SetSysctl is Sysctl returning the error.
func (h *Host) SetSysctl(key, value string) error {
	p := sysctlPath(key)
	return h.Do(func() error {
		if err := os.WriteFile(p, []byte(value), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
		}
		return nil
	})
}

// GetSysctl reads a sysctl in the host's namespace.
func (h *Host) GetSysctl(key string) (string, error) {
	var v string
	err := h.Do(func() error {
		b, err := os.ReadFile(sysctlPath(key))
		if err != nil {
			return fmt.Errorf("sysctl %s: %w", key, err)
		}
		v = strings.TrimSpace(string(b))
		return nil
	})
	return v, err
}

func sysctlPath(key string) string {
	if !strings.Contains(key, "/") {
		key = strings.ReplaceAll(key, ".", "/")
	}
	return filepath.Join("/proc/sys", key)
}

// Forwarding turns IPv4 and IPv6 forwarding on or off.
func (h *Host) Forwarding(on bool) {
	h.lab.t.Helper()
	v := "0"
	if on {
		v = "1"
	}
	h.Sysctl("net.ipv4.ip_forward", v)
	h.Sysctl("net.ipv6.conf.all.forwarding", v)
}

// Route adds (or replaces) a route: dst is a prefix or "default" (IPv4;
// "default6" for IPv6), via a gateway address; extra is appended to the ip
// command ("mtu", "lock", "1400", or "dev", "eth1"...).
func (h *Host) Route(dst, via string, extra ...string) {
	h.lab.t.Helper()
	args := []string{"route", "replace"}
	if dst == "default6" {
		args = []string{"-6", "route", "replace"}
		dst = "default"
	}
	args = append(args, dst)
	if via != "" {
		args = append(args, "via", via)
	}
	h.ip(append(args, extra...)...)
}

// SetMTU changes the MTU of an interface in this host.
func (h *Host) SetMTU(dev string, mtu int) {
	h.lab.t.Helper()
	h.ip("link", "set", "dev", dev, "mtu", strconv.Itoa(mtu))
}

// LinkInfo is what the kernel reports about an interface (ip -j -d link show).
type LinkInfo struct {
	Name      string   `json:"ifname"`
	MTU       int      `json:"mtu"`
	MinMTU    int      `json:"min_mtu"`
	MaxMTU    int      `json:"max_mtu"`
	OperState string   `json:"operstate"`
	Flags     []string `json:"flags"`
	LinkInfo  struct {
		Kind string `json:"info_kind"`
	} `json:"linkinfo"`
}

// Link reads an interface's state from the kernel.
func (h *Host) LinkInfo(dev string) (LinkInfo, error) {
	out, err := h.lab.run(context.Background(), "ip", "-n", h.ns, "-j", "-d", "link", "show", "dev", dev)
	if err != nil {
		return LinkInfo{}, err
	}
	var infos []LinkInfo
	if err := json.Unmarshal([]byte(out), &infos); err != nil || len(infos) != 1 {
		return LinkInfo{}, fmt.Errorf("netlab %s: ip -j link show %s: unexpected output %q", h.name, dev, out)
	}
	return infos[0], nil
}

// WaitReady waits (at most 5s) until dev can carry traffic: operational
// state UP (or UNKNOWN, for devices without carrier, such as vxlan), which
// the kernel sets only once its link watcher has activated the device's
// queue (before that, veth drops every packet), and no IPv6 address still
// tentative. Link and VXLAN call it; call it after bringing a device up by hand.
func (h *Host) WaitReady(dev string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := h.lab.run(context.Background(), "ip", "-n", h.ns, "-j", "addr", "show", "dev", dev)
		if err != nil {
			return err
		}
		var st []struct {
			OperState string `json:"operstate"`
			Addrs     []struct {
				Local     string `json:"local"`
				Tentative bool   `json:"tentative"`
			} `json:"addr_info"`
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil || len(st) != 1 {
			return fmt.Errorf("netlab %s: ip -j addr show %s: unexpected output %q", h.name, dev, out)
		}
		ready := st[0].OperState == "UP" || st[0].OperState == "UNKNOWN"
		var tentative []string
		for _, a := range st[0].Addrs {
			if a.Tentative {
				tentative = append(tentative, a.Local)
			}
		}
		if ready && len(tentative) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("netlab %s: %s not ready after 5s: operstate %s, tentative %v", h.name, dev, st[0].OperState, tentative)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// MTU is the kernel's MTU for an interface in this host; it fails the test on error.
func (h *Host) MTU(dev string) int {
	h.lab.t.Helper()
	li, err := h.LinkInfo(dev)
	if err != nil {
		h.lab.t.Fatalf("netlab %s: %v", h.name, err)
	}
	return li.MTU
}

// Ping sends count echo requests to dst (IPv4 or IPv6) with ICMP payload
// size bytes and waits at most one second per reply; extra is passed to ping.
// It returns nil when at least one reply came back.
func (h *Host) Ping(dst string, count, size int, extra ...string) error {
	argv := []string{"ping", "-n", "-c", strconv.Itoa(count), "-W", "1", "-s", strconv.Itoa(size)}
	if a, err := netip.ParseAddr(dst); err == nil && a.Is6() && !a.Is4In6() {
		argv = append(argv, "-6")
	} else if err == nil {
		argv = append(argv, "-4")
	}
	argv = append(append(argv, extra...), dst)
	_, err := h.Run(argv...)
	return err
}

// PingDF sends one echo request whose IP packet is exactly packetSize bytes,
// with fragmentation forbidden (ping -M do), and returns nil when the reply
// came back. The ICMP payload is packetSize-28 for IPv4 (20-byte header,
// 8-byte ICMP header) and packetSize-48 for IPv6 (40 + 8): no options, no
// extension headers. A packet larger than the local route MTU fails at once
// ("message too long"); one dropped on the way fails after a second.
func (h *Host) PingDF(dst string, packetSize int) error {
	a, err := netip.ParseAddr(dst)
	if err != nil {
		return fmt.Errorf("netlab %s: ping: bad address %q", h.name, dst)
	}
	hdr := 28
	if a.Is6() && !a.Is4In6() {
		hdr = 48
	}
	if packetSize < hdr {
		return fmt.Errorf("netlab %s: ping: packet size %d is below the %d header bytes", h.name, packetSize, hdr)
	}
	return h.Ping(dst, 1, packetSize-hdr, "-M", "do")
}
