package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket/layers"
)

// record is one frame read from a capture file.
type record struct {
	data    []byte // valid until the next read
	nanos   int64  // capture time, Unix nanoseconds
	wireLen int
	link    layers.LinkType
	point   uint64 // capture point: pcapng interface (see Packet.Point)
	// problem, when set, is what is wrong with the record itself (not its
	// frame): the frame is still analyzed, and the packet counted as
	// malformed with this reason (see recordProblem).
	problem error
}

// source yields the frames of a capture file.
type source interface {
	// next reads the next frame into r; io.EOF at the end.
	next(r *record) error
	// format names the file format.
	format() string
	// done is how many bytes of the file were read, for progress.
	done() int64
}

// Magic numbers of the formats read.
var (
	magicPcapng = []byte{0x0a, 0x0d, 0x0d, 0x0a}
	magicGzip   = []byte{0x1f, 0x8b}
)

// openSource detects the format of r (pcap, pcapng, either gzip-compressed)
// and returns a source for it. Both formats are parsed in place in one read
// buffer (see stream).
func openSource(r io.Reader) (source, error) {
	cr := &countingReader{r: r}
	return openStream(newStream(cr), cr)
}

func openStream(s *stream, cr *countingReader) (source, error) {
	if !s.fill(4) {
		if s.rerr != nil {
			return nil, s.rerr
		}
		if s.hi == s.lo {
			return nil, errors.New("empty file: not a pcap or pcapng capture")
		}
		return nil, fmt.Errorf("file too short (%d bytes) for a pcap or pcapng header", s.hi-s.lo)
	}
	head := s.buf[s.lo : s.lo+4]
	if bytes.HasPrefix(head, magicGzip) {
		// what is buffered, then the rest of the file; the buffer then
		// takes the decompressed stream
		head := bytes.Clone(s.buf[s.lo:s.hi])
		zr, err := gzip.NewReader(io.MultiReader(bytes.NewReader(head), s.r))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return openStream(&stream{r: zr, buf: s.buf}, cr)
	}
	if bytes.Equal(head, magicPcapng) {
		r, err := newNgReader(s, cr)
		if err != nil {
			return nil, fmt.Errorf("pcapng header: %s", lowerFirst(err.Error()))
		}
		return r, nil
	}
	if !isPcapMagic(head) {
		return nil, fmt.Errorf("not a pcap or pcapng file (starts with %x)", head)
	}
	pr, err := newPcapReader(s, cr)
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
		[4]byte{0x4d, 0x3c, 0xb2, 0xa1}, [4]byte{0xa1, 0xb2, 0x3c, 0x4d},
		[4]byte{0x34, 0xcd, 0xb2, 0xa1}, [4]byte{0xa1, 0xb2, 0xcd, 0x34}:
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

// readChunk is the read size, and the read buffer's size until a record
// larger than it arrives. Small enough that the buffer stays in the CPU's
// L2 cache: the kernel copies the file into cache-resident memory and the
// decoder reads the headers from there. 256 KB measured best on whole
// frames (docs/analyze.md, "Speed").
const readChunk = 256 << 10

// stream is a read buffer that capture records are parsed from in place:
// each byte of the file is copied once, by read, into a buffer small enough
// to stay in cache, and frames are handed out as slices of it (pcapgo
// copies every byte twice, through bufio and into its packet buffer, which
// on captures of whole frames was most of the cost).
type stream struct {
	r      io.Reader
	buf    []byte
	lo, hi int   // unread bytes are buf[lo:hi]
	off    int64 // bytes of the stream consumed
	eof    bool
	rerr   error
}

func newStream(r io.Reader) *stream {
	return &stream{r: r, buf: make([]byte, readChunk)}
}

// fill makes n unread bytes available in the buffer, reading as needed;
// it reports whether it could. The unread tail moves to the front when the
// buffer is full, and the buffer doubles only when a record fills all of
// it: it grows with the data that arrives, never with the length a
// (corrupt) header claims.
func (s *stream) fill(n int) bool {
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
		s.read()
	}
	return true
}

// read reads once into the free end of the buffer.
func (s *stream) read() {
	k, err := s.r.Read(s.buf[s.hi:])
	s.hi += k
	if err != nil {
		s.eof = true
		if !errors.Is(err, io.EOF) {
			s.rerr = err
		}
	}
}

