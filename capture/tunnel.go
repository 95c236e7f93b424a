package capture

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/mss"
)

// overhead is the number of bytes a packet's encapsulation adds against the
// link MTU: everything between the outermost and the innermost IP header,
// plus PPPoE and MPLS framing (which count against an Ethernet link's 1500;
// VLAN tags do not). It returns -1 when it cannot be measured.
func (p *Packet) overhead() int {
	o := 0
	if p.Tunnels > 0 {
		if p.IP.LenZero || p.IP.TotalLen == 0 || p.OuterLen == 0 {
			return -1
		}
		o = p.OuterLen - p.IP.TotalLen
	}
	for i := 0; i < p.Stack.Len(); i++ {
		switch p.Stack.At(i) {
		case LayerPPPoE:
			o += 8
		case LayerMPLS:
			o += 4
		case LayerIPv4, LayerIPv6:
			return o
		}
	}
	return o
}

func isIP(l Layer) bool { return l == LayerIPv4 || l == LayerIPv6 }

// tunnelSpec names a packet's encapsulation as a calc stack spec whose
// overhead is exactly the one measured, or returns "" when no spec in the
// catalog matches (or the stack is a mirror such as ERSPAN, not a tunnel).
func tunnelSpec(s Stack, overhead int) string {
	if s.Has(LayerERSPAN) {
		return "" // mirrored traffic: the encapsulation is the monitor's, not the flow's
	}
	n := s.Len()
	var hops [][]string // per layer of the spec, the variants to try
	i := 0
	labels := 0
	for ; i < n && !isIP(s.At(i)); i++ {
		switch s.At(i) {
		case LayerPPPoE:
			hops = append(hops, []string{"pppoe"})
		case LayerMPLS:
			labels++
		}
	}
	if labels == 1 {
		hops = append(hops, []string{"mpls", "mpls(cw)"})
	} else if labels > 1 {
		hops = append(hops, []string{fmt.Sprintf("mpls(labels=%d)", labels), fmt.Sprintf("mpls(labels=%d,cw)", labels)})
	}
	last := -1
	for j := n - 1; j >= 0; j-- {
		if isIP(s.At(j)) {
			last = j
			break
		}
	}
	for j := i; j >= 0 && j < last; {
		outer6 := s.At(j) == LayerIPv6
		k := j + 1
		for k < last && !isIP(s.At(k)) {
			k++
		}
		mid := s.l[j+1 : k]
		inner6 := s.At(k) == LayerIPv6
		v6 := func(vs ...string) []string {
			if !outer6 {
				return vs
			}
			out := make([]string, 0, 2*len(vs))
			for _, v := range vs {
				out = append(out, withArg(v, "ipv6"), withArg(v, "ipv6,noencaplimit"))
			}
			return out
		}
		var vs []string
		switch {
		case len(mid) == 0:
			switch {
			case outer6:
				vs = []string{"ip6tnl", "ip6tnl(noencaplimit)"}
			case inner6:
				vs = []string{"sit"}
			default:
				vs = []string{"ipip"}
			}
		case slices.Equal(mid, []Layer{LayerGRE}):
			vs = v6(greVariants("gre")...)
		case slices.Equal(mid, []Layer{LayerGRE, LayerEthernet}):
			vs = v6(greVariants("gretap")...)
		case slices.Equal(mid, []Layer{LayerGRE, LayerEthernet, LayerVLAN}):
			vs = v6(withArgs(greVariants("gretap"), "vlan")...)
		case slices.Equal(mid, []Layer{LayerUDP, LayerVXLAN, LayerEthernet}):
			vs = v6ish(outer6, "vxlan")
		case slices.Equal(mid, []Layer{LayerUDP, LayerVXLAN, LayerEthernet, LayerVLAN}):
			vs = v6ish(outer6, "vxlan(vlan)")
		case slices.Equal(mid, []Layer{LayerUDP, LayerGeneve, LayerEthernet}):
			o := overhead - 50
			if outer6 {
				o -= 20
			}
			if o < 0 || o%4 != 0 || o > 252 {
				return ""
			}
			g := "geneve"
			if o > 0 {
				g = fmt.Sprintf("geneve(opts=%d)", o)
			}
			vs = v6ish(outer6, g)
		case slices.Equal(mid, []Layer{LayerUDP, LayerGTPU}):
			vs = v6ish(outer6, "gtpu", "gtpu(seq)", "gtpu(5g)")
		default:
			return ""
		}
		hops = append(hops, vs)
		j = k
	}
	if len(hops) == 0 {
		return ""
	}
	// try every combination (a handful) and keep the first that matches
	var try func(h int, acc []string) string
	try = func(h int, acc []string) string {
		if h == len(hops) {
			spec := strings.Join(acc, "/")
			st, err := encap.Parse(spec)
			if err != nil {
				return ""
			}
			const inner = 1000
			if w, err := st.WireSize(inner, 9000); err == nil && w-inner == overhead {
				return st.String()
			}
			return ""
		}
		for _, v := range hops[h] {
			if s := try(h+1, append(acc, v)); s != "" {
				return s
			}
		}
		return ""
	}
	return try(0, nil)
}

func greVariants(name string) []string {
	return []string{name, name + "(key)", name + "(seq)", name + "(csum)", name + "(key,seq)", name + "(key,csum)", name + "(seq,csum)", name + "(key,seq,csum)"}
}

