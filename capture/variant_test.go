package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mtukit/mtukit/mss"
)

// pcapRec is one record of a classic pcap, as read from a 2.4 file.
type pcapRec struct {
	sec, frac   uint32
	caplen, len uint32
	data        []byte
}

// splitPcap reads a little-endian version 2.4 pcap into its header fields
// and records (the test's own reader: the code under test must not be its
// own oracle).
func splitPcap(t *testing.T, b []byte) (snaplen, link uint32, recs []pcapRec) {
	t.Helper()
	if !bytes.Equal(b[:8], []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0}) {
		t.Fatalf("want a little-endian 2.4 microsecond pcap, got % x", b[:8])
	}
	le := binary.LittleEndian
	snaplen, link = le.Uint32(b[16:20]), le.Uint32(b[20:24])
	for off := 24; off < len(b); {
		r := pcapRec{sec: le.Uint32(b[off:]), frac: le.Uint32(b[off+4:]), caplen: le.Uint32(b[off+8:]), len: le.Uint32(b[off+12:])}
		r.data = b[off+16 : off+16+int(r.caplen)]
		recs = append(recs, r)
		off += 16 + int(r.caplen)
	}
	return snaplen, link, recs
}

// pcapVariant describes how to write a classic pcap file.
type pcapVariant struct {
	order        byteOrder
	magic        uint32
	major, minor uint16
	link         uint32 // link type field as written (FCS bits included)
	swap         func(i int) bool
	fcs          int // bytes of FCS appended to every frame
	kuznetsov    bool
}

// writePcap writes recs in the variant v.
func writePcap(v pcapVariant, snaplen uint32, recs []pcapRec) []byte {
	o := v.order
	var b []byte
	b = o.AppendUint32(b, v.magic)
	b = o.AppendUint16(b, v.major)
	b = o.AppendUint16(b, v.minor)
	b = o.AppendUint32(b, 0)
	b = o.AppendUint32(b, 0)
	b = o.AppendUint32(b, snaplen+uint32(v.fcs))
	b = o.AppendUint32(b, v.link)
	for i, r := range recs {
		frac := r.frac
		if v.magic == pcapMagicNano {
			frac *= 1000
		}
		c, l := r.caplen+uint32(v.fcs), r.len+uint32(v.fcs)
		if v.swap != nil && v.swap(i) {
			c, l = l, c
		}
		b = o.AppendUint32(b, r.sec)
		b = o.AppendUint32(b, frac)
		b = o.AppendUint32(b, c)
		b = o.AppendUint32(b, l)
		if v.kuznetsov {
			b = o.AppendUint32(b, 2)      // ifindex
			b = o.AppendUint16(b, 0x0800) // protocol
			b = append(b, 0, 0)           // packet type, padding
		}
		b = append(b, r.data...)
		b = append(b, make([]byte, v.fcs)...)
	}
	return b
}

// reportJSON analyzes b and returns its report as JSON, without the fields
// a file variant may change (format), for comparison.
func reportJSON(t *testing.T, b []byte) (string, *Report) {
	t.Helper()
	r, err := Analyze(bytes.NewReader(b), Options{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	c := *r
	c.Format = ""
	j, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	return string(j), r
}

// tsharkSees runs tshark over b (written to a file) and returns, per
// frame, the fields a variant must not change.
func tsharkSees(t *testing.T, bin string, b []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "v.pcap")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-n", "-r", f, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, e := range []string{"frame.number", "frame.time_epoch", "frame.len", "frame.cap_len", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport", "tcp.len", "tcp.options.mss_val"} {
		args = append(args, "-e", e)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.Bytes())
	}
	return string(out)
}

