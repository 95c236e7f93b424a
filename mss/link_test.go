package mss

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/mtukit/mtukit/encap"
)

// TestLocate checks the offset, family and layers the locator finds in one
// frame per framing, and its answer for frames cut or lying inside a link
// header. Offsets are counted from the header sizes of the specifications
// named in link.go (the capture package checks the same framings against
// tshark).
func TestLocate(t *testing.T) {
	ip4 := make([]byte, 20)
	ip4[0] = 0x45
	eth := func(et uint16) []byte { return binary.BigEndian.AppendUint16(make([]byte, 12), et) }
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tag := func(tpid uint16) []byte { return binary.BigEndian.AppendUint16([]byte{0, 1}, tpid) }
	vlans := func(n int) []byte { return bytes.Repeat(tag(0x8100), n) }
	for _, tc := range []struct {
		name   string
		fr     Framing
		buf    []byte
		reason Reason
		off    int
		family encap.Family
		layers string
	}{
		{"ethernet", FrameEthernet, cat(eth(0x0800), ip4), ReasonNone, 14, encap.IPv4, "eth"},
		{"eight tags", FrameEthernet, cat(eth(0x88a8), vlans(7), []byte{0, 1, 0x86, 0xdd}, ip4), ReasonNone, 14 + 32, encap.IPv6, "eth/qinq/vlan/vlan/vlan/vlan/vlan/vlan/vlan"},
		{"fifteen tags: sixteen headers", FrameEthernet, cat(eth(0x8100), vlans(14), []byte{0, 1, 8, 0}, ip4), ReasonNone, 14 + 60, encap.IPv4, "eth" + repeat("/vlan", 15)},
		{"sixteen tags: too deep", FrameEthernet, cat(eth(0x8100), vlans(15), []byte{0, 1, 8, 0}, ip4), ReasonBadHeader, 14 + 60, 0, "eth" + repeat("/vlan", 15)},
		{"arp", FrameEthernet, cat(eth(0x0806), ip4), ReasonNotIP, 14, 0, "eth"},
		{"802.3 LLC/SNAP", FrameEthernet, cat(eth(28), []byte{0xaa, 0xaa, 3, 0, 0, 0, 8, 0}, ip4), ReasonNone, 22, encap.IPv4, "eth/llc"},
		{"802.3 STP", FrameEthernet, cat(eth(38), []byte{0x42, 0x42, 3, 0, 0, 0, 0, 0}), ReasonNotIP, 14, 0, "eth"},
		{"pppoe PFC", FrameEthernet, cat(eth(0x8864), []byte{0x11, 0, 0, 1, 0, 21, 0x21}, ip4), ReasonNone, 21, encap.IPv4, "eth/pppoe"},
		{"pppoe LCP", FrameEthernet, cat(eth(0x8864), []byte{0x11, 0, 0, 1, 0, 6, 0xc0, 0x21, 1, 1, 0, 4}), ReasonNotIP, 22, 0, "eth/pppoe"},
		{"pppoe cut in the protocol", FrameEthernet, cat(eth(0x8864), []byte{0x11, 0, 0, 1, 0, 6, 0}), ReasonShort, 14, 0, "eth/pppoe"},
		{"pbb", FrameEthernet, cat(eth(0x88e7), make([]byte, 16), []byte{8, 0}, ip4), ReasonNone, 32, encap.IPv4, "eth/pbb"},
		{"macsec with SCI", FrameEthernet, cat(eth(0x88e5), []byte{0x20, 0, 0, 0, 0, 1}, make([]byte, 8), []byte{8, 0}, ip4), ReasonNone, 30, encap.IPv4, "eth/macsec"},
		{"macsec encrypted", FrameEthernet, cat(eth(0x88e5), []byte{0x0c, 0, 0, 0, 0, 1}, ip4), ReasonNotIP, 20, 0, "eth/macsec"},
		{"nsh md1", FrameEthernet, cat(eth(0x894f), []byte{0x0f, 0xc6, 1, 1}, make([]byte, 20), ip4), ReasonNone, 38, encap.IPv4, "eth/nsh"},
		{"nsh length 0", FrameEthernet, cat(eth(0x894f), []byte{0x0f, 0xc0, 1, 1}, make([]byte, 20), ip4), ReasonBadHeader, 14, 0, "eth"},
		{"mpls, control word, ethernet", FrameEthernet, cat(eth(0x8847), []byte{0, 0x10, 1, 64, 0, 0, 0, 0}, eth(0x0800), ip4), ReasonNone, 36, encap.IPv4, "eth/mpls/eth"},
		{"ppp ff 03 00 21", FramePPP, cat([]byte{0xff, 3, 0, 0x21}, ip4), ReasonNone, 4, encap.IPv4, "ppp"},
		{"ppp 21", FramePPP, cat([]byte{0x21}, ip4), ReasonNone, 1, encap.IPv4, "ppp"},
		{"ppp ff 03 57", FramePPP, cat([]byte{0xff, 3, 0x57}, ip4), ReasonNone, 3, encap.IPv6, "ppp"},
		{"ppp cisco", FramePPP, cat([]byte{0x8f, 0, 0x86, 0xdd}, ip4), ReasonNone, 4, encap.IPv6, "chdlc"},
		{"ppp mpls", FramePPP, cat([]byte{0x02, 0x81, 0, 0x10, 1, 64}, ip4), ReasonNone, 6, encap.IPv4, "ppp/mpls"},
		{"ppp ends after ff 03", FramePPP, []byte{0xff, 3}, ReasonShort, 0, 0, "ppp"},
		{"ppp with direction", FramePPPDir, cat([]byte{0, 0, 0x21}, ip4), ReasonNone, 3, encap.IPv4, "ppp"},
		{"ppp ether", FramePPPoE, cat([]byte{0x11, 0, 0, 1, 0, 21, 0x21}, ip4), ReasonNone, 7, encap.IPv4, "pppoe"},
		{"c-hdlc slarp", FrameCHDLC, []byte{0x8f, 0, 0x80, 0x35, 0, 0, 0, 1}, ReasonNotIP, 4, 0, "chdlc"},
		{"sll ppp device", FrameLinuxSLL, cat([]byte{0, 0, 2, 0}, make([]byte, 10), []byte{8, 0}, ip4), ReasonNone, 16, encap.IPv4, "sll"},
		{"sll wan ppp", FrameLinuxSLL, cat([]byte{0, 0, 2, 0}, make([]byte, 10), []byte{0, 7, 0xff, 3, 0, 0x21}, ip4), ReasonNone, 20, encap.IPv4, "sll/ppp"},
		{"sll2 llc", FrameLinuxSLL2, cat([]byte{0, 4}, make([]byte, 18), []byte{0xaa, 0xaa, 3, 0, 0, 0, 0x86, 0xdd}, ip4), ReasonNone, 28, encap.IPv6, "sll2/llc"},
		{"sll2 can", FrameLinuxSLL2, cat([]byte{0, 0x0c}, make([]byte, 18), ip4), ReasonNotIP, 20, 0, "sll2"},
		{"null, darwin ipv6", FrameNull, cat([]byte{30, 0, 0, 0}, ip4), ReasonNone, 4, encap.IPv6, "null"},
		{"loop, ipv4", FrameNull, cat([]byte{0, 0, 0, 2}, ip4), ReasonNone, 4, encap.IPv4, "null"},
		{"null, AF 7", FrameNull, cat([]byte{7, 0, 0, 0}, ip4), ReasonNotIP, 4, 0, "null"},
		{"ipoib", FrameIPoIB, cat(make([]byte, 40), []byte{8, 0, 0, 0}, ip4), ReasonNone, 44, encap.IPv4, "ipoib"},
		{"ipoib 4 bytes", FrameIPoIB, []byte{8, 0, 0, 0}, ReasonShort, 0, 0, ""},
		{"nflog, TLV of 5 bytes before the payload", FrameNFLOG, cat([]byte{2, 0, 0, 1, 5, 0, 10, 0, 'x', 0, 0, 0, 24, 0, 9, 0}, ip4), ReasonNone, 16, encap.IPv4, "nflog"},
		{"nflog, big-endian TLVs", FrameNFLOG, cat([]byte{10, 0, 0, 1, 0, 8, 0, 1, 0x86, 0xdd, 3, 0, 0, 24, 0, 9}, ip4), ReasonNone, 16, encap.IPv6, "nflog"},
		{"nflog, no payload", FrameNFLOG, []byte{2, 0, 0, 1, 8, 0, 1, 0, 8, 0, 3, 0}, ReasonNotIP, 12, 0, "nflog"},
		{"nflog, TLV length 0", FrameNFLOG, cat([]byte{2, 0, 0, 1, 0, 0, 1, 0}, ip4), ReasonBadHeader, 4, 0, "nflog"},
		{"arcnet 1201", FrameARCNET, cat([]byte{1, 2, 0, 0, 212, 0, 0, 0}, ip4), ReasonNone, 8, encap.IPv4, "arcnet"},
		{"arcnet 1051", FrameARCNET, cat([]byte{1, 2, 0, 0, 240}, ip4), ReasonNone, 5, encap.IPv4, "arcnet"},
		{"arcnet arp", FrameARCNET, []byte{1, 2, 0, 0, 213, 0, 0, 0}, ReasonNotIP, 5, 0, "arcnet"},
		{"mpls in ip, unknown payload", FrameMPLS, []byte{0, 0x10, 1, 64, 0x50}, ReasonNotIP, 4, 0, "mpls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l Link
			Locate(tc.buf, tc.fr, &l)
			var names []string
			for i := 0; i < l.N; i++ {
				names = append(names, l.Layers[i].String())
			}
			got := join(names)
			if l.Reason != tc.reason || l.Off != tc.off || l.Family != tc.family || got != tc.layers {
				t.Errorf("reason %v off %d family %v layers %q (%s); want %v %d %v %q", l.Reason, l.Off, l.Family, got, l.Msg, tc.reason, tc.off, tc.family, tc.layers)
			}
		})
	}
}