// consume drops n buffered bytes.
func (s *stream) consume(n int) {
	s.lo += n
	s.off += int64(n)
}

// skip drops n bytes, buffered or not, without growing the buffer; it
// reports whether the stream had them all.
func (s *stream) skip(n int64) bool {
	for {
		k := int(min(n, int64(s.hi-s.lo)))
		s.consume(k)
		n -= int64(k)
		if n == 0 {
			return true
		}
		if s.eof {
			return false
		}
		s.lo, s.hi = 0, 0
		s.read()
	}
}

// cut is the error for a stream that ended early: the read error, or a
// truncated file.
func (s *stream) cut() error {
	if s.rerr != nil {
		return s.rerr
	}
	return io.ErrUnexpectedEOF
}

// end is the error when fewer than n bytes are left at the start of a
// record: io.EOF when none are.
func (s *stream) end() error {
	if s.rerr == nil && s.hi == s.lo {
		return io.EOF
	}
	return s.cut()
}

// pcapReader reads a classic pcap stream. It reads the file variants
// libpcap reads (sf-pcap.c): versions 2.0 to 2.4 and DG/UX's 543.0, with
// the captured and original lengths in the pre-2.3 order where the version
// says so; microsecond, nanosecond and Kuznetsov's patched magic (24-byte
// record headers); either byte order; a link type field whose upper bits
// carry the FCS length. On version 2.4 files its checks and error messages
// are pcapgo's (TestPcapReaderMatchesPcapgo, FuzzPcapReader hold it to
// pcapgo on every real capture and on fuzzed files), except that a record
// whose captured length exceeds its original length is read, not an error
// (docs/analyze.md, "File variants").
type pcapReader struct {
	s       *stream
	cr      *countingReader
	order   binary.ByteOrder
	nanoMul int64
	snaplen int
	link    layers.LinkType
	hdrLen  int     // record header: 16, or 24 in Kuznetsov's format
	swapped lengths // the order of the two length fields
}

// lengths says where a pcap version keeps the captured and the original
// length of a record (libpcap's lengths_swapped).
type lengths uint8

const (
	lengthsNormal  lengths = iota // 2.4: captured, then original
	lengthsSwapped                // before 2.3 and 543.0: original, then captured
	lengthsMaybe                  // 2.3: written both ways; swapped when captured > original
)

// Magic numbers of classic pcap, as read little-endian.
const (
	pcapMagicMicro     = 0xa1b2c3d4
	pcapMagicNano      = 0xa1b23c4d
	pcapMagicKuznetsov = 0xa1b2cd34 // Alexey Kuznetsov's patched libpcap: 8 more bytes per record header
)

// linkTypeMask keeps the link type of a pcap header's link type field; the
// upper bits may hold the length of an FCS at the end of every frame
// (LT_LINKTYPE in libpcap's pcap-common.h). The decoders take the IP
// length, so a trailing FCS is ignored like Ethernet padding.
const linkTypeMask = 0x03ffffff

// newPcapReader reads the file header.
func newPcapReader(s *stream, cr *countingReader) (*pcapReader, error) {
	if !s.fill(24) {
		return nil, s.cut()
	}
	p := &pcapReader{s: s, cr: cr, hdrLen: 16}
	b := s.buf[s.lo : s.lo+24]
	magic := binary.LittleEndian.Uint32(b[0:4])
	p.order = binary.LittleEndian
	if magic&0xffff != 0xc3d4 && magic&0xffff != 0x3c4d && magic&0xffff != 0xcd34 {
		p.order, magic = binary.BigEndian, binary.BigEndian.Uint32(b[0:4])
	}
	switch magic {
	case pcapMagicMicro:
		p.nanoMul = 1000
	case pcapMagicNano:
		p.nanoMul = 1
	case pcapMagicKuznetsov:
		p.nanoMul, p.hdrLen = 1000, 24
	default:
		return nil, fmt.Errorf("unknown magic %x", binary.LittleEndian.Uint32(b[0:4]))
	}
	major, minor := p.order.Uint16(b[4:6]), p.order.Uint16(b[6:8])
	switch {
	case major == 2 && minor == 4:
	case major == 2 && minor == 3:
		p.swapped = lengthsMaybe
	case major == 2 && minor < 3, major == 543 && minor == 0:
		p.swapped = lengthsSwapped
	case major < 2:
		return nil, fmt.Errorf("archaic pcap version %d.%d (libpcap reads 2.0 to 2.4)", major, minor)
	default:
		return nil, fmt.Errorf("unsupported pcap version %d.%d (libpcap reads 2.0 to 2.4, and 543.0)", major, minor)
	}
	p.snaplen = int(p.order.Uint32(b[16:20]))
	p.link = layers.LinkType(p.order.Uint32(b[20:24]) & linkTypeMask)
	s.consume(24)
	return p, nil
}

