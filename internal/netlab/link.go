package netlab

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
)

// LinkOpts describes a veth link between two hosts. Addresses are prefixes
// ("10.0.0.1/24", "fd00::1/64"); empty ones are not configured.
type LinkOpts struct {
	MTU int // both ends; 1500 when zero

	NameA, NameB string // interface names (at most 15 bytes); "eth0", "eth1"... per host when empty

	AddrA, AddrB   string // IPv4
	Addr6A, Addr6B string // IPv6, added with nodad

	KeepOffloads bool // leave tx/tso/gso/gro as the driver set them (off by default)
	// Offloads turns checksum, scatter-gather, TSO, GSO and GRO on at both
	// ends, as a server's NIC has them: the kernel hands the veth
	// super-packets of up to 64 KiB, which stay whole across the veth and
	// through a forwarding namespace, and the receiving end coalesces
	// (veth enables GRO only when asked). It overrides KeepOffloads.
	Offloads bool
	Down     bool // leave both ends down
}

// Link is a veth pair between hosts A and B.
type Link struct {
	A, B     *Host
	IfA, IfB string
	MTU      int

	AddrA, AddrB   netip.Prefix // zero when not configured
	Addr6A, Addr6B netip.Prefix
}

// Link creates a veth pair between a and b directly inside their namespaces,
// sets the MTU on both ends, turns offloads off, adds the addresses and
// brings both ends up. It fails the test on error.
func (l *Lab) Link(a, b *Host, o LinkOpts) *Link {
	l.t.Helper()
	if a == nil || b == nil || a.lab != l || b.lab != l {
		l.t.Fatalf("netlab: Link needs two hosts of this lab")
	}
	if a == b {
		l.t.Fatalf("netlab: Link from %s to itself", a.name)
	}
	mtu := o.MTU
	if mtu == 0 {
		mtu = 1500
	}
	lk := &Link{A: a, B: b, IfA: o.NameA, IfB: o.NameB, MTU: mtu}
	if lk.IfA == "" {
		lk.IfA = a.nextIfName()
	}
	if lk.IfB == "" {
		lk.IfB = b.nextIfName()
	}
	for _, n := range []string{lk.IfA, lk.IfB} {
		if len(n) == 0 || len(n) > 15 {
			l.t.Fatalf("netlab: interface name %q: want 1-15 bytes", n)
		}
	}
	var err error
	parse := func(field, s string, want6 bool) netip.Prefix {
		l.t.Helper()
		if s == "" {
			return netip.Prefix{}
		}
		p, perr := netip.ParsePrefix(s)
		if perr == nil && p.Addr().Is6() != want6 {
			perr = fmt.Errorf("wrong address family")
		}
		if perr != nil {
			l.t.Fatalf("netlab: LinkOpts.%s %q: %v", field, s, perr)
		}
		return p
	}
	lk.AddrA, lk.AddrB = parse("AddrA", o.AddrA, false), parse("AddrB", o.AddrB, false)
	lk.Addr6A, lk.Addr6B = parse("Addr6A", o.Addr6A, true), parse("Addr6B", o.Addr6B, true)

	m := strconv.Itoa(mtu)
	if _, err = l.run(context.Background(), "ip", "link", "add", lk.IfA, "netns", a.ns, "mtu", m, "type", "veth",
		"peer", "name", lk.IfB, "netns", b.ns, "mtu", m); err != nil {
		l.t.Fatalf("netlab: link %s-%s: %v", a.name, b.name, err)
	}
	for _, end := range []struct {
		h      *Host
		dev    string
		p4, p6 netip.Prefix
	}{{a, lk.IfA, lk.AddrA, lk.Addr6A}, {b, lk.IfB, lk.AddrB, lk.Addr6B}} {
		switch {
		case o.Offloads:
			end.h.OffloadsOn(end.dev)
		case !o.KeepOffloads:
			end.h.OffloadsOff(end.dev)
		}
		if end.p4.IsValid() {
			end.h.ip("addr", "add", end.p4.String(), "dev", end.dev)
		}
		if end.p6.IsValid() {
			end.h.ip("addr", "add", end.p6.String(), "dev", end.dev, "nodad")
		}
		if !o.Down {
			end.h.ip("link", "set", "dev", end.dev, "up")
		}
	}
	if !o.Down {
		for _, end := range []struct {
			h   *Host
			dev string
		}{{a, lk.IfA}, {b, lk.IfB}} {
			if err := end.h.WaitReady(end.dev); err != nil {
				l.t.Fatalf("netlab: link %s-%s: %v", a.name, b.name, err)
			}
		}
	}
	return lk
}

