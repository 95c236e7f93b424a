//go:build linux

package oracle

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/internal/netlab"
)

// underlays are the two VXLAN stacks calc knows, with the underlay addresses
// the lab gives the veth link.
var underlays = []struct {
	name           string
	spec           string
	fam            encap.Family
	addrA, addrB   string // prefixes on the underlay link
	localA, localB string
}{
	{"ipv4-underlay", "vxlan", encap.IPv4, "10.0.0.1/24", "10.0.0.2/24", "10.0.0.1", "10.0.0.2"},
	{"ipv6-underlay", "vxlan(ipv6)", encap.IPv6, "fd00::1/64", "fd00::2/64", "fd00::1", "fd00::2"},
}

// Inner addresses, on the vxlan devices.
const (
	innerA4, innerB4 = "192.168.100.1", "192.168.100.2"
	innerA6, innerB6 = "fd10::1", "fd10::2"
)

// vxlanLab is two hosts joined by a veth link of MTU lower (underlay) and a
// VXLAN device on each end. withDev says whether the vxlan devices are tied
// to the veth with "dev" (so the kernel derives their MTU from it); without
// it they get vxMTU. inner6 adds IPv6 addresses inside (the kernel refuses
// them on a device below 1280).
type vxlanLab struct {
	a, b *netlab.Host
	lk   *netlab.Link
	mtuA int // the MTUs the kernel gave the vxlan devices
	mtuB int
}

func newVXLANLab(t *testing.T, u int, lower int, withDev bool, vxMTU int, inner6 bool) *vxlanLab {
	t.Helper()
	un := underlays[u]
	lab := netlab.New(t)
	a, b := lab.Host("a"), lab.Host("b")
	o := netlab.LinkOpts{MTU: lower}
	if un.fam == encap.IPv4 {
		o.AddrA, o.AddrB = un.addrA, un.addrB
	} else {
		o.Addr6A, o.Addr6B = un.addrA, un.addrB
	}
	lk := lab.Link(a, b, o)
	v := &vxlanLab{a: a, b: b, lk: lk}
	for i, end := range []struct {
		h             *netlab.Host
		dev           string
		local, remote string
		in4, in6      string
	}{
		{a, lk.IfA, un.localA, un.localB, innerA4, innerA6},
		{b, lk.IfB, un.localB, un.localA, innerB4, innerB6},
	} {
		vo := netlab.VXLANOpts{VNI: 42, Local: end.local, Remote: end.remote, DF: true,
			Addr: end.in4 + "/24"}
		if inner6 {
			vo.Addr6 = end.in6 + "/64"
		}
		if withDev {
			vo.Dev = end.dev
		} else {
			vo.MTU = vxMTU
		}
		m := end.h.VXLAN("vx0", vo)
		if i == 0 {
			v.mtuA = m
		} else {
			v.mtuB = m
		}
		// No fragment of an outer (or inner) packet may arrive: what crosses
		// the tunnel crosses it whole.
		end.h.DropFragments(netlab.Input)
	}
	return v
}

