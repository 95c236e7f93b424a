package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ngw writes pcapng files block by block, in either byte order, for the
// tests: what the readers must agree on is written here by hand, not by
// pcapgo's writer (which knows one byte order and one block of each kind).
type ngw struct {
	buf   bytes.Buffer
	order byteOrder
}

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func (w *ngw) u16(v uint16) []byte { return w.order.AppendUint16(nil, v) }
func (w *ngw) u32(v uint32) []byte { return w.order.AppendUint32(nil, v) }

// opt encodes one option, padded to 4 bytes.
func (w *ngw) opt(code uint16, v []byte) []byte {
	b := append(w.u16(code), w.u16(uint16(len(v)))...)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// endOpts is opt_endofopt.
func (w *ngw) endOpts() []byte { return make([]byte, 4) }

// block writes a block of type typ around body.
func (w *ngw) block(typ uint32, body []byte) *ngw {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	w.buf.Write(w.u32(typ))
	w.buf.Write(w.u32(n))
	w.buf.Write(body)
	w.buf.Write(w.u32(n))
	return w
}

// shb starts a section in byte order o.
func (w *ngw) shb(o byteOrder, opts ...[]byte) *ngw {
	w.order = o
	body := append(w.u32(ngByteOrder), w.u16(1)...)
	body = append(body, w.u16(0)...)
	body = append(body, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) // section length unknown
	for _, o := range opts {
		body = append(body, o...)
	}
	return w.block(ngSHB, body)
}

// idb adds an interface; opts are encoded options (end of options added
// when there are any).
func (w *ngw) idb(link layers.LinkType, snap uint32, opts ...[]byte) *ngw {
	body := append(w.u16(uint16(link)), 0, 0)
	body = append(body, w.u32(snap)...)
	for _, o := range opts {
		body = append(body, o...)
	}
	if len(opts) > 0 {
		body = append(body, w.endOpts()...)
	}
	return w.block(ngIDB, body)
}

// epb adds an enhanced packet block.
func (w *ngw) epb(iface uint32, ts uint64, data []byte, wire int, opts ...[]byte) *ngw {
	body := w.u32(iface)
	body = append(body, w.u32(uint32(ts>>32))...)
	body = append(body, w.u32(uint32(ts))...)
	body = append(body, w.u32(uint32(len(data)))...)
	body = append(body, w.u32(uint32(wire))...)
	body = append(body, data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	for _, o := range opts {
		body = append(body, o...)
	}
	if len(opts) > 0 {
		body = append(body, w.endOpts()...)
	}
	return w.block(ngEPB, body)
}

// pb adds an obsolete packet block.
func (w *ngw) pb(iface uint16, ts uint64, data []byte, wire int) *ngw {
	body := append(w.u16(iface), 0, 0)
	body = append(body, w.u32(uint32(ts>>32))...)
	body = append(body, w.u32(uint32(ts))...)
	body = append(body, w.u32(uint32(len(data)))...)
	body = append(body, w.u32(uint32(wire))...)
	body = append(body, data...)
	return w.block(ngPB, body)
}

// spb adds a simple packet block.
func (w *ngw) spb(data []byte, wire int) *ngw {
	return w.block(ngSPB, append(w.u32(uint32(wire)), data...))
}

// pcapToNg converts a classic pcap (read with pcapgo) into a pcapng of one
// interface with the same timestamp resolution, in byte order o.
func pcapToNg(t testing.TB, b []byte, o byteOrder) []byte {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var w ngw
	w.shb(o)
	res, div := byte(6), int64(1000)
	if r.Resolution().Exponent == -9 {
		res, div = 9, 1
	}
	w.idb(r.LinkType(), uint32(r.Snaplen()), w.opt(ngOptTSRes, []byte{res}), w.opt(2, []byte("eth0")))
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		w.epb(0, uint64(ci.Timestamp.UnixNano()/div), data, ci.Length)
	}
	return w.buf.Bytes()
}

// ngFrame is what the readers agree on per packet.
type ngFrame struct {
	data   []byte
	nanos  int64
	wire   int
	link   layers.LinkType
	iface  int
	errMsg string // set on the final error; "EOF" at a clean end
}

// readNgPcapgo reads b with pcapgo the way the analyzer used to.
func readNgPcapgo(b []byte) []ngFrame {
	r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		return []ngFrame{{errMsg: "header: " + err.Error()}}
	}
	var out []ngFrame
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if err != nil {
			msg := err.Error()
			if errors.Is(err, io.EOF) {
				msg = "EOF"
			}
			return append(out, ngFrame{errMsg: msg})
		}
		link, _ := ci.AncillaryData[0].(layers.LinkType)
		out = append(out, ngFrame{data: bytes.Clone(data), nanos: ci.Timestamp.UnixNano(), wire: ci.Length, link: link, iface: ci.InterfaceIndex})
	}
}