// TestPcapVariants writes a real capture in every classic pcap variant
// libpcap reads (sf-pcap.c: versions 2.0 to 2.4 and 543.0, lengths in the
// pre-2.3 order below 2.3 and for 543.0, either order in 2.3; nanosecond
// and Kuznetsov magics; either byte order; FCS bits in the link type field
// with the FCS bytes after each frame) and checks that mtukit's report is
// the original's, and that tshark reads the same frames from the variant
// as from the original (capinfos calls Kuznetsov's "Modified tcpdump -
// pcap").
func TestPcapVariants(t *testing.T) {
	orig := realCapture(t, "zeek__tunnels_gre-sample.pcap")
	snap, link, recs := splitPcap(t, orig)
	want, wantR := reportJSON(t, orig)
	if wantR.Flows == 0 || len(recs) != int(wantR.Packets) {
		t.Fatalf("original: %d flows, %d packets of %d records", wantR.Flows, wantR.Packets, len(recs))
	}
	le, be := byteOrder(binary.LittleEndian), byteOrder(binary.BigEndian)
	odd := func(i int) bool { return i%2 == 1 }
	all := func(int) bool { return true }
	cases := []struct {
		name string
		v    pcapVariant
	}{
		{"2.4 big-endian", pcapVariant{order: be, magic: pcapMagicMicro, major: 2, minor: 4}},
		{"2.4 nanoseconds big-endian", pcapVariant{order: be, magic: pcapMagicNano, major: 2, minor: 4}},
		{"2.3 lengths swapped in every record", pcapVariant{order: le, magic: pcapMagicMicro, major: 2, minor: 3, swap: all}},
		{"2.3 lengths swapped in every other record", pcapVariant{order: le, magic: pcapMagicMicro, major: 2, minor: 3, swap: odd}},
		{"2.3 lengths not swapped", pcapVariant{order: le, magic: pcapMagicMicro, major: 2, minor: 3}},
		{"2.2 lengths swapped", pcapVariant{order: le, magic: pcapMagicMicro, major: 2, minor: 2, swap: all}},
		{"2.0 big-endian, lengths swapped", pcapVariant{order: be, magic: pcapMagicMicro, major: 2, minor: 0, swap: all}},
		{"543.0 (DG/UX), lengths swapped", pcapVariant{order: le, magic: pcapMagicMicro, major: 543, minor: 0, swap: all}},
		{"Kuznetsov's patched format", pcapVariant{order: le, magic: pcapMagicKuznetsov, major: 2, minor: 4, kuznetsov: true}},
		{"FCS length in the link type field", pcapVariant{order: le, magic: pcapMagicMicro, major: 2, minor: 4, fcs: 4, link: 2<<28 | 0x04000000}}, // FCS length: 2 16-bit words
	}
	bin, _ := exec.LookPath("tshark")
	var tsharkWant string
	if bin != "" {
		tsharkWant = tsharkSees(t, bin, orig)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.v
			v.link |= link
			b := writePcap(v, snap, recs)
			got, r := reportJSON(t, b)
			if tc.v.fcs == 0 && got != want {
				t.Errorf("report differs from the original's:\n got %s\nwant %s", got, want)
			}
			if tc.v.fcs > 0 {
				// the FCS adds 4 bytes to every frame and nothing else
				if r.Packets != wantR.Packets || r.Bytes != wantR.Bytes+4*r.Packets || r.Malformed != 0 ||
					!slicesEqualFindings(r.Findings, wantR.Findings) {
					t.Errorf("with FCS: %d packets %d bytes %d malformed, findings %v; original %d packets %d bytes, findings %v",
						r.Packets, r.Bytes, r.Malformed, codes(r), wantR.Packets, wantR.Bytes, codes(wantR))
				}
			}
			if bin == "" || tc.v.fcs > 0 {
				return // tshark counts the FCS in frame.len
			}
			if got := tsharkSees(t, bin, b); got != tsharkWant {
				t.Errorf("tshark reads the variant differently:\n%s\nthe original:\n%s", got, tsharkWant)
			}
		})
	}
}

func slicesEqualFindings(a, b []Finding) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestPcapVersionsRefused: versions libpcap refuses are refused in one
// line that names the version.
func TestPcapVersionsRefused(t *testing.T) {
	_, _, recs := splitPcap(t, realCapture(t, "zeek__tcp_options.pcap"))
	for _, tc := range []struct {
		major, minor uint16
		err          string
	}{
		{1, 0, "pcap header: archaic pcap version 1.0 (libpcap reads 2.0 to 2.4)"},
		{2, 5, "pcap header: unsupported pcap version 2.5 (libpcap reads 2.0 to 2.4, and 543.0)"},
		{3, 0, "pcap header: unsupported pcap version 3.0 (libpcap reads 2.0 to 2.4, and 543.0)"},
		{543, 1, "pcap header: unsupported pcap version 543.1 (libpcap reads 2.0 to 2.4, and 543.0)"},
	} {
		b := writePcap(pcapVariant{order: binary.LittleEndian, magic: pcapMagicMicro, major: tc.major, minor: tc.minor, link: 1}, 65535, recs)
		_, err := Analyze(bytes.NewReader(b), Options{})
		if err == nil || err.Error() != tc.err {
			t.Errorf("%d.%d: %v, want %q", tc.major, tc.minor, err, tc.err)
		}
	}
}

// TestPcapLongRecord: a record whose captured length exceeds its original
// length is read at its captured length and counted as malformed with its
// packet number; the packets after it are analyzed. tshark reads the same
// file to the end and shows the record's lengths as written.
func TestPcapLongRecord(t *testing.T) {
	orig := realCapture(t, "zeek__tunnels_gre-sample.pcap")
	snap, link, recs := splitPcap(t, orig)
	_, wantR := reportJSON(t, orig)
	long := slicesCloneRecs(recs)
	long[2].len = long[2].caplen - 10 // packet 3
	long[7].len = 0                   // packet 8
	b := writePcap(pcapVariant{order: binary.LittleEndian, magic: pcapMagicMicro, major: 2, minor: 4, link: link}, snap, long)
	_, r := reportJSON(t, b)
	if r.Partial || r.Packets != wantR.Packets || r.Flows != wantR.Flows || r.Malformed != wantR.Malformed+2 {
		t.Fatalf("%d packets, %d flows, %d malformed, partial %v; want %d, %d, %d", r.Packets, r.Flows, r.Malformed, r.Partial,
			wantR.Packets, wantR.Flows, wantR.Malformed+2)
	}
	// wire bytes: each long record counts its captured length
	if r.Bytes != wantR.Bytes-int64(recs[2].len+recs[7].len)+int64(recs[2].caplen+recs[7].caplen) {
		t.Errorf("bytes %d, original %d", r.Bytes, wantR.Bytes)
	}
	f := find(r, CodeMalformedPacket)
	if f == nil || !slicesEqualInt(f.Packets, []int64{3, 8}) ||
		!strings.Contains(f.Detail, "packet 3: record: captured length 122 exceeds original length 112 (analyzed at 122 bytes)") {
		t.Fatalf("malformed finding %+v", f)
	}
	// everything else as in the original
	for _, fd := range wantR.Findings {
		if fd.Code != CodeMalformedPacket && !strings.Contains(text(r), fd.Title) {
			t.Errorf("finding %s %q of the original is missing", fd.Code, fd.Title)
		}
	}
	bin, err := exec.LookPath("tshark")
	if err != nil {
		return
	}
	out := tsharkSees(t, bin, b)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(recs) {
		t.Fatalf("tshark read %d frames, want %d", len(lines), len(recs))
	}
	if c := strings.Split(lines[2], "\t"); c[2] != "112" || c[3] != "122" {
		t.Errorf("tshark frame 3: len %s cap_len %s, want 112 and 122", c[2], c[3])
	}
}

