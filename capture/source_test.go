package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// readBoth reads b with pcapgo and with pcapReader (fed through wrap) and
// fails on the first difference: frame bytes, time, lengths, link type, or
// the error.
func readBoth(t *testing.T, b []byte, wrap func(io.Reader) io.Reader) int {
	t.Helper()
	ref, rerr := pcapgo.NewReader(bytes.NewReader(b))
	fast, ferr := newPcapReader(newStream(wrap(bytes.NewReader(b))), &countingReader{})
	if rerr != nil && ferr == nil && pcapgoRefusesVariant(rerr) {
		return 0 // a version or magic libpcap reads and pcapgo does not (TestPcapVariants)
	}
	if (rerr == nil) != (ferr == nil) {
		t.Fatalf("header: pcapgo %v, pcapBytes %v", rerr, ferr)
	}
	if rerr != nil {
		return 0
	}
	if ref.LinkType() != fast.link {
		t.Fatalf("link type %v vs %v", ref.LinkType(), fast.link)
	}
	var rec record
	for n := 1; ; n++ {
		at := int(fast.s.off)
		data, ci, rerr := ref.ReadPacketData()
		ferr := fast.next(&rec)
		switch {
		case rerr != nil && strings.HasPrefix(rerr.Error(), "capture length exceeds original packet length") &&
			(ferr == nil && rec.problem != nil || errors.Is(ferr, io.ErrUnexpectedEOF)):
			// pcapgo stops at a record that captured more than the packet
			// had; pcapReader reads it and marks it (TestPcapLongRecord), or
			// finds the file ends inside it
			return n
		case rerr != nil || ferr != nil:
			// the same kind of end: EOF, a cut record, or the same message
			same := errors.Is(rerr, io.EOF) && errors.Is(ferr, io.EOF) ||
				errors.Is(rerr, io.ErrUnexpectedEOF) && errors.Is(ferr, io.ErrUnexpectedEOF) ||
				rerr != nil && ferr != nil && rerr.Error() == ferr.Error() ||
				// a file cut right after a record header: pcapgo's io.ReadFull
				// of the frame reads nothing and calls it a clean end; the
				// frame is missing, so pcapBytes says the file is cut
				errors.Is(rerr, io.EOF) && errors.Is(ferr, io.ErrUnexpectedEOF) && len(b)-int(fast.s.off) == 16 ||
				// a record over maxRecord under a file header that allows
				// it: pcapgo reads on, pcapReader refuses (TestPcapReaderHugeRecord)
				ferr != nil && strings.HasSuffix(ferr.Error(), fmt.Sprintf(" over the %d accepted", maxRecord))
			if !same {
				t.Fatalf("record %d: pcapgo %v, pcapBytes %v", n, rerr, ferr)
			}
			return n - 1
		case !bytes.Equal(data, rec.data) || ci.Length != rec.wireLen ||
			// pcapgo multiplies the fraction in 32 bits, which wraps for the
			// out-of-range fractions of a broken file; compare valid ones
			validFrac(fast, b[at+4:at+8]) && ci.Timestamp.UnixNano() != rec.nanos:
			t.Fatalf("record %d differs: pcapgo %d bytes at %d (wire %d), pcapBytes %d bytes at %d (wire %d)",
				n, len(data), ci.Timestamp.UnixNano(), ci.Length, len(rec.data), rec.nanos, rec.wireLen)
		}
	}
}

// pcapgoRefusesVariant reports whether pcapgo's header error is about a
// file variant that pcapReader reads on purpose, as libpcap does.
func pcapgoRefusesVariant(err error) bool {
	m := strings.ToLower(err.Error())
	return strings.HasPrefix(m, "unknown major version") || strings.HasPrefix(m, "unknown minor version") ||
		strings.HasPrefix(m, "unknown magic")
}

// validFrac reports whether a record's fractional second is in range.
func validFrac(s *pcapReader, b []byte) bool {
	f := int64(s.order.Uint32(b))
	return f*s.nanoMul < 1e9
}