// maxRecord bounds a record (pcap) or block (pcapng) read whole into the
// buffer: a corrupt length must not make the reader buffer a huge file.
// No capture tool writes frames anywhere near it (libpcap's largest snap
// length is 256 KB).
const maxRecord = 64 << 20

// pcapEagerMax is pcapgo's largest record accepted whatever the snap length.
const pcapEagerMax = 262144

// next reads a record. A captured length above the snap length (and
// pcapEagerMax) is an error that ends the file: classic pcap has nothing
// to find the next record by, so once a record's length lies, every byte
// after it could be anything. A captured length above the original length
// (which libpcap and Wireshark read) frames correctly: the record is read
// and marked with a problem.
func (p *pcapReader) next(r *record) error {
	s := p.s
	h := p.hdrLen
	if !s.fill(h) {
		return s.end()
	}
	b := s.buf[s.lo:s.hi]
	caplen := int(p.order.Uint32(b[8:12]))
	wire := int(p.order.Uint32(b[12:16]))
	if p.swapped == lengthsSwapped || p.swapped == lengthsMaybe && caplen > wire {
		caplen, wire = wire, caplen
	}
	if limit := max(p.snaplen, pcapEagerMax); caplen > limit || caplen < 0 {
		return fmt.Errorf("capture length exceeds snap length: %d > %d", caplen, p.snaplen)
	}
	if caplen > maxRecord {
		// pcapgo would read on (a file header may claim any snap length);
		// the buffer must not grow to gigabytes on a corrupt length
		return fmt.Errorf("capture length %d over the %d accepted", caplen, maxRecord)
	}
	if !s.fill(h + caplen) {
		return s.cut()
	}
	b = s.buf[s.lo:s.hi]
	sec := int64(p.order.Uint32(b[0:4]))
	frac := int64(p.order.Uint32(b[4:8]))
	*r = record{data: b[h : h+caplen : h+caplen], nanos: sec*1e9 + frac*p.nanoMul, wireLen: wire, link: p.link}
	if caplen > wire {
		r.problem = longRecord{caplen, wire}
		r.wireLen = caplen
	}
	s.consume(h + caplen)
	return nil
}

// longRecord is a record that captured more bytes than its packet had.
// The bytes are in the file and frame the next record correctly, so the
// frame is analyzed at its captured length (the original length is taken
// to be that), as libpcap hands it over and Wireshark dissects it.
type longRecord struct{ caplen, wire int }

func (e longRecord) Error() string {
	return fmt.Sprintf("record: captured length %d exceeds original length %d (analyzed at %d bytes)", e.caplen, e.wire, e.caplen)
}

func (p *pcapReader) format() string { return "pcap" }
func (p *pcapReader) done() int64    { return p.cr.n }

// readError words an error from the readers for a person: which packet,
// and what is wrong with it.
func readError(num int64, err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("packet %d: file ends in the middle of the record (truncated capture)", num)
	}
	return fmt.Errorf("packet %d: %s", num, lowerFirst(err.Error()))
}

// recordProblem counts packet num, whose record (not frame) has a problem,
// as malformed with the reason: once, though its frame may also have
// failed to decode (mal is the malformed count before the frame).
func (a *Analyzer) recordProblem(num, mal int64, err error) {
	if a.malformed.n == mal {
		a.malformed.add(num)
	}
	if len(a.malWhy) < 5 {
		a.malWhy = append(a.malWhy, "packet "+itoa(int(num))+": "+err.Error())
	}
}