// readNgOurs reads b with ngReader, reads fed through wrap; it also
// returns the largest the read buffer grew to.
func readNgOurs(b []byte, wrap func(io.Reader) io.Reader) ([]ngFrame, int) {
	s := newStream(wrap(bytes.NewReader(b)))
	if !s.fill(4) || !bytes.Equal(s.buf[s.lo:s.lo+4], magicPcapng) {
		return []ngFrame{{errMsg: "header: not pcapng"}}, len(s.buf)
	}
	r, err := newNgReader(s, &countingReader{})
	if err != nil {
		return []ngFrame{{errMsg: "header: " + err.Error()}}, len(s.buf)
	}
	var out []ngFrame
	var rec record
	for {
		if err := r.next(&rec); err != nil {
			msg := err.Error()
			if errors.Is(err, io.EOF) {
				msg = "EOF"
			}
			return append(out, ngFrame{errMsg: msg}), len(s.buf)
		}
		out = append(out, ngFrame{data: bytes.Clone(rec.data), nanos: rec.nanos, wire: rec.wireLen, link: rec.link, iface: int(rec.point>>48) - 1})
	}
}

// sameNg compares the two readers' results on b (see compareNg) and
// returns how many packets they read.
func sameNg(t *testing.T, name string, b []byte, wrap func(io.Reader) io.Reader) int {
	t.Helper()
	got, _ := readNgOurs(b, wrap)
	n, problem := compareNg(readNgPcapgo(b), got, false)
	if problem != "" {
		t.Fatalf("%s: %s", name, problem)
	}
	return n
}

// compareNg compares pcapgo's frames with ngReader's: the same frames, and
// the same kind of end (a clean end, a cut file, a broken header or a
// broken block). In a file cut inside a block, either reader may first
// find fault with what it has of that block (pcapgo parses options that
// ngReader skips; ngReader refuses a block length over maxRecord before
// it reads on): with cut set, any two errors match. It returns the number
// of frames and what differs.
func compareNg(want, got []ngFrame, cut bool) (int, string) {
	for i := 0; i < min(len(want), len(got)); i++ {
		w, g := want[i], got[i]
		switch {
		case w.errMsg == "" && g.errMsg == "":
		case cut && w.errMsg != "" && g.errMsg != "":
			return i, ""
		case w.errMsg == "" || g.errMsg == "" || endKind(w.errMsg) != endKind(g.errMsg):
			return i, fmt.Sprintf("after %d packets, pcapgo ends with %q, ngReader with %q", i, w.errMsg, g.errMsg)
		default:
			return i, ""
		}
		if !bytes.Equal(w.data, g.data) || w.nanos != g.nanos || w.wire != g.wire || w.link != g.link || w.iface != g.iface {
			return i, fmt.Sprintf("packet %d differs:\n pcapgo   %d bytes, time %d, wire %d, link %v, iface %d\n ngReader %d bytes, time %d, wire %d, link %v, iface %d",
				i+1, len(w.data), w.nanos, w.wire, w.link, w.iface, len(g.data), g.nanos, g.wire, g.link, g.iface)
		}
	}
	return 0, "a list does not end with its end"
}