// TestPcapReaderMatchesPcapgo: pcapReader gives the same frames, times and
// errors as pcapgo on every real classic pcap, whole and cut at many
// points, and with a corrupt record length, whether reads return whole
// chunks, one byte or half of what is asked.
func TestPcapReaderMatchesPcapgo(t *testing.T) {
	for _, w := range []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{{"whole reads", func(r io.Reader) io.Reader { return r }}, {"one byte", iotest.OneByteReader}, {"half", iotest.HalfReader}} {
		t.Run(w.name, func(t *testing.T) { comparePcapgo(t, w.wrap) })
	}
}

func comparePcapgo(t *testing.T, wrap func(io.Reader) io.Reader) {
	files, _ := filepath.Glob("testdata/real/*.pcap")
	total := 0
	for _, f := range files {
		b := realCapture(t, filepath.Base(f))
		total += readBoth(t, b, wrap)
		for _, cut := range []int{23, 24, 30, 40, len(b) / 3, len(b) / 2, len(b) - 1} {
			if cut > 0 && cut < len(b) {
				readBoth(t, b[:cut], wrap)
			}
		}
		if len(b) > 40 {
			bad := bytes.Clone(b)
			order := binary.ByteOrder(binary.LittleEndian)
			if bad[0] == 0xa1 {
				order = binary.BigEndian
			}
			order.PutUint32(bad[24+8:24+12], 1<<30) // first record: a huge captured length
			readBoth(t, bad, wrap)
		}
	}
	if total < 3000 {
		t.Fatalf("only %d records compared", total)
	}
}

// FuzzPcapReader holds pcapReader to pcapgo on arbitrary files.
func FuzzPcapReader(f *testing.F) {
	f.Add(realCapture(f, "zeek__tcp_options.pcap"))                      // little-endian, microseconds
	f.Add(realCapture(f, "tcpdump__tcp-handshake-nano.pcap"))            // nanoseconds
	f.Add(realCapture(f, "suricata-verify__tcp-mss-keyword_input.pcap")) // one record
	f.Add([]byte{0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4})                    // big-endian header, cut
	f.Fuzz(func(t *testing.T, b []byte) { readBoth(t, b, iotest.HalfReader) })
}

// TestPcapReaderLargeRecord: a record larger than the read buffer (a
// 2 MB snap length) grows the buffer and still matches pcapgo.
func TestPcapReaderLargeRecord(t *testing.T) {
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if err := w.WriteFileHeader(4<<20, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{60, 3 << 20 / 2, 1514, 3 << 20, 60} {
		frame := bytes.Repeat([]byte{byte(n)}, n)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(n)*1000), CaptureLength: n, Length: n}, frame); err != nil {
			t.Fatal(err)
		}
	}
	if got := readBoth(t, b.Bytes(), func(r io.Reader) io.Reader { return r }); got != 5 {
		t.Fatalf("%d records, want 5", got)
	}
}

// TestPcapReaderHugeRecord: a file header may allow any snap length, but a
// record over maxRecord is refused rather than buffered, in one line
// naming the packet.
func TestPcapReaderHugeRecord(t *testing.T) {
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if err := w.WriteFileHeader(0xffffffff, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 60)
	for range 2 {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, 0), CaptureLength: 60, Length: 60}, frame); err != nil {
			t.Fatal(err)
		}
	}
	bad := b.Bytes()
	binary.LittleEndian.PutUint32(bad[24+16+60+8:], 100<<20) // the second record's captured length
	binary.LittleEndian.PutUint32(bad[24+16+60+12:], 100<<20)
	r, err := Analyze(bytes.NewReader(bad), Options{})
	if err == nil || err.Error() != "packet 2: capture length 104857600 over the 67108864 accepted" || r.Packets != 1 {
		t.Fatalf("%v after %d packets", err, r.Packets)
	}
}