func slicesCloneRecs(r []pcapRec) []pcapRec { return append([]pcapRec(nil), r...) }

func slicesEqualInt(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestClampPcapVariants: clamp reads the variants with the analyzer's
// reader and writes the same 2.4 file it writes from the original (its two
// SYNs rewritten alike); a record longer than its packet
// is written with its original length raised to its captured length
// (pcapgo's writer refuses the reverse).
func TestClampPcapVariants(t *testing.T) {
	orig := realCapture(t, "zeek__tcp_options.pcap")
	snap, link, recs := splitPcap(t, orig)
	tg, err := mss.MSSTarget(1300)
	if err != nil {
		t.Fatal(err)
	}
	clampOut := func(b []byte) ([]byte, *ClampReport) {
		var out bytes.Buffer
		rep, err := Clamp(bytes.NewReader(b), &out, &mss.Clamper{Target: tg})
		if err != nil {
			t.Fatal(err)
		}
		return out.Bytes(), rep
	}
	want, wantRep := clampOut(orig)
	if wantRep.PacketsOut != len(recs) || wantRep.Clamped == 0 {
		t.Fatalf("original: %+v", wantRep)
	}
	le := byteOrder(binary.LittleEndian)
	all := func(int) bool { return true }
	for name, v := range map[string]pcapVariant{
		"2.2 lengths swapped": {order: le, magic: pcapMagicMicro, major: 2, minor: 2, swap: all, link: link},
		"2.3 mixed":           {order: le, magic: pcapMagicMicro, major: 2, minor: 3, swap: func(i int) bool { return i%3 == 0 }, link: link},
		"Kuznetsov":           {order: le, magic: pcapMagicKuznetsov, major: 2, minor: 4, kuznetsov: true, link: link},
	} {
		if got, _ := clampOut(writePcap(v, snap, recs)); !bytes.Equal(got, want) {
			t.Errorf("%s: clamp output differs from the original's", name)
		}
	}
	long := slicesCloneRecs(recs)
	long[2].len = long[2].caplen - 10
	got, rep := clampOut(writePcap(pcapVariant{order: le, magic: pcapMagicMicro, major: 2, minor: 4, link: link}, snap, long))
	if !bytes.Equal(got, want) || rep.PacketsOut != wantRep.PacketsOut {
		t.Errorf("long record: clamp output differs from the original's (%+v)", rep)
	}
}

// TestPcapVariantsEveryCapture: every real little-endian 2.4 microsecond
// capture, rewritten as 2.2 (lengths swapped), 2.3 with every third
// record's lengths swapped, and Kuznetsov's format, gives the original's
// report (TestPcapVariants holds the variants to tshark on one of them).
func TestPcapVariantsEveryCapture(t *testing.T) {
	files, _ := filepath.Glob("testdata/real/*.pcap")
	le := byteOrder(binary.LittleEndian)
	n := 0
	for _, f := range files {
		orig := realCapture(t, filepath.Base(f))
		if !bytes.Equal(orig[:8], []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0}) {
			continue
		}
		snap, link, recs := splitPcap(t, orig)
		want, _ := reportJSON(t, orig)
		for name, v := range map[string]pcapVariant{
			"2.2": {order: le, magic: pcapMagicMicro, major: 2, minor: 2, swap: func(int) bool { return true }, link: link},
			"2.3": {order: le, magic: pcapMagicMicro, major: 2, minor: 3, swap: func(i int) bool { return i%3 == 0 }, link: link},
			"kuz": {order: le, magic: pcapMagicKuznetsov, major: 2, minor: 4, kuznetsov: true, link: link},
		} {
			if got, _ := reportJSON(t, writePcap(v, snap, recs)); got != want {
				t.Errorf("%s as %s: the report differs from the original's", filepath.Base(f), name)
			}
		}
		n++
	}
	if n < 50 {
		t.Fatalf("only %d captures rewritten", n)
	}
}
