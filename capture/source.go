package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// readBuffer is the read-ahead for capture files: large enough that reading
// costs one system call per many packets.
const readBuffer = 256 << 10

// record is one frame read from a capture file.
type record struct {
	data    []byte // valid until the next read
	nanos   int64  // capture time, Unix nanoseconds
	wireLen int
	link    layers.LinkType
	point   uint64 // capture point: pcapng interface (see Packet.Point)
}

// source yields the frames of a capture file.
type source interface {
	// next reads the next frame into r; io.EOF at the end.
	next(r *record) error
	// format names the file format.
	format() string
	// done is how many bytes of the file were consumed, for progress.
	done() int64
	// close releases what the source holds (a mapping).
	close() error
}

// Magic numbers of the formats read.
var (
	magicPcapng = []byte{0x0a, 0x0d, 0x0d, 0x0a}
	magicGzip   = []byte{0x1f, 0x8b}
)

// openSource detects the format of r (pcap, pcapng, either gzip-compressed)
// and returns a source for it: classic pcap through pcapReader, pcapng
// through gopacket's pcapgo.
func openSource(r io.Reader) (source, error) {
	cr := &countingReader{r: r}
	return openStream(cr, cr)
}

func openStream(r io.Reader, cr *countingReader) (source, error) {
	br := bufio.NewReaderSize(r, readBuffer)
	head, err := br.Peek(4)
	if err != nil {
		if len(head) == 0 {
			return nil, errors.New("empty file: not a pcap or pcapng capture")
		}
		return nil, fmt.Errorf("file too short (%d bytes) for a pcap or pcapng header", len(head))
	}
	if bytes.HasPrefix(head, magicGzip) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return openStream(zr, cr)
	}
	if bytes.Equal(head, magicPcapng) {
		r, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, fmt.Errorf("pcapng header: %s", lowerFirst(err.Error()))
		}
		return &ngSource{r: r, cr: cr}, nil
	}
	if !isPcapMagic(head) {
		return nil, fmt.Errorf("not a pcap or pcapng file (starts with %x)", head)
	}
	// the bufio reader hands its buffered bytes over, then reads straight
	// into pcapReader's buffer (reads of at least its size bypass it)
	pr, err := newPcapReader(br)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("pcap header: file too short")
		}
		return nil, fmt.Errorf("pcap header: %s", lowerFirst(err.Error()))
	}
	return pr, nil
}

func isPcapMagic(head []byte) bool {
	switch [4]byte(head[:4]) {
	case [4]byte{0xd4, 0xc3, 0xb2, 0xa1}, [4]byte{0xa1, 0xb2, 0xc3, 0xd4},
		[4]byte{0x4d, 0x3c, 0xb2, 0xa1}, [4]byte{0xa1, 0xb2, 0x3c, 0x4d}:
		return true
	}
	return false
}

// countingReader counts the bytes read, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

type ngSource struct {
	r  *pcapgo.NgReader
	cr *countingReader
}

func (s *ngSource) next(r *record) error {
	data, ci, err := s.r.ZeroCopyReadPacketData()
	if err != nil {
		return err
	}
	link, _ := ci.AncillaryData[0].(layers.LinkType)
	*r = record{data: data, nanos: ci.Timestamp.UnixNano(), wireLen: ci.Length, link: link, point: uint64(ci.InterfaceIndex+1) << 48}
	return nil
}

func (s *ngSource) format() string { return "pcapng" }
func (s *ngSource) done() int64    { return s.cr.n }
func (s *ngSource) close() error   { return nil }

// pcapReader reads a classic pcap stream through one large buffer and
// returns each frame as a slice of that buffer: the file's bytes are copied
// once (by read), not twice as through bufio and pcapgo's packet buffer,
// which on captures of whole frames was most of the cost. Its checks and
// error messages are pcapgo's (TestPcapReaderMatchesPcapgo, FuzzPcapReader
// hold it to pcapgo on every real capture and on fuzzed files); pcapng still
// goes through pcapgo.
type pcapReader struct {
	r       io.Reader
	buf     []byte
	lo, hi  int   // unread bytes are buf[lo:hi]
	off     int64 // bytes of the stream consumed
	eof     bool
	rerr    error
	order   binary.ByteOrder
	nanoMul int64
	snaplen int
	link    layers.LinkType
}

// pcapChunk is the read size: a few hundred packets per system call.
const pcapChunk = 1 << 20

