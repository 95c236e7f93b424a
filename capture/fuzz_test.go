package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// realCapture reads one of the real test captures.
func realCapture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "real", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzAnalyze feeds arbitrary files to Analyze: it must return a report or
// an error, never panic, and a failure part way must still give the report
// of what came before.
func FuzzAnalyze(f *testing.F) {
	seeds := []struct {
		name string // annotation: what the seed exercises
		file string
		cut  int // keep only this many bytes (0: all)
	}{
		{"TCP handshake with options", "zeek__tcp_options.pcap", 0},
		{"pcapng, TSO super-packets", "zeek__tcp_retransmit-timeout.pcapng", 0},
		{"GRE tunnel, ICMP quoting UDP", "zeek__tunnels_gre-sample.pcap", 0},
		{"IPv4 fragments overlapping", "zeek__ipv4_fragmented-4.pcap", 0},
		{"IPv6 fragments, tiny", "suricata-verify__defrag_bug-6887-defrag-ipv6-tcp_frag-ip-tcp.pcap", 0},
		{"ICMPv6 packet too big", "zeek__icmp_icmp6-toobig.pcap", 0},
		{"PPPoE in QinQ, cut mid-record", "zeek__pppoe-over-qinq.pcap", 700},
		{"VXLAN, cut mid-header", "zeek__tunnels_vxlan.pcap", 30},
		{"Linux cooked v1 and MPTCP", "tcpdump__tcp-handshake-nano.pcap", 0},
		{"raw IPv4 link type", "suricata-verify__defrag_bug-6887-defrag-ipv4-tcp-syn_frag-ip-tcp-syn.pcap", 0},
		{"PPP link type", "suricata-verify__defrag_bug-6887-defrag-ppp-ipv6-tcp_frag-ppp-ipv6-tcp.pcap", 0},
		{"GTP-U with fragments", "zeek__tunnels_gtp_gtp1_gn_normal_incl_fragmentation.pcap", 4000},
		{"hostile TCP header", "tcpdump__tcp-auth-heapoverflow.pcap", 0},
		{"BIG TCP IPv6 with jumbo option", "tcpdump__bigtcp-ipv6-hbh.pcap", 400},
		{"IPv6 fragment, negative length", "tcpdump__ipv6_frag6_negative_len.pcap", 0},
	}
	for _, s := range seeds {
		b := realCapture(f, s.file)
		if s.cut > 0 && s.cut < len(b) {
			b = b[:s.cut]
		}
		f.Add(b)
	}
	f.Add([]byte{})                                   // empty
	f.Add([]byte{0xd4, 0xc3, 0xb2, 0xa1})             // pcap magic only
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0}) // pcapng magic, no block
	f.Add([]byte{0x1f, 0x8b, 8, 0})                   // gzip header cut short
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Analyze(bytes.NewReader(b), Options{MaxFlows: 8, MaxFragments: 4, FlowTable: 4, MaxFindings: 4})
		if r == nil {
			t.Fatal("nil report")
		}
		if err != nil && r.Packets > 0 && !r.Partial {
			t.Fatalf("error %v after %d packets, but the report is not marked partial", err, r.Packets)
		}
		var sb strings.Builder
		if err := r.WriteText(&sb, true); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecode feeds arbitrary frames to the decoder under every link type
