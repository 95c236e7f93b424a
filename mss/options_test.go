package mss

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tcpSeg builds a TCP segment with the given flags and option bytes (padded
// with zeros, i.e. EOL, to a multiple of 4) followed by payload. Ports,
// sequence numbers and window are fixed arbitrary values; the checksum is 0.
func tcpSeg(flags byte, opts []byte, payload []byte) []byte {
	pad := (4 - len(opts)%4) % 4
	hl := TCPHeaderLen + len(opts) + pad
	b := make([]byte, hl, hl+len(payload)+8)
	binary.BigEndian.PutUint16(b[0:], 40000)
	binary.BigEndian.PutUint16(b[2:], 80)
	binary.BigEndian.PutUint32(b[4:], 0x01020304)
	binary.BigEndian.PutUint32(b[8:], 0)
	b[12] = byte(hl/4) << 4
	b[13] = flags
	binary.BigEndian.PutUint16(b[14:], 64240)
	copy(b[TCPHeaderLen:], opts)
	return append(b, payload...)
}

// opt is an option as a test expects to see it.
type opt struct {
	Kind Kind
	Off  int
	Len  int
}

func walkAll(t *testing.T, seg []byte) ([]opt, Anomaly) {
	t.Helper()
	var w Walker
	if err := w.Reset(seg); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	var got []opt
	for o, ok := w.Next(); ok; o, ok = w.Next() {
		got = append(got, opt{o.Kind, o.Offset, o.Len})
		if o.Len > 1 && len(o.Data) != o.Len-2 {
			t.Fatalf("option %v: %d data bytes for length %d", o.Kind, len(o.Data), o.Len)
		}
	}
	return got, w.Anomalies()
}

// linuxSYN is the option block Linux puts on a SYN: MSS, SACK-permitted,
// timestamps, NOP, window scale (20 bytes, as in testdata/pcaps/tcpdump__mptcp-v1.pcap).
var linuxSYN = []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}