// endKind classes how a read ended.
func endKind(msg string) string {
	switch {
	case msg == "EOF":
		return "clean end"
	case strings.Contains(msg, "unexpected EOF"):
		return "cut"
	case strings.HasPrefix(msg, "header: "):
		return "bad header"
	}
	return "bad block"
}

// ngCases are hand-made pcapng files: both byte orders, several sections
// and interfaces with their own link types and timestamp resolutions, the
// three packet blocks, and blocks the analyzer skips.
func ngCases(t testing.TB) map[string][]byte {
	frame := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + n)
		}
		return b
	}
	cases := map[string][]byte{}
	for _, o := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		w := ngw{order: o} // for the options of the section header
		w.shb(o, w.opt(3, []byte("test OS")), w.endOpts()).
			idb(layers.LinkTypeEthernet, 262144).                                                   // microseconds (default)
			idb(layers.LinkTypeRaw, 65535, w.opt(ngOptTSRes, []byte{9}), w.opt(2, []byte("tun0"))). // nanoseconds
			idb(layers.LinkTypeLinuxSLL2, 128, w.opt(ngOptTSRes, []byte{0x80 | 20}))                // 2^-20 s
		w.epb(0, 1_700_000_000_123_456, frame(60), 60).
			epb(1, 1_700_000_000_123_456_789, frame(1500), 1500, w.opt(1, []byte("a comment")), w.opt(2, []byte{1, 0, 0, 0})).
			epb(2, 1_700_000_000<<20|12345, frame(128), 9000).                                                          // cut at the snap length
			epb(0, 1_700_000_001_000_000, frame(0), 0).                                                                 // empty frame
			spb(frame(61), 61).                                                                                         // simple packet: interface 0
			pb(1, 1_700_000_002_000_000_000, frame(63), 63).                                                            // obsolete packet block
			block(5, append(w.u32(0), make([]byte, 8)...)).                                                             // interface statistics
			block(4, append(append(w.u16(1), w.u16(8)...), 10, 0, 0, 1, 'a', 'b', 'c', 0, 0, 0, 0, 0)).                 // name resolution
			block(0x0a, append(append(w.u32(0x544c534b), w.u32(4)...), 1, 2, 3, 4)).                                    // decryption secrets
			block(0x00000bad, frame(37)).                                                                               // custom block
			block(0x40000bad, nil).                                                                                     // another custom block
			idb(layers.LinkTypeEthernet, 0, w.opt(ngOptTSRes, []byte{3}), w.opt(ngOptTSOff, o.AppendUint64(nil, 100))). // milliseconds, +100 s
			epb(3, 1_700_000_003_250, frame(1514), 1514)
		// a second section in the other byte order: interfaces start over
		other := byteOrder(binary.BigEndian)
		if o == binary.BigEndian {
			other = binary.LittleEndian
		}
		w.shb(other).idb(layers.LinkTypeIPv6, 0, w.opt(ngOptTSRes, []byte{0x80 | 10})).
			epb(0, 1_700_000_004<<10|1023, frame(40), 40).
			spb(frame(80), 80)
		cases[fmt.Sprintf("sections %v", o)] = w.buf.Bytes()
	}
	// errors both readers must give
	var w ngw
	w.shb(binary.LittleEndian).idb(layers.LinkTypeEthernet, 0).epb(0, 1, frame(60), 60).epb(1, 2, frame(60), 60)
	cases["unknown interface"] = bytes.Clone(w.buf.Bytes())
	w = ngw{}
	w.shb(binary.LittleEndian).spb(frame(60), 60)
	cases["simple packet before any interface"] = bytes.Clone(w.buf.Bytes())
	w = ngw{}
	w.shb(binary.BigEndian).idb(layers.LinkTypeEthernet, 0, w.opt(ngOptTSRes, []byte{70})).epb(0, 1, frame(60), 60)
	cases["resolution too high"] = bytes.Clone(w.buf.Bytes())
	w = ngw{}
	w.shb(binary.LittleEndian).idb(layers.LinkTypeEthernet, 0).epb(0, 1, frame(60), 60)
	bad := bytes.Clone(w.buf.Bytes())
	binary.LittleEndian.PutUint16(bad[12:14], 2) // major version 2
	cases["version 2.0"] = bad
	w = ngw{}
	w.shb(binary.LittleEndian).idb(layers.LinkTypeEthernet, 0).epb(0, 1, frame(60), 60)
	bad = bytes.Clone(w.buf.Bytes())
	copy(bad[8:12], []byte{1, 2, 3, 4}) // byte-order magic
	cases["bad byte order magic"] = bad
	return cases
}

