package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// pcapng block types (draft-ietf-opsawg-pcapng §10.1) and the constants
// of the section header.
const (
	ngSHB       = 0x0a0d0d0a // section header: the same in both byte orders
	ngIDB       = 1          // interface description
	ngPB        = 2          // packet (obsolete)
	ngSPB       = 3          // simple packet
	ngEPB       = 6          // enhanced packet
	ngByteOrder = 0x1a2b3c4d
	ngOptTSRes  = 9  // if_tsresol
	ngOptTSOff  = 14 // if_tsoffset
)

// maxInterfaces bounds the interfaces of one section, the only table the
// readers keep per file (the pcap reader keeps none). A packet's capture
// point carries its interface in 16 bits (Packet.Point), so ids past it
// would alias; without a bound, a 242 KB gzip of 5 M interface description
// blocks took the analyzer to 1.7 GB (TestNgInterfaceBomb). Capture tools
// write one block per interface captured on: a handful.
const maxInterfaces = 1<<16 - 1

// zeroTimeNanos is what pcapgo gives as the time of a simple packet block,
// which carries none: time.Time{}.UnixNano().
var zeroTimeNanos = time.Time{}.UnixNano()

// ngIface is an interface of the current section.
type ngIface struct {
	link    layers.LinkType
	snaplen uint32
	// timestamps count 1/mask seconds; offset is if_tsoffset in seconds;
	// up and down scale the fraction to nanoseconds (pcapgo's secondMask,
	// TimestampOffset, scaleUp and scaleDown, so times come out the same)
	mask, up, down, offset uint64
}

// nanos converts a timestamp of the interface to Unix nanoseconds.
func (f *ngIface) nanos(ts uint64) int64 {
	switch f.mask {
	case 1e6: // the default resolution, constant divisions
		return int64(ts/1e6+f.offset)*1e9 + int64(ts%1e6*1000)
	case 1e9:
		return int64(ts/1e9+f.offset)*1e9 + int64(ts%1e9)
	}
	return int64(ts/f.mask+f.offset)*1e9 + int64(ts%f.mask*f.up/f.down)
}

// ngReader reads a pcapng stream in place: enhanced, simple and obsolete
// packet blocks are handed out as slices of the read buffer, interface
// descriptions give each interface its link type and timestamp resolution,
// a section header may switch the byte order and starts a new set of
// interfaces, and every other block is skipped. Frames, times, lengths,
// link types and the errors that matter (unknown interface, bad byte
// order, version) are pcapgo's (TestNgReaderMatchesPcapgo, FuzzNgReader);
// unlike pcapgo it checks that a packet's captured length fits its block
// (one that does not is read to the block's end and marked, see
// shortBlock), and it ignores options it does not use rather than failing
// on a broken one.
type ngReader struct {
	s      *stream
	cr     *countingReader
	big    bool // byte order of the current section
	ifaces []ngIface
	// blocks counts the blocks read, sections the section headers, so
	// that an error can name its block
	blocks, sections int64
}