// OffloadsOff turns segmentation and checksum offloads off on dev, so the
// kernel hands the device packets of at most the MTU.
func (h *Host) OffloadsOff(dev string) {
	h.lab.t.Helper()
	h.MustRun("ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off")
}

// OffloadsOn turns checksum, scatter-gather and segmentation offloads
// (TSO, GSO) and GRO on for dev, so the kernel hands it super-packets larger
// than the MTU and coalesces what it receives: what a capture on a server
// with the kernel's defaults sees.
func (h *Host) OffloadsOn(dev string) {
	h.lab.t.Helper()
	h.MustRun("ethtool", "-K", dev, "tx", "on", "sg", "on", "tso", "on", "gso", "on", "gro", "on")
}

func (h *Host) nextIfName() string {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	n := "eth" + strconv.Itoa(h.ifCount)
	h.ifCount++
	return n
}

// VXLANOpts describes a VXLAN device.
type VXLANOpts struct {
	VNI    int    // VXLAN network identifier
	Local  string // underlay source address (IPv4 or IPv6; decides the underlay family)
	Remote string // underlay address of the other end
	Dev    string // lower device: the kernel derives the VXLAN MTU from it
	Port   int    // UDP destination port; 4789 when zero
	MTU    int    // 0: let the kernel choose (lower MTU minus its overhead)

	// DF sets the outer IPv4 DF bit ("df set"), so an oversized outer packet
	// is never fragmented on the way. Ignored for an IPv6 underlay.
	DF bool

	Addr, Addr6 string // addresses on the VXLAN device (prefixes)
	Down        bool   // leave it down
}

// VXLAN creates a unicast VXLAN device called name in the host, over
// o.Dev, with offloads off, addresses and up. It returns the MTU the kernel
// gave the device. It fails the test on error.
func (h *Host) VXLAN(name string, o VXLANOpts) int {
	h.lab.t.Helper()
	if len(name) == 0 || len(name) > 15 {
		h.lab.t.Fatalf("netlab %s: vxlan name %q: want 1-15 bytes", h.name, name)
	}
	port := o.Port
	if port == 0 {
		port = 4789
	}
	args := []string{"link", "add", name}
	if o.MTU != 0 {
		args = append(args, "mtu", strconv.Itoa(o.MTU))
	}
	args = append(args, "type", "vxlan", "id", strconv.Itoa(o.VNI), "dstport", strconv.Itoa(port))
	if o.Local != "" {
		args = append(args, "local", o.Local)
	}
	if o.Remote != "" {
		args = append(args, "remote", o.Remote)
	}
	if o.Dev != "" {
		args = append(args, "dev", o.Dev)
	}
	if o.DF {
		if a, err := netip.ParseAddr(o.Local); err != nil || a.Is4() {
			args = append(args, "df", "set")
		}
	}
	h.ip(args...)
	h.OffloadsOff(name)
	if o.Addr != "" {
		h.ip("addr", "add", o.Addr, "dev", name)
	}
	if o.Addr6 != "" {
		h.ip("addr", "add", o.Addr6, "dev", name, "nodad")
	}
	if !o.Down {
		h.ip("link", "set", "dev", name, "up")
		if err := h.WaitReady(name); err != nil {
			h.lab.t.Fatalf("netlab %s: %v", h.name, err)
		}
	}
	return h.MTU(name)
}