// TestNgReaderMatchesPcapgo: ngReader reads the same frames, times,
// lengths, link types and interfaces as pcapgo, and ends the same way, on
// the real pcapng captures, on every real classic pcap converted to pcapng
// in both byte orders, and on hand-made files with several sections and
// interfaces; each whole, cut at many points, and with reads of whole
// chunks, one byte, or half of what is asked.
func TestNgReaderMatchesPcapgo(t *testing.T) {
	files := map[string][]byte{}
	for name, b := range ngCases(t) {
		files[name] = b
	}
	ngs, _ := filepath.Glob("testdata/real/*.pcapng")
	for _, f := range ngs {
		files[filepath.Base(f)] = realCapture(t, filepath.Base(f))
	}
	pcaps, _ := filepath.Glob("testdata/real/*.pcap")
	for _, f := range pcaps {
		b := realCapture(t, filepath.Base(f))
		files[filepath.Base(f)+" as pcapng LE"] = pcapToNg(t, b, binary.LittleEndian)
		files[filepath.Base(f)+" as pcapng BE"] = pcapToNg(t, b, binary.BigEndian)
	}
	if len(ngs) < 2 || len(pcaps) < 60 {
		t.Fatalf("found %d pcapng and %d pcap captures in testdata/real", len(ngs), len(pcaps))
	}
	// the hand-made files are read to their end, every packet
	for _, name := range []string{"sections LittleEndian", "sections BigEndian"} {
		got, _ := readNgOurs(files[name], func(r io.Reader) io.Reader { return r })
		if len(got) != 10 || got[9].errMsg != "EOF" {
			t.Fatalf("%s: %d entries, last %+v: want 9 packets and a clean end", name, len(got), got[len(got)-1])
		}
	}
	total := 0
	for _, w := range []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{{"whole reads", func(r io.Reader) io.Reader { return r }}, {"one byte", iotest.OneByteReader}, {"half", iotest.HalfReader}} {
		t.Run(w.name, func(t *testing.T) {
			for name, b := range files {
				total += sameNg(t, name, b, w.wrap)
				for _, cut := range []int{8, 12, 27, 28, 40, len(b) / 3, len(b) / 2, len(b) - 5, len(b) - 1} {
					if cut > 0 && cut < len(b) {
						sameNg(t, fmt.Sprintf("%s cut at %d", name, cut), b[:cut], w.wrap)
					}
				}
			}
		})
	}
	t.Logf("%d packets compared", total)
	if total < 3*7000 {
		t.Fatalf("only %d packets compared", total)
	}
}

// TestNgReaderStricter: where ngReader and pcapgo part ways on purpose, a
// packet whose captured length runs past its block: pcapgo reads on into
// the next block; ngReader reads the frame to the end of its block, counts
// the packet as malformed, and goes on with the next block, which the
// block length frames (tshark stops there: "total block length ... is too
// small").
func TestNgReaderStricter(t *testing.T) {
	var w ngw
	w.shb(binary.LittleEndian).idb(layers.LinkTypeEthernet, 0).epb(0, 1, make([]byte, 60), 60).epb(0, 2, make([]byte, 60), 60)
	b := w.buf.Bytes()
	// the first EPB starts after the SHB (28) and the IDB (20); its
	// captured length at offset 20 in the block
	binary.LittleEndian.PutUint32(b[28+20+20:], 200)
	got, _ := readNgOurs(b, func(r io.Reader) io.Reader { return r })
	if len(got) != 3 || len(got[0].data) != 60 || len(got[1].data) != 60 || got[2].errMsg != "EOF" {
		t.Fatalf("got %+v", got)
	}
	r, err := Analyze(bytes.NewReader(b), Options{})
	if err != nil || r.Packets != 2 || r.Malformed != 1 {
		t.Fatalf("analyze: %v after %d packets, %d malformed", err, r.Packets, r.Malformed)
	}
	f := find(r, CodeMalformedPacket)
	if f == nil || !slicesEqualInt(f.Packets, []int64{1}) ||
		!strings.Contains(f.Detail, "packet 1: record: capture length 200 beyond the end of its block (92 bytes; read to the block's end)") {
		t.Fatalf("malformed finding %+v", f)
	}
}