func repeat(s string, n int) string { return string(bytes.Repeat([]byte(s), n)) }

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "/"
		}
		out += s
	}
	return out
}

// TestLocateZeroAlloc: the locator allocates nothing on the way to IP.
func TestLocateZeroAlloc(t *testing.T) {
	buf := append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xa8, 0, 1, 0x81, 0, 0, 2, 0x88, 0x64, 0x11, 0, 0, 1, 0, 40, 0x21}, make([]byte, 40)...)
	buf[29] = 0x45
	var l Link
	n := testing.AllocsPerRun(1000, func() {
		Locate(buf, FrameEthernet, &l)
		if l.Reason != ReasonNone || l.Off != 29 {
			t.Fatal(l.Reason, l.Off)
		}
	})
	if n != 0 {
		t.Errorf("%.1f allocations per locate, want 0", n)
	}
}

// FuzzLocate: any buffer, any framing: no panic, the offset stays inside
// the buffer, the layers fit.
func FuzzLocate(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 0, 0, 1, 0x88, 0x64, 0x11, 0, 0, 1, 0, 2, 0x21, 0x45}, uint8(FrameEthernet)) // VLAN, PPPoE PFC
	f.Add([]byte{0xff, 3, 0, 0x21, 0x45}, uint8(FramePPP))
	f.Add([]byte{2, 0, 0, 1, 5, 0, 10, 0, 'x', 0, 0, 0, 24, 0, 9, 0, 0x45}, uint8(FrameNFLOG)) // TLV padding
	f.Add([]byte{0x0f, 0xc6, 1, 1, 0x45}, uint8(FrameEthernet))                                // NSH cut
	f.Add(append(make([]byte, 12), 0x88, 0xe5, 0x20, 0, 0, 0, 0, 1), uint8(FrameEthernet))     // MACsec SCI cut
	f.Add([]byte{1, 2, 0, 0, 212, 0}, uint8(FrameARCNET))
	f.Fuzz(func(t *testing.T, buf []byte, fr uint8) {
		var l Link
		Locate(buf, Framing(fr%uint8(numFramings)), &l)
		if l.Off < 0 || l.Off > len(buf) || l.N > MaxLinkLayers {
			t.Fatalf("off %d of %d, %d layers", l.Off, len(buf), l.N)
		}
		if l.Reason == ReasonBadHeader && l.Msg == "" {
			t.Fatal("bad header without a message")
		}
		if l.PPPoELen >= 0 && l.PPPoELen+2 > len(buf) {
			t.Fatalf("pppoe length at %d of %d", l.PPPoELen, len(buf))
		}
	})
}

// TestClampLeavesMACsec: a SYN inside integrity-only MACsec is found and
// left alone (its ICV covers it); one in a frame the locator reads is
// clamped.
func TestClampLeavesMACsec(t *testing.T) {
	syn := mkIP(t, encap.IPv4, FlagSYN, optsLinux, nil)
	hdr := append(make([]byte, 12), 0x88, 0xe5, 0x20, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0, 1, 8, 0)
	frame := append(append(append([]byte{}, hdr...), syn...), bytes.Repeat([]byte{0xcc}, 16)...)
	before := bytes.Clone(frame)
	c := Clamper{Target: Target{n: 1200}}
	got, res := c.Clamp(frame, FrameEthernet)
	if res.Action != ActionUnchanged || res.Reason != ReasonProtected || !bytes.Equal(got, before) {
		t.Errorf("macsec: %v/%v, changed %v", res.Action, res.Reason, !bytes.Equal(got, before))
	}
	plain := append(append(make([]byte, 12), 8, 0), syn...)
	if _, res := c.Clamp(plain, FrameEthernet); res.Action != ActionClamped {
		t.Errorf("plain: %v/%v", res.Action, res.Reason)
	}
}