func TestWalker(t *testing.T) {
	sack3 := append([]byte{1, 1, 5, 26}, make([]byte, 24)...)
	for _, tc := range []struct {
		name   string
		flags  byte
		opts   []byte
		want   []opt
		anom   Anomaly
		mss    uint16
		wscale int
	}{
		{name: "no options", flags: FlagSYN, wscale: -1},
		{
			name: "linux SYN", flags: FlagSYN, opts: linuxSYN,
			want: []opt{{KindMSS, 20, 4}, {KindSACKPerm, 24, 2}, {KindTS, 26, 10}, {KindNOP, 36, 1}, {KindWS, 37, 3}},
			mss:  1460, wscale: 7,
		},
		{
			name: "MSS then EOL and zero padding", flags: FlagSYN, opts: []byte{2, 4, 0x02, 0x18, 0, 0, 0, 0},
			want: []opt{{KindMSS, 20, 4}, {KindEOL, 24, 1}}, mss: 536, wscale: -1,
		},
		{
			name: "option bytes after EOL are ignored and flagged", flags: FlagSYN,
			opts: []byte{0, 0, 0, 0, 2, 4, 0x05, 0xb4},
			want: []opt{{KindEOL, 20, 1}}, anom: AnomalyAfterEOL, wscale: -1,
		},
		{
			name: "kind needing a length in the last byte", flags: FlagSYN, opts: []byte{1, 1, 1, 8},
			want: []opt{{KindNOP, 20, 1}, {KindNOP, 21, 1}, {KindNOP, 22, 1}}, anom: AnomalyTruncated, wscale: -1,
		},
		{
			name: "length zero stops the walk", flags: FlagSYN, opts: []byte{2, 0, 0x05, 0xb4},
			anom: AnomalyBadLength, wscale: -1,
		},
		{
			name: "length one stops the walk", flags: FlagSYN, opts: []byte{1, 8, 1, 0, 2, 4, 5, 0xb4},
			want: []opt{{KindNOP, 20, 1}}, anom: AnomalyBadLength, wscale: -1,
		},
		{
			name: "timestamps running past the data offset", flags: FlagSYN, opts: []byte{2, 4, 5, 0xb4, 8, 10, 0, 0},
			want: []opt{{KindMSS, 20, 4}}, anom: AnomalyPastDataOffset, mss: 1460, wscale: -1,
		},
		{
			name: "malformed MSS of length 5 is ignored", flags: FlagSYN, opts: []byte{2, 5, 5, 0xb4, 0},
			want: []opt{{KindMSS, 20, 5}, {KindEOL, 25, 1}}, anom: AnomalyKindLength, wscale: -1,
		},
		{
			name: "MSS of length 3 is ignored", flags: FlagSYN, opts: []byte{2, 3, 5, 1},
			want: []opt{{KindMSS, 20, 3}, {KindNOP, 23, 1}}, anom: AnomalyKindLength, wscale: -1,
		},
		{
			name: "MSS on an ACK", flags: FlagACK, opts: []byte{2, 4, 5, 0xb4},
			want: []opt{{KindMSS, 20, 4}}, anom: AnomalyMSSNotSYN, mss: 1460, wscale: -1,
		},
		{
			name: "window scale and SACK-permitted on an ACK", flags: FlagACK, opts: []byte{4, 2, 3, 3, 2, 0},
			want: []opt{{KindSACKPerm, 20, 2}, {KindWS, 22, 3}, {KindEOL, 25, 1}}, anom: AnomalySYNOnly, wscale: 2,
		},
		{
			name: "duplicate MSS: the first counts", flags: FlagSYN, opts: []byte{2, 4, 5, 0xb4, 2, 4, 2, 0x18},
			want: []opt{{KindMSS, 20, 4}, {KindMSS, 24, 4}}, anom: AnomalyDuplicateMSS, mss: 1460, wscale: -1,
		},
		{
			name: "duplicate window scale", flags: FlagSYN, opts: []byte{3, 3, 1, 3, 3, 9},
			want: []opt{{KindWS, 20, 3}, {KindWS, 23, 3}, {KindEOL, 26, 1}}, anom: AnomalyDuplicate, wscale: 1,
		},
		{
			name: "MSS zero is ignored", flags: FlagSYN, opts: []byte{2, 4, 0, 0},
			want: []opt{{KindMSS, 20, 4}}, anom: AnomalyMSSZero, wscale: -1,
		},
		{
			name: "window scale above 14", flags: FlagSYN, opts: []byte{2, 4, 5, 0xb4, 3, 3, 0xff, 0},
			want: []opt{{KindMSS, 20, 4}, {KindWS, 24, 3}, {KindEOL, 27, 1}}, anom: AnomalyWScaleRange, mss: 1460, wscale: 255,
		},
		{
			name: "unaligned MSS after one NOP", flags: FlagSYN, opts: []byte{1, 2, 4, 5, 0xb4},
			want: []opt{{KindNOP, 20, 1}, {KindMSS, 21, 4}, {KindEOL, 25, 1}}, mss: 1460, wscale: -1,
		},
		{
			name: "three SACK blocks on an ACK", flags: FlagACK, opts: sack3,
			want: []opt{{KindNOP, 20, 1}, {KindNOP, 21, 1}, {KindSACK, 22, 26}}, wscale: -1,
		},
		{
			name: "SACK of length 11", flags: FlagACK, opts: append([]byte{5, 11}, make([]byte, 9)...),
			want: []opt{{KindSACK, 20, 11}, {KindEOL, 31, 1}}, anom: AnomalyKindLength, wscale: -1,
		},
		{
			name: "MD5 signature", flags: FlagSYN, opts: append([]byte{1, 1, 19, 18}, make([]byte, 16)...),
			want: []opt{{KindNOP, 20, 1}, {KindNOP, 21, 1}, {KindMD5, 22, 18}}, wscale: -1,
		},
		{
			name: "TCP-AO with a 12-byte MAC", flags: FlagSYN, opts: append([]byte{29, 16, 1, 1}, make([]byte, 12)...),
			want: []opt{{KindAO, 20, 16}}, wscale: -1,
		},
		{
			name: "TCP-AO of length 3", flags: FlagSYN, opts: []byte{29, 3, 1, 0},
			want: []opt{{KindAO, 20, 3}, {KindEOL, 23, 1}}, anom: AnomalyKindLength, wscale: -1,
		},
		{
			name: "MPTCP MP_CAPABLE", flags: FlagSYN, opts: []byte{30, 4, 1, 1},
			want: []opt{{KindMPTCP, 20, 4}}, wscale: -1,
		},
		{
			name: "TFO cookie request and odd cookie", flags: FlagSYN, opts: []byte{34, 2, 34, 7, 1, 2, 3, 4, 5},
			want: []opt{{KindTFO, 20, 2}, {KindTFO, 22, 7}, {KindEOL, 29, 1}}, anom: AnomalyKindLength | AnomalyDuplicate, wscale: -1,
		},
		{
			name: "experimental with ExID, twice", flags: FlagSYN, opts: []byte{254, 4, 0xf9, 0x89, 254, 4, 0xf9, 0x89},
			want: []opt{{KindExp2, 20, 4}, {KindExp2, 24, 4}}, wscale: -1,
		},
		{
			name: "unknown kind 27 (quick-start) and 28 (user timeout)", flags: FlagSYN | FlagACK,
			opts: []byte{1, 27, 8, 0, 1, 2, 0, 0, 0, 28, 4, 0, 1},
			want: []opt{{KindNOP, 20, 1}, {Kind(27), 21, 8}, {Kind(28), 29, 4}, {KindEOL, 33, 1}}, wscale: -1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seg := tcpSeg(tc.flags, tc.opts, []byte("payload"))
			got, anom := walkAll(t, seg)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
			if anom != tc.anom {
				t.Errorf("anomalies = %q, want %q", anom, tc.anom)
			}
			s, err := Summarize(seg)
			if err != nil {
				t.Fatal(err)
			}
			if s.MSS != tc.mss || s.WScale != tc.wscale || s.Anomalies != tc.anom {
				t.Errorf("summary MSS %d wscale %d anomalies %q, want %d %d %q", s.MSS, s.WScale, s.Anomalies, tc.mss, tc.wscale, tc.anom)
			}
			if s.OptionBytes != len(seg)-len("payload")-TCPHeaderLen {
				t.Errorf("OptionBytes = %d", s.OptionBytes)
			}
		})
	}
}