// ngWellFormed reports whether b is a pcapng whose every block the two
// readers read alike: lengths that are multiples of 4, match at both ends
// and hold their contents (packets within their blocks, options within
// theirs and ended properly); name resolution, statistics and decryption
// secrets blocks, which pcapgo parses and ngReader skips, are not. The
// file may end in the middle of a block: cut says so.
func ngWellFormed(b []byte) (ok, cut bool) {
	var o binary.ByteOrder = binary.LittleEndian
	ifaces, snap0 := 0, 0
	opts := func(v []byte) bool {
		for len(v) >= 4 {
			code, l := o.Uint16(v[0:2]), int(o.Uint16(v[2:4]))
			if code == 0 {
				return l == 0 && len(v) == 4
			}
			if 4+(l+3)&^3 > len(v) {
				return false
			}
			v = v[4+(l+3)&^3:]
		}
		return len(v) == 0
	}
	for len(b) > 0 {
		if len(b) < 12 {
			return true, true
		}
		typ := o.Uint32(b[0:4])
		if typ == ngSHB {
			switch {
			case binary.LittleEndian.Uint32(b[8:12]) == ngByteOrder:
				o = binary.LittleEndian
			case binary.BigEndian.Uint32(b[8:12]) == ngByteOrder:
				o = binary.BigEndian
			default:
				return true, false // both fail on it
			}
			ifaces = 0
		}
		n := int(o.Uint32(b[4:8]))
		if n < 12 || n%4 != 0 {
			return false, false
		}
		if n > len(b) {
			return true, true
		}
		if int(o.Uint32(b[n-4:n])) != n {
			return false, false
		}
		body := b[8 : n-4]
		switch typ {
		case ngSHB:
			if len(body) < 16 || !opts(body[16:]) {
				return false, false
			}
		case ngIDB:
			if len(body) < 8 || !opts(body[8:]) {
				return false, false
			}
			if ifaces == 0 {
				snap0 = int(o.Uint32(body[4:8]))
			}
			ifaces++
		case ngEPB, ngPB:
			if len(body) < 20 {
				return false, false
			}
			c := int(o.Uint32(body[12:16]))
			if c > len(body)-20 {
				return false, false
			}
			if typ == ngEPB && !opts(body[20+(c+3)&^3:]) {
				return false, false
			}
		case ngSPB:
			if len(body) < 4 || ifaces == 0 {
				return false, false
			}
			c := int(o.Uint32(body[0:4]))
			if snap0 != 0 && c > snap0 {
				c = snap0
			}
			if (c+3)&^3 > len(body)-4 {
				return false, false
			}
		case 4, 5, 0x0a:
			return false, false // pcapgo parses these, ngReader skips them
		}
		b = b[n:]
	}
	return true, false
}