// it reads: no panic, and what it returns stays inside the frame.
func FuzzDecode(f *testing.F) {
	for _, s := range []struct {
		link  layers.LinkType
		frame string // annotation in the name of the seed file
	}{
		{layers.LinkTypeEthernet, "zeek__tunnels_gre-sample.pcap"},
		{layers.LinkTypeEthernet, "tcpdump__geneve.pcap"},
		{layers.LinkTypeEthernet, "zeek__mpls-in-vlan.pcap"},
		{layers.LinkTypeLinuxSLL, "tcpdump__mptcp-v1.pcap"},
	} {
		b := realCapture(f, s.frame)
		// the first frame after the 24-byte pcap header and 16-byte record header
		if len(b) > 40 {
			n := int(binary.LittleEndian.Uint32(b[32:36]))
			if 40+n <= len(b) {
				f.Add(uint16(s.link), b[40:40+n])
			}
		}
	}
	f.Add(uint16(layers.LinkTypeLinuxSLL2), make([]byte, 20))
	f.Add(uint16(layers.LinkTypeNull), []byte{2, 0, 0, 0, 0x45})
	f.Add(uint16(layers.LinkTypeRaw), []byte{0x60})
	f.Add(uint16(layers.LinkTypePPP), []byte{0xff, 0x03, 0x00, 0x21, 0x45})
	// new link types go at the end: a seed's index keeps its link type
	links := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeNull,
		layers.LinkTypeLoop, layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, layers.LinkTypePPP,
		layers.LinkTypePPP_HDLC, 51, 204, 104, 242, 239, 129}
	// Seeds: a SYN in each framing of TestFramings (PPP and PPPoE with and
	// without ACFC/PFC, SLL/SLL2 protocols, C-HDLC, IPoIB, NFLOG, ARCNET,
	// PBB, QinQ, MACsec, NSH, ERSPAN, GRE in UDP, Aruba, AYIYA), whole and
	// cut inside its link headers.
	for i, tc := range framingCases(f) {
		frame := tc.frame(synFor(f, i, tc.v6))
		idx := slices.Index(links, tc.link)
		f.Add(uint16(idx), frame)
		f.Add(uint16(idx), frame[:len(frame)-len(synFor(f, i, tc.v6))/2-20])
	}
	f.Fuzz(func(t *testing.T, link uint16, b []byte) {
		var d Decoder
		var p Packet
		p.WireLen = len(b)
		lt := links[int(link)%len(links)]
		err := d.Decode(lt, b, &p)
		if err != nil {
			return
		}
		if p.L4 == 6 && (len(p.TCP.Header) > len(b) || p.TCP.PayloadLen < 0) {
			t.Fatalf("TCP header %d bytes, payload %d in a %d-byte frame", len(p.TCP.Header), p.TCP.PayloadLen, len(b))
		}
		if p.IP.Family != 0 && p.IP.TotalLen < p.IP.HdrLen && !p.IP.Frag {
			t.Fatalf("IP total %d below header %d", p.IP.TotalLen, p.IP.HdrLen)
		}
	})
}

// TestCorruptInputs checks that broken files give a clear error naming
// what is wrong and where, and a partial report when packets came first.
func TestCorruptInputs(t *testing.T) {
	good := realCapture(t, "zeek__tcp_retransmit-fast009.pcap") // 39 packets
	ng := realCapture(t, "zeek__krb_kerberos_tso.pcapng")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(good)
	zw.Close()
	badLen := bytes.Clone(good)
	// the 3rd record's captured length: 24 (file header) + 2 records
	off := 24
	for range 2 {
		off += 16 + int(binary.LittleEndian.Uint32(badLen[off+8:off+12]))
	}
	binary.LittleEndian.PutUint32(badLen[off+8:off+12], 0x7fffffff)
	// where a cut at a quarter of the file falls, by walking the records
	cut := len(good) / 4
	whole, at := 0, 24
	for {
		if at+16 > cut {
			break
		}
		next := at + 16 + int(binary.LittleEndian.Uint32(good[at+8:at+12]))
		if next > cut {
			break
		}
		whole, at = whole+1, next
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		packets int64  // in the (partial) report
		err     string // substring of the error
	}{
		{"empty", nil, 0, "empty file"},
		{"too short", []byte{0xd4, 0xc3}, 0, "file too short (2 bytes)"},
		{"not a capture", []byte("GET / HTTP/1.1\r\n\r\n"), 0, "not a pcap or pcapng file"},
		{"pcap header only", good[:24], 0, ""},
		{"cut inside a record header", good[:24+8], 0, "packet 1: file ends in the middle of the record"},
		{"cut inside a packet", good[:cut], int64(whole), "packet " + itoa(whole+1) + ": file ends in the middle of the record"},
		{"record length beyond the snap length", badLen, 2, "packet 3: capture length exceeds snap length"},
		{"gzip, whole", gz.Bytes(), 39, ""},
		{"gzip, cut", gz.Bytes()[:gz.Len()/2], -1, "file ends in the middle of the record"},
		{"pcapng cut", ng[:len(ng)/2], -1, "packet "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Analyze(bytes.NewReader(tc.data), Options{})
			if tc.err == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error spans lines: %q", err)
				}
				if r.Packets > 0 && (!r.Partial || r.Error != err.Error()) {
					t.Errorf("partial %v error %q, want a partial report carrying the error", r.Partial, r.Error)
				}
			}
			if tc.packets >= 0 && r.Packets != tc.packets {
				t.Errorf("report covers %d packets, want %d", r.Packets, tc.packets)
			}
		})
	}
}