// newPcapReader reads the file header from r.
func newPcapReader(r io.Reader) (*pcapReader, error) {
	s := &pcapReader{r: r, buf: make([]byte, pcapChunk)}
	if !s.fill(24) {
		if s.rerr != nil {
			return nil, s.rerr
		}
		return nil, io.ErrUnexpectedEOF
	}
	b := s.buf[s.lo : s.lo+24]
	switch binary.LittleEndian.Uint32(b[0:4]) {
	case 0xa1b2c3d4:
		s.order, s.nanoMul = binary.LittleEndian, 1000
	case 0xa1b23c4d:
		s.order, s.nanoMul = binary.LittleEndian, 1
	case 0xd4c3b2a1:
		s.order, s.nanoMul = binary.BigEndian, 1000
	case 0x4d3cb2a1:
		s.order, s.nanoMul = binary.BigEndian, 1
	default:
		return nil, fmt.Errorf("unknown magic %x", binary.LittleEndian.Uint32(b[0:4]))
	}
	if v := s.order.Uint16(b[4:6]); v != 2 {
		return nil, fmt.Errorf("unknown major version %d", v)
	}
	if v := s.order.Uint16(b[6:8]); v != 4 {
		return nil, fmt.Errorf("unknown minor version %d", v)
	}
	s.snaplen = int(s.order.Uint32(b[16:20]))
	s.link = layers.LinkType(s.order.Uint32(b[20:24]))
	s.lo += 24
	s.off = 24
	return s, nil
}

// fill makes n unread bytes available in the buffer, reading as needed;
// it reports whether it could. The unread tail moves to the front when the
// buffer is full, and the buffer doubles only when a record fills all of
// it: it grows with the data that arrives, never with the length a
// (corrupt) record header claims.
func (s *pcapReader) fill(n int) bool {
	for s.hi-s.lo < n {
		if s.eof {
			return false
		}
		if s.hi == len(s.buf) {
			if s.lo > 0 {
				s.hi = copy(s.buf, s.buf[s.lo:s.hi])
				s.lo = 0
			} else {
				nb := make([]byte, 2*len(s.buf))
				copy(nb, s.buf[:s.hi])
				s.buf = nb
			}
		}
		k, err := s.r.Read(s.buf[s.hi:])
		s.hi += k
		if err != nil {
			s.eof = true
			if !errors.Is(err, io.EOF) {
				s.rerr = err
			}
		}
	}
	return true
}

// pcapEagerMax is pcapgo's largest record accepted whatever the snap length.
const pcapEagerMax = 262144

func (s *pcapReader) next(r *record) error {
	if !s.fill(16) {
		switch {
		case s.rerr != nil:
			return s.rerr
		case s.hi == s.lo:
			return io.EOF
		}
		return io.ErrUnexpectedEOF
	}
	b := s.buf[s.lo:s.hi]
	caplen := int(s.order.Uint32(b[8:12]))
	wire := int(s.order.Uint32(b[12:16]))
	if limit := max(s.snaplen, pcapEagerMax); caplen > limit || caplen < 0 {
		return fmt.Errorf("capture length exceeds snap length: %d > %d", caplen, s.snaplen)
	}
	if caplen > wire {
		return fmt.Errorf("capture length exceeds original packet length: %d > %d", caplen, wire)
	}
	if !s.fill(16 + caplen) {
		if s.rerr != nil {
			return s.rerr
		}
		return io.ErrUnexpectedEOF
	}
	b = s.buf[s.lo:s.hi]
	sec := int64(s.order.Uint32(b[0:4]))
	frac := int64(s.order.Uint32(b[4:8]))
	*r = record{data: b[16 : 16+caplen : 16+caplen], nanos: sec*1e9 + frac*s.nanoMul, wireLen: wire, link: s.link}
	s.lo += 16 + caplen
	s.off += int64(16 + caplen)
	return nil
}

func (s *pcapReader) format() string { return "pcap" }
func (s *pcapReader) done() int64    { return s.off }
func (s *pcapReader) close() error   { return nil }

// readError words an error from the pcapgo readers for a person: which
// packet, and what is wrong with it.
func readError(num int64, err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("packet %d: file ends in the middle of the record (truncated capture)", num)
	}
	return fmt.Errorf("packet %d: %s", num, lowerFirst(err.Error()))
}