// TestVXLANMatchesCalc creates VXLAN devices over veth links of several MTUs
// and checks, against calc's numbers for "vxlan" and "vxlan(ipv6)":
//   - the MTU the kernel gives a vxlan device created with "dev <lower>" is
//     calc's tunnel MTU, and the kernel refuses one byte more;
//   - a DF packet of exactly the tunnel MTU crosses the tunnel (IPv4 and
//     IPv6 inside), unfragmented, in an outer packet of calc's wire size;
//     one byte more does not;
//   - TCP through the tunnel gets calc's MSS for the stack (timestamps off).
func TestVXLANMatchesCalc(t *testing.T) {
	netlab.Require(t, "ping", "nft", "tcpdump")
	for u, un := range underlays {
		for _, lower := range []int{1500, 1400, 1280, 9000} {
			t.Run(fmt.Sprintf("%s/lower%d", un.name, lower), func(t *testing.T) {
				t.Parallel()
				st := encap.MustParse(un.spec)
				want, err := st.TunnelMTU(lower)
				if err != nil {
					t.Fatal(err)
				}
				rep := calc(t, un.spec, lower)
				if rep.TunnelMTU != want {
					t.Fatalf("calc reports tunnel MTU %d, encap solves %d", rep.TunnelMTU, want)
				}
				wire, err := st.WireSize(want, lower)
				if err != nil {
					t.Fatal(err)
				}

				inner6 := want >= encap.IPv6.MinMTU()
				v := newVXLANLab(t, u, lower, true, 0, inner6)
				t.Logf("lower %d: kernel vxlan MTU %d/%d, calc tunnel MTU %d, wire size %d, MSS %d/%d",
					lower, v.mtuA, v.mtuB, want, wire, rep.MSS.IPv4, rep.MSS.IPv6)
				if v.mtuA != want || v.mtuB != want {
					t.Fatalf("kernel gave the vxlan devices MTU %d and %d over a %d link; calc says %d",
						v.mtuA, v.mtuB, lower, want)
				}
				// The kernel's own limit (vxlan_change_mtu: lower MTU - headroom).
				if _, err := v.a.Run("ip", "link", "set", "dev", "vx0", "mtu", strconv.Itoa(want+1)); err == nil {
					t.Errorf("kernel accepted vxlan MTU %d over a %d link; calc's maximum is %d", want+1, lower, want)
				}
				if _, err := v.a.Run("ip", "link", "set", "dev", "vx0", "mtu", strconv.Itoa(want)); err != nil {
					t.Errorf("kernel refused vxlan MTU %d: %v", want, err)
				}

				cp := v.b.Capture(v.lk.IfB, "udp port 4789", "")
				checkDF(t, v.a, want, inner6)
				if _, err := cp.Stop(); err != nil {
					t.Fatal(err)
				}
				lens, frags, err := outerLens(cp.Path)
				if err != nil {
					t.Fatal(err)
				}
				full := 0
				for _, n := range lens {
					if n > lower {
						t.Errorf("outer packet of %d bytes on a %d link", n, lower)
					}
					if n == wire {
						full++
					}
				}
				// Echo request and reply per inner family: outer packets of
				// calc's wire size for a tunnel-MTU inner packet.
				wantFull := 2
				if inner6 {
					wantFull = 4
				}
				if full != wantFull || frags != 0 {
					t.Errorf("captured %d outer packets of %d bytes (want %d) and %d fragments (want 0); all lengths %v",
						full, wire, wantFull, frags, lens)
				}

				// TCP through the tunnel: the kernel's MSS is calc's.
				for _, h := range []*netlab.Host{v.a, v.b} {
					h.Sysctl("net.ipv4.tcp_timestamps", "0")
				}
				for _, in := range []struct {
					fam  encap.Family
					srv  string
					want int
				}{{encap.IPv4, innerB4, rep.MSS.IPv4}, {encap.IPv6, innerB6, rep.MSS.IPv6}} {
					if in.fam == encap.IPv6 && !inner6 {
						if rep.MSS.IPv6 != 0 {
							t.Errorf("calc reports IPv6 MSS %d for a %d tunnel MTU; IPv6 cannot run below 1280", rep.MSS.IPv6, want)
						}
						continue
					}
					cMax, sMax, _, _ := connect(t, v.a, v.b, mustAddr(t, in.srv))
					if cMax != in.want || sMax != in.want {
						t.Errorf("TCP/%s through %s over %d: TCP_MAXSEG client %d, server %d; calc's MSS %d",
							in.fam, un.spec, lower, cMax, sMax, in.want)
					}
				}
			})
		}
	}
}

// TestVXLANWireRejectsMore takes the device MTU out of the picture: the
// vxlan devices are not tied to the veth and their MTU is set to the link
// MTU itself, too large on purpose. A DF packet of calc's tunnel MTU still
// crosses whole; one byte more would need an outer packet larger than the
// link, which the kernel's encapsulation path refuses (outer DF set, or
// IPv6) and fragments would be dropped on arrival.
func TestVXLANWireRejectsMore(t *testing.T) {
	netlab.Require(t, "ping", "nft")
	for u, un := range underlays {
		for _, lower := range []int{1500, 1400} {
			t.Run(fmt.Sprintf("%s/lower%d", un.name, lower), func(t *testing.T) {
				t.Parallel()
				want, err := encap.MustParse(un.spec).TunnelMTU(lower)
				if err != nil {
					t.Fatal(err)
				}
				if rep := calc(t, un.spec, lower); rep.TunnelMTU != want {
					t.Fatalf("calc reports tunnel MTU %d, encap solves %d", rep.TunnelMTU, want)
				}
				v := newVXLANLab(t, u, lower, false, lower, true)
				if v.mtuA != lower {
					t.Fatalf("vxlan device MTU %d, set %d", v.mtuA, lower)
				}
				checkDF(t, v.a, want, true)
			})
		}
	}
}

// checkDF pings b's inner addresses from a with DF packets of exactly size
// bytes (must pass) and size+1 (must not), IPv4 inside and, with inner6, IPv6.
func checkDF(t *testing.T, a *netlab.Host, size int, inner6 bool) {
	t.Helper()
	dsts := []string{innerB4}
	if inner6 {
		dsts = append(dsts, innerB6)
	}
	for _, dst := range dsts {
		start := time.Now()
		if err := a.PingDF(dst, size); err != nil {
			t.Errorf("DF packet of %d bytes (calc's tunnel MTU) to %s did not cross the tunnel: %v", size, dst, err)
		}
		if err := a.PingDF(dst, size+1); err == nil {
			t.Errorf("DF packet of %d bytes (calc's tunnel MTU + 1) to %s crossed the tunnel", size+1, dst)
		}
		t.Logf("DF %d passes, %d fails to %s (%v)", size, size+1, dst, time.Since(start).Round(time.Millisecond))
	}
}