func v6ish(outer6 bool, vs ...string) []string {
	if !outer6 {
		return vs
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = withArg(v, "ipv6")
	}
	return out
}

func withArgs(vs []string, arg string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = withArg(v, arg)
	}
	return out
}

// withArg adds an argument to a layer spec: gre -> gre(ipv6), gre(key) -> gre(key,ipv6).
func withArg(spec, arg string) string {
	if strings.HasSuffix(spec, ")") {
		return spec[:len(spec)-1] + "," + arg + ")"
	}
	return spec + "(" + arg + ")"
}

// The MTUs calc's catalog leaves on common links, computed once.
var (
	catalogOnce sync.Once
	mtuTunnels  map[int][]string // tunnel MTU on a 1500-byte link -> specs
	mtuPlaus    map[int]bool     // MTUs a host interface plausibly has
)

func loadCatalog() {
	mtuTunnels = map[int][]string{}
	mtuPlaus = map[int]bool{}
	for _, m := range []int{576, 1280, 1500, 4352, 4470, 9000, 9001, 9216, 16384, 16436, 65535, 65536} {
		mtuPlaus[m] = true
	}
	skip := map[string]bool{"eth": true, "ipv4": true, "ipv6": true, "udp": true, "dot1q": true, "qinq": true}
	for _, l := range encap.Catalog() {
		if skip[l.Name] {
			continue
		}
		specs := []string{l.Name}
		for _, a := range l.Args {
			if a.Value == "" && a.Bytes > 0 {
				specs = append(specs, l.Name+"("+a.Name+")")
			}
		}
		for _, spec := range specs {
			st, err := encap.Parse(spec)
			if err != nil {
				continue
			}
			if m, err := st.TunnelMTU(1500); err == nil {
				if !slices.Contains(mtuTunnels[m], st.String()) {
					mtuTunnels[m] = append(mtuTunnels[m], st.String())
				}
				mtuPlaus[m] = true
			}
			if m, err := st.TunnelMTU(9000); err == nil {
				mtuPlaus[m] = true
			}
		}
	}
}

// tunnelsLeaving lists (up to three) catalog tunnels that leave exactly mtu
// on a 1500-byte link.
func tunnelsLeaving(mtu int, _ encap.Family) []string {
	catalogOnce.Do(loadCatalog)
	names := mtuTunnels[mtu]
	if len(names) > 3 {
		names = names[:3]
	}
	return names
}

// plausibleMTU reports whether a host interface could have this MTU.
func plausibleMTU(mtu int) bool {
	catalogOnce.Do(loadCatalog)
	return mtuPlaus[mtu]
}

// tunnelMSS checks an MSS announced inside a tunnel against the room the
// tunnel leaves on a 1500-byte underlay.
func (a *Analyzer) tunnelMSS(f *flow, d *dir, m int) (Finding, bool) {
	if f.overhead <= 0 || f.stack.Has(LayerERSPAN) {
		return Finding{}, false
	}
	hdr := ipTCPHeaders(f.key.fam)
	wire := m + hdr + f.overhead
	if wire <= 1500 || f.maxOuter > 1500 {
		return Finding{}, false // fits, or the underlay evidently carries more
	}
	name := a.specName(f.stack, f.overhead)
	tmtu := 1500 - f.overhead
	sender, _ := f.names(d.index(f))
	return Finding{Code: CodeTunnelMSS, Severity: SeverityWarning, MSS: m, MTU: tmtu,
		Title:   fmt.Sprintf("%s announced MSS %d inside %s (%d bytes of encapsulation)", sender, m, name, f.overhead),
		Detail:  fmt.Sprintf("a full-size segment is a %d-byte packet inside the tunnel and %d bytes on the underlay, more than a 1500-byte link carries: it relies on fragmentation or on ICMP getting through (largest underlay packet seen in this flow: %d)", m+hdr, wire, f.maxOuter),
		Packets: []int64{d.synNum}, Count: 1,
		Fix: fmt.Sprintf("on a 1500-byte underlay set the tunnel MTU to %d and clamp the MSS to %d (IPv4) / %d (IPv6) on the tunnel interface", tmtu, mss.ForMTU(tmtu, encap.IPv4), mss.ForMTU(tmtu, encap.IPv6))}, true
}

type specKey struct {
	s        Stack
	overhead int
}

// flowTunnel is the calc spec of the tunnel f rides in, "" when none.
func (a *Analyzer) flowTunnel(f *flow) string {
	if f.overhead <= 0 {
		return ""
	}
	return a.cachedSpec(f.stack, f.overhead)
}

// cachedSpec is tunnelSpec, remembered per stack and overhead.
func (a *Analyzer) cachedSpec(s Stack, overhead int) string {
	k := specKey{s, overhead}
	if v, ok := a.specs[k]; ok {
		return v
	}
	v := tunnelSpec(s, overhead)
	if a.specs == nil {
		a.specs = map[specKey]string{}
	}
	a.specs[k] = v
	return v
}

// specName names a stack for the report: the calc spec when one matches,
// else the decoded layers.
func (a *Analyzer) specName(s Stack, overhead int) string {
	if spec := a.cachedSpec(s, overhead); spec != "" {
		return spec
	}
	return s.String()
}

func (d *dir) index(f *flow) int {
	if d == &f.d[1] {
		return 1
	}
	return 0
}