// newNgReader reads the first section header.
func newNgReader(s *stream, cr *countingReader) (*ngReader, error) {
	n := &ngReader{s: s, cr: cr}
	if err := n.section(); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *ngReader) u16(b []byte) uint16 {
	if n.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (n *ngReader) u32(b []byte) uint32 {
	if n.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (n *ngReader) u64(b []byte) uint64 {
	if n.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// section reads a section header block: its byte order and version. The
// interfaces of the previous section are forgotten.
func (n *ngReader) section() error {
	s := n.s
	n.blocks++
	n.sections++
	if !s.fill(12) {
		return s.cut()
	}
	b := s.buf[s.lo : s.lo+12]
	switch {
	case binary.BigEndian.Uint32(b[8:12]) == ngByteOrder:
		n.big = true
	case binary.LittleEndian.Uint32(b[8:12]) == ngByteOrder:
		n.big = false
	default:
		return errors.New("wrong byte order value in section header")
	}
	// version and section length, as pcapgo reads them before it checks
	if !s.fill(24) {
		return s.cut()
	}
	b = s.buf[s.lo : s.lo+24]
	if major, minor := n.u16(b[12:14]), n.u16(b[14:16]); major != 1 || minor != 0 {
		return fmt.Errorf("unknown pcapng version %d.%d in section header", major, minor)
	}
	blen := n.u32(b[4:8])
	if blen < 28 {
		return fmt.Errorf("section header block length %d shorter than the header (28)", blen)
	}
	n.ifaces = n.ifaces[:0]
	if !s.skip(int64(blen)) {
		return s.cut()
	}
	return nil
}

// block makes the whole block at the cursor, blen bytes, available and
// returns it. Only packet and interface blocks are read whole (at most
// maxRecord bytes); the others are skipped without buffering them.
func (n *ngReader) block(what string, blen, hdr uint32) ([]byte, error) {
	if blen < hdr {
		return nil, fmt.Errorf("%s block length %d shorter than its header (%d)", what, blen, hdr)
	}
	if blen > maxRecord {
		return nil, fmt.Errorf("%s block length %d over the %d accepted", what, blen, maxRecord)
	}
	s := n.s
	if !s.fill(int(blen)) {
		return nil, s.cut()
	}
	return s.buf[s.lo : s.lo+int(blen)], nil
}

func (n *ngReader) next(r *record) error {
	s := n.s
	for {
		if !s.fill(8) {
			return s.end()
		}
		b := s.buf[s.lo : s.lo+8]
		typ := n.u32(b[0:4])
		if typ == ngSHB {
			if err := n.section(); err != nil {
				return err
			}
			continue
		}
		blen := n.u32(b[4:8])
		n.blocks++
		switch typ {
		case ngEPB, ngPB:
			// the interface is checked before the block is read whole, as
			// pcapgo does, so that a cut file gives the same error
			if !s.fill(28) {
				return s.cut()
			}
			id := int(n.u32(s.buf[s.lo+8 : s.lo+12]))
			if typ == ngPB {
				id = int(n.u16(s.buf[s.lo+8 : s.lo+10]))
			}
			if id >= len(n.ifaces) {
				return fmt.Errorf("interface id %d not present in section (have only %d interfaces)", id, len(n.ifaces))
			}
			b, err := n.block("packet", blen, 32)
			if err != nil {
				return err
			}
			f := &n.ifaces[id]
			caplen := n.u32(b[20:24])
			var problem error
			if caplen > blen-32 {
				// the block's length frames the file: read what the block
				// holds and go on with the next block
				problem = shortBlock{caplen, blen}
				caplen = blen - 32
			}
			ts := uint64(n.u32(b[12:16]))<<32 | uint64(n.u32(b[16:20]))
			*r = record{data: b[28 : 28+caplen : 28+caplen], nanos: f.nanos(ts), wireLen: int(n.u32(b[24:28])),
				link: f.link, point: uint64(id+1) << 48, problem: problem}
			s.consume(int(blen))
			return nil
		case ngSPB:
			if !s.fill(12) {
				return s.cut()
			}
			if len(n.ifaces) == 0 {
				return errors.New("at least one interface is needed for a packet")
			}
			b, err := n.block("simple packet", blen, 16)
			if err != nil {
				return err
			}
			f := &n.ifaces[0]
			wire := n.u32(b[8:12])
			caplen := wire
			if f.snaplen != 0 && caplen > f.snaplen {
				caplen = f.snaplen
			}
			var problem error
			if caplen > blen-16 {
				problem = shortBlock{caplen, blen}
				caplen = blen - 16
			}
			*r = record{data: b[12 : 12+caplen : 12+caplen], nanos: zeroTimeNanos, wireLen: int(wire), link: f.link, point: 1 << 48, problem: problem}
			s.consume(int(blen))
			return nil
		case ngIDB:
			if len(n.ifaces) >= maxInterfaces {
				return fmt.Errorf("pcapng block %d at byte %d: interface description %d of section %d, over the %d interfaces accepted in a section",
					n.blocks, s.off, len(n.ifaces)+1, n.sections, maxInterfaces)
			}
			b, err := n.block("interface description", blen, 20)
			if err != nil {
				return err
			}
			if err := n.iface(b); err != nil {
				return err
			}
			s.consume(int(blen))
		default:
			if blen < 12 {
				return fmt.Errorf("block type %#x length %d shorter than a block (12)", typ, blen)
			}
			if !s.skip(int64(blen)) {
				return s.cut()
			}
		}
	}
}

// iface reads an interface description block b: link type, snap length,
// and the options that set how its timestamps count (if_tsresol,
// if_tsoffset); others are skipped, and a malformed option ends the list.
func (n *ngReader) iface(b []byte) error {
	f := ngIface{link: layers.LinkType(n.u16(b[8:10])), snaplen: n.u32(b[12:16])}
	res := uint8(0)
	opts := b[16 : len(b)-4]
	for len(opts) >= 4 {
		code, l := n.u16(opts[0:2]), int(n.u16(opts[2:4]))
		if code == 0 || 4+l > len(opts) {
			break
		}
		v := opts[4 : 4+l]
		switch {
		case code == ngOptTSRes && l >= 1:
			res = v[0]
		case code == ngOptTSOff && l >= 8:
			f.offset = n.u64(v)
		}
		opts = opts[min(len(opts), 4+(l+3)&^3):]
	}
	if res == 0 {
		res = 6 // microseconds
	}
	exp := res & 0x7f
	if res&0x80 != 0 {
		if exp > 63 {
			return fmt.Errorf("timestamp resolution 2^-%d is too high", exp)
		}
		f.mask = 1 << exp
	} else {
		if exp > 63 {
			return fmt.Errorf("timestamp resolution 10^-%d is too high", exp)
		}
		f.mask = 1
		for range exp {
			f.mask *= 10
		}
	}
	f.up, f.down = 1, 1
	if f.mask < 1e9 {
		f.up = 1e9 / f.mask
	} else {
		f.down = f.mask / 1e9
	}
	n.ifaces = append(n.ifaces, f)
	return nil
}

func (n *ngReader) format() string { return "pcapng" }
func (n *ngReader) done() int64    { return n.cr.n }

// shortBlock is a packet block whose captured length runs past the block.
// Unlike a pcap record, a pcapng block is framed by its own length, so the
// next block is found all the same: the frame is read to the end of its
// block, and the packet counted as malformed.
type shortBlock struct{ caplen, blen uint32 }

func (e shortBlock) Error() string {
	return fmt.Sprintf("record: capture length %d beyond the end of its block (%d bytes; read to the block's end)", e.caplen, e.blen)
}
