package capture

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// TestDecodeBigTCP: the TSO and BIG TCP captures of tcpdump's test suite
// decode to the lengths tshark gives (tshark 4.0.17 -o ipv6.tso_support:TRUE,
// fields ip.len / ipv6.plen / tcp.len): an IPv4 total length of 0 is taken
// from the frame, an IPv6 jumbogram from its hop-by-hop option, and an IPv6
// payload length of 0 without one (BIG TCP after the 2026 kernels drop the
// HBH header) from the frame.
func TestDecodeBigTCP(t *testing.T) {
	for _, tc := range []struct {
		file           string
		ipLen, tcpLen  int
		lenZero, jumbo bool
	}{
		{"tcpdump__bigtcp-ipv4.pcap", 80052, 80000, true, false},
		{"tcpdump__bigtcp-ipv6-hbh.pcap", 40 + 80040, 80000, true, true},
		{"tcpdump__bigtcp-ipv6.pcap", 40 + 80000, 79968, true, false},
		{"tcpdump__gso-ipv4.pcap", 7292, 7240, false, false},
		{"tcpdump__gso-ipv6.pcap", 40 + 7172, 7140, false, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			a := NewAnalyzer(Options{})
			var got *Packet
			a.observe = func(p *Packet, err error) {
				if err != nil {
					t.Fatalf("packet %d: %v", p.Num, err)
				}
				c := *p
				got = &c
			}
			if err := a.ReadAll(bytes.NewReader(realCapture(t, tc.file))); err != nil {
				t.Fatal(err)
			}
			if got == nil || got.IP.TotalLen != tc.ipLen || got.TCP.PayloadLen != tc.tcpLen || got.IP.LenZero != tc.lenZero || got.IP.Jumbo != tc.jumbo {
				t.Errorf("got IP %d TCP %d zero %v jumbo %v, want %d %d %v %v", got.IP.TotalLen, got.TCP.PayloadLen, got.IP.LenZero, got.IP.Jumbo, tc.ipLen, tc.tcpLen, tc.lenZero, tc.jumbo)
			}
		})
	}
}

// TestDecodeJumboLies: a jumbo payload option that a capture cannot hold
// is a malformed header, not a length to believe.
func TestDecodeJumboLies(t *testing.T) {
	frame := func(jumbo uint32, data int) []byte {
		hdr := make([]byte, 40)
		hdr[0], hdr[6], hdr[7] = 0x60, 0, 64 // payload length 0, next header hop-by-hop
		hbh := []byte{6, 0, 0xc2, 4, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(hbh[4:], jumbo)
		tcp := make([]byte, 20+data)
		tcp[12] = 5 << 4
		return append(append(append(ethHdr(0x86dd), hdr...), hbh...), tcp...)
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		err   string
	}{
		{"jumbo length past the frame", frame(600000, 100), "jumbo payload length 600000 beyond the end of the frame (128 bytes)"},
		{"jumbo length below 65536", frame(128, 100), "jumbo payload length 128 (below 65536)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d Decoder
			var p Packet
			p.WireLen = len(tc.frame)
			err := d.Decode(layers.LinkTypeEthernet, tc.frame, &p)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}