func TestWalkerHeaderErrors(t *testing.T) {
	good := tcpSeg(FlagSYN, linuxSYN, nil)
	for _, tc := range []struct {
		name string
		seg  []byte
		want error
	}{
		{"empty", nil, ErrShortSegment},
		{"19 bytes", good[:19], ErrShortSegment},
		{"data offset 4", func() []byte { b := append([]byte(nil), good...); b[12] = 4 << 4; return b }(), ErrDataOffset},
		{"header cut inside the options", good[:30], ErrShortHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w Walker
			if err := w.Reset(tc.seg); err != tc.want {
				t.Fatalf("Reset = %v, want %v", err, tc.want)
			}
			if _, ok := w.Next(); ok {
				t.Fatal("walker yielded an option after a header error")
			}
			if _, err := Summarize(tc.seg); err != tc.want {
				t.Fatalf("Summarize = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSummaryFields(t *testing.T) {
	opts := []byte{2, 4, 0x05, 0x64, 4, 2, 8, 10, 0x19, 0, 0x3c, 0x97, 0xff, 0xff, 0x54, 0xe9, 1, 3, 3, 7,
		19, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	s, err := Summarize(tcpSeg(FlagSYN|FlagACK, opts, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{SYN: true, MSS: 1380, MSSOffset: 20, WScale: 7, SACKPerm: true, TS: true,
		TSval: 0x19003c97, TSecr: 0xffff54e9, MD5: true, OptionBytes: 40}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Fatalf("summary (-want +got):\n%s", diff)
	}
}

// TestSummaryRealCaptures checks Summarize on real SYNs against the values
// tshark 4.x decodes from the same frames:
//
//	tshark -r F -T fields -e frame.number -e tcp.options.mss_val \
//	  -e tcp.options.wscale.shift -e tcp.options.sack_perm -e tcp.options.timestamp.tsval
func TestSummaryRealCaptures(t *testing.T) {
	for _, tc := range []struct {
		file   string
		frame  int
		mss    uint16
		wscale int
		sack   bool
		tsval  uint32 // 0: no timestamps
		anom   Anomaly
	}{
		{"zeek__tcp_options.pcap", 1, 1460, 6, true, 4294923497, 0},
		{"zeek__tcp_options.pcap", 2, 1380, 7, true, 419445911, 0},
		{"zeek__tcp_syn-bad.pcap", 1, 1460, 4, true, 374005024, 0},
		{"zeek__tcp_window-scale-range.pcap", 1, 1460, 255, false, 0, AnomalyWScaleRange},
		{"zeek__tcp_window-scale-range.pcap", 2, 1460, 7, false, 0, 0},
		{"suricata-verify__tcp-mss-keyword_input.pcap", 1, 8, -1, false, 0, 0},
		{"tcpdump__mptcp-v1.pcap", 1, 1460, 8, true, 464494241, 0},
		{"tcpdump__mptcp-v1.pcap", 2, 1460, 8, true, 3275212179, 0},
		// SYNs without MSS (tshark: "The SYN packet does not contain a MSS option").
		{"zeek__tcp_option-sack.pcap", 1, 0, -1, false, 0, 0},
		{"zeek__tcp_option-27.pcap", 1, 0, -1, false, 0, 0},
	} {
		pkts := readCapture(t, tc.file)
		tcp := gopacketTCP(pkts[tc.frame-1])
		if tcp == nil {
			t.Fatalf("%s frame %d: no TCP", tc.file, tc.frame)
		}
		seg := append(append([]byte(nil), tcp.Contents...), tcp.Payload...)
		s, err := Summarize(seg)
		if err != nil {
			t.Fatalf("%s frame %d: %v", tc.file, tc.frame, err)
		}
		if s.MSS != tc.mss || s.WScale != tc.wscale || s.SACKPerm != tc.sack || s.TSval != tc.tsval || s.TS != (tc.tsval != 0) || s.Anomalies != tc.anom {
			t.Errorf("%s frame %d: got MSS %d ws %d sack %v ts %v/%d anomalies %q; want %d %d %v %d %q",
				tc.file, tc.frame, s.MSS, s.WScale, s.SACKPerm, s.TS, s.TSval, s.Anomalies, tc.mss, tc.wscale, tc.sack, tc.tsval, tc.anom)
		}
	}
}

// TestWalkerAgreesWithGopacket walks the options of every TCP segment in the
// test captures and compares kind, offset and length with gopacket's TCP
// decoder, an independent implementation.
func TestWalkerAgreesWithGopacket(t *testing.T) {
	segs := 0
	for _, name := range testPcaps(t) {
		for _, p := range readCapture(t, name) {
			tcp := gopacketTCP(p)
			if tcp == nil || len(tcp.Contents) < TCPHeaderLen {
				continue
			}
			segs++
			var w Walker
			if err := w.Reset(tcp.Contents); err != nil {
				if _, herr := HeaderLen(tcp.Contents); herr == nil {
					t.Fatalf("%s #%d: %v", name, p.index, err)
				}
				continue // gopacket also calls this header truncated
			}
			off := TCPHeaderLen
			i := 0
			for o, ok := w.Next(); ok; o, ok = w.Next() {
				if i >= len(tcp.Options) {
					t.Fatalf("%s #%d: walker found option %v at %d, gopacket has %d options", name, p.index, o.Kind, o.Offset, len(tcp.Options))
				}
				g := tcp.Options[i]
				if o.Kind != Kind(g.OptionType) || o.Len != int(g.OptionLength) || o.Offset != off {
					t.Fatalf("%s #%d option %d: walker %v len %d at %d, gopacket %v len %d at %d",
						name, p.index, i, o.Kind, o.Len, o.Offset, g.OptionType, g.OptionLength, off)
				}
				off += o.Len
				i++
			}
			if i != len(tcp.Options) && w.Anomalies() == 0 {
				t.Fatalf("%s #%d: walker saw %d options, gopacket %d", name, p.index, i, len(tcp.Options))
			}
		}
	}
	if segs < 500 {
		t.Fatalf("only %d TCP segments in the test captures", segs)
	}
}

func TestWalkerZeroAlloc(t *testing.T) {
	seg := tcpSeg(FlagSYN, linuxSYN, nil)
	var sum int
	allocs := testing.AllocsPerRun(1000, func() {
		var w Walker
		_ = w.Reset(seg)
		for o, ok := w.Next(); ok; o, ok = w.Next() {
			sum += o.Len
		}
		s, _ := Summarize(seg)
		sum += int(s.MSS)
	})
	if allocs != 0 {
		t.Fatalf("walker and Summarize allocate %.1f times per segment", allocs)
	}
}

func TestAnomalyString(t *testing.T) {
	if got := (AnomalyDuplicateMSS | AnomalyBadLength).String(); got != "bad-length,duplicate-mss" {
		t.Fatalf("String() = %q", got)
	}
	if got := Anomaly(0).String(); got != "" {
		t.Fatalf("zero String() = %q", got)
	}
	if got := KindTS.String() + " " + Kind(27).String(); got != "timestamps kind-27" {
		t.Fatalf("kind names %q", got)
	}
}

// refWalk is a deliberately naive walk, written from RFC 9293 §3.2 and
// independent of Walker, to check it in the fuzz test.
func refWalk(hdr []byte) (kinds []Kind, lens []int) {
	for i := TCPHeaderLen; i < len(hdr); {
		k := hdr[i]
		if k == 0 {
			return append(kinds, 0), append(lens, 1)
		}
		if k == 1 {
			kinds, lens = append(kinds, 1), append(lens, 1)
			i++
			continue
		}
		if i+1 == len(hdr) || hdr[i+1] < 2 || i+int(hdr[i+1]) > len(hdr) {
			return kinds, lens
		}
		kinds, lens = append(kinds, Kind(k)), append(lens, int(hdr[i+1]))
		i += int(hdr[i+1])
	}
	return kinds, lens
}

func FuzzWalker(f *testing.F) {
	// Seeds: a Linux SYN; an unaligned MSS; EOL followed by an MSS; a zero
	// length; an option past the data offset; a data offset past the end;
	// duplicate MSS on a non-SYN; a 15-word header full of NOPs.
	f.Add(tcpSeg(FlagSYN, linuxSYN, nil))
	f.Add(tcpSeg(FlagSYN, []byte{1, 2, 4, 5, 0xb4}, nil))
	f.Add(tcpSeg(FlagSYN, []byte{0, 0, 0, 0, 2, 4, 5, 0xb4}, nil))
	f.Add(tcpSeg(FlagSYN, []byte{2, 0, 5, 0xb4}, nil))
	f.Add(tcpSeg(FlagSYN, []byte{2, 4, 5, 0xb4, 8, 10, 0, 0}, []byte("data")))
	f.Add(tcpSeg(FlagSYN, linuxSYN, nil)[:30])
	f.Add(tcpSeg(FlagACK, []byte{2, 4, 5, 0xb4, 2, 4, 5, 0xb4}, nil))
	f.Add(tcpSeg(FlagSYN, []byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, nil))
	f.Fuzz(func(t *testing.T, seg []byte) {
		var w Walker
		err := w.Reset(seg)
		s, serr := Summarize(seg)
		if err != serr {
			t.Fatalf("Reset error %v, Summarize error %v", err, serr)
		}
		if err != nil {
			return
		}
		hl := int(seg[12]>>4) * 4
		rk, rl := refWalk(seg[:hl])
		n := 0
		prevEnd := TCPHeaderLen
		for o, ok := w.Next(); ok; o, ok = w.Next() {
			if n >= len(rk) || o.Kind != rk[n] || o.Len != rl[n] {
				t.Fatalf("option %d: walker %v/%d differs from the reference %v %v", n, o.Kind, o.Len, rk, rl)
			}
			if o.Offset != prevEnd || o.Offset+o.Len > hl {
				t.Fatalf("option %d at %d len %d: not contiguous or past header %d", n, o.Offset, o.Len, hl)
			}
			prevEnd = o.Offset + o.Len
			n++
		}
		if n != len(rk) {
			t.Fatalf("walker saw %d options, reference %d", n, len(rk))
		}
		if s.MSS != 0 && (s.MSSOffset < TCPHeaderLen || s.MSSOffset+4 > hl || binary.BigEndian.Uint16(seg[s.MSSOffset+2:]) != s.MSS) {
			t.Fatalf("summary MSS %d at %d does not match the header", s.MSS, s.MSSOffset)
		}
	})
}