// FuzzNgReader holds ngReader to pcapgo on every fuzzed file that is well
// formed block by block (see ngWellFormed), and on any file checks that it
// does not panic and that its buffer grows only with the data that
// arrived.
func FuzzNgReader(f *testing.F) {
	for _, b := range ngCases(f) {
		f.Add(b) // hand-made: sections, interfaces, every packet block, errors
	}
	f.Add(realCapture(f, "zeek__tcp_retransmit-timeout.pcapng"))                   // a real pcapng
	f.Add(pcapToNg(f, realCapture(f, "zeek__tcp_options.pcap"), binary.BigEndian)) // big-endian, converted
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a})     // section header cut
	f.Fuzz(func(t *testing.T, b []byte) {
		got, grown := readNgOurs(b, iotest.HalfReader)
		if grown > max(readChunk, 2*len(b)) {
			t.Fatalf("buffer grew to %d bytes on a %d-byte file", grown, len(b))
		}
		if len(b) < 4 || !bytes.Equal(b[:4], magicPcapng) {
			return
		}
		ok, cut := ngWellFormed(b)
		if !ok {
			return
		}
		if _, problem := compareNg(readNgPcapgo(b), got, cut); problem != "" {
			t.Fatal(problem)
		}
	})
}

// TestAnalyzePcapngAsPcap: every real classic pcap, converted to pcapng in
// either byte order, gives the same report, text and JSON, but for the
// format's name: the pcapng reader feeds the analyzer the same frames,
// times and lengths.
func TestAnalyzePcapngAsPcap(t *testing.T) {
	pcaps, _ := filepath.Glob("testdata/real/*.pcap")
	if len(pcaps) < 60 {
		t.Fatalf("found %d captures in testdata/real", len(pcaps))
	}
	show := func(r *Report) string {
		r.Format = ""
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		if err := r.WriteText(&text, true); err != nil {
			t.Fatal(err)
		}
		return string(js) + "\n" + text.String()
	}
	for _, f := range pcaps {
		name := filepath.Base(f)
		b := realCapture(t, name)
		want, werr := Analyze(bytes.NewReader(b), Options{Name: name})
		for _, o := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
			got, gerr := Analyze(bytes.NewReader(pcapToNg(t, b, o)), Options{Name: name})
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%s: pcap error %v, pcapng error %v", name, werr, gerr)
			}
			if got.Format != "pcapng" {
				t.Fatalf("%s: format %q", name, got.Format)
			}
			if w, g := show(want), show(got); w != g {
				t.Errorf("%s (%v): the reports differ\npcap:\n%s\npcapng:\n%s", name, o, w, g)
			}
		}
	}
}

// TestAnalyzePcapngErrors: broken pcapng files give one line naming the
// packet, after a partial report of the packets before it.
func TestAnalyzePcapngErrors(t *testing.T) {
	cases := ngCases(t)
	ng := realCapture(t, "zeek__krb_kerberos_tso.pcapng")
	for _, tc := range []struct {
		name    string
		data    []byte
		packets int64
		err     string
	}{
		{"unknown interface", cases["unknown interface"], 1, "packet 2: interface id 1 not present in section (have only 1 interfaces)"},
		{"simple packet first", cases["simple packet before any interface"], 0, "packet 1: at least one interface is needed for a packet"},
		{"resolution", cases["resolution too high"], 0, "packet 1: timestamp resolution 10^-70 is too high"},
		{"version", cases["version 2.0"], 0, "pcapng header: unknown pcapng version 2.0 in section header"},
		{"byte order", cases["bad byte order magic"], 0, "pcapng header: wrong byte order value in section header"},
		{"header cut", ng[:20], 0, "pcapng header: unexpected EOF"},
		// the counts below are what the analyzer reported through pcapgo
		{"cut in a packet", ng[:len(ng)/2], 151, "packet 152: file ends in the middle of the record (truncated capture)"},
		// the file ends with an interface statistics block: cut in it, the
		// error names the packet that was being looked for, as pcapgo did
		{"cut after the last packet", ng[:len(ng)-100], 314, "packet 315: file ends in the middle of the record (truncated capture)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Analyze(bytes.NewReader(tc.data), Options{})
			if err == nil || err.Error() != tc.err || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			if r.Packets != tc.packets || !r.Partial || r.Error != err.Error() {
				t.Errorf("report of %d packets (partial %v, error %q), want a partial report of %d", r.Packets, r.Partial, r.Error, tc.packets)
			}
		})
	}
}
