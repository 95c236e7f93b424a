package capture

import (
	"encoding/binary"
	"fmt"
	"io"
)

// NgBound passes a pcapng stream through and follows its block structure
// as the bytes go by, to hold the reader behind it to bounds: a block over
// maxRecord bytes (64 MiB) and an interface description past the bound in
// a section stop the stream, at the start of that block, with the error
// the analyzer gives (ngReader's words and constants). Clamp reads pcapng
// with pcapgo behind it: before, the interface bomb of TestNgInterfaceBomb,
// uncompressed (100 MB), took clamp to 4.68 GB and 226 s, and a block
// claiming 600 MiB was read whole. The web puts it before the analyzer
// with a tighter interface bound of its own.
type NgBound struct {
	r      io.Reader
	max    int64 // interfaces per section
	err    error // the bound broken, given at the next read
	broken error // and kept for Err

	hdr  [12]byte // a block's type, length and (section header) byte order
	hn   int      // bytes of hdr read
	rest int64    // bytes of the current block after its header
	off  int64    // stream offset of the next byte

	big                      bool
	blocks, sections, ifaces int64
}

// NewNgBound bounds the pcapng stream r to ifaces interfaces per section;
// 0 is the analyzer's bound (65535), and a larger one is taken as that.
func NewNgBound(r io.Reader, ifaces int) *NgBound {
	m := int64(ifaces)
	if m <= 0 || m > maxInterfaces {
		m = maxInterfaces
	}
	return &NgBound{r: r, max: m}
}

// Err is the bound the stream broke, if it did.
func (g *NgBound) Err() error { return g.broken }

func (g *NgBound) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	for i := 0; i < n; {
		if g.rest > 0 {
			k := int(min(g.rest, int64(n-i)))
			g.rest -= int64(k)
			i += k
			continue
		}
		k := copy(g.hdr[g.hn:], p[i:n])
		g.hn += k
		i += k
		if g.hn < len(g.hdr) {
			break
		}
		start := g.off + int64(i) - int64(len(g.hdr)) // where the block starts
		g.hn = 0
		if berr := g.block(start); berr != nil {
			// what came before the block is pcapgo's; the error next
			g.err, g.broken = berr, berr
			ok := int(max(0, start-g.off))
			g.off += int64(ok)
			return ok, nil
		}
	}
	g.off += int64(n)
	return n, err
}

// block checks the header of a block that starts at byte off.
func (g *NgBound) block(off int64) error {
	u32 := binary.LittleEndian.Uint32
	if g.big {
		u32 = binary.BigEndian.Uint32
	}
	typ := u32(g.hdr[0:4])
	if typ == ngSHB {
		switch {
		case binary.BigEndian.Uint32(g.hdr[8:12]) == ngByteOrder:
			g.big, u32 = true, binary.BigEndian.Uint32
		case binary.LittleEndian.Uint32(g.hdr[8:12]) == ngByteOrder:
			g.big, u32 = false, binary.LittleEndian.Uint32
		}
		g.sections++
		g.ifaces = 0
	}
	g.blocks++
	blen := int64(u32(g.hdr[4:8]))
	switch {
	case blen < 12:
		return fmt.Errorf("pcapng block %d at byte %d: block length %d shorter than a block (12)", g.blocks, off, blen)
	case blen > maxRecord:
		return fmt.Errorf("pcapng block %d at byte %d: block length %d over the %d accepted", g.blocks, off, blen, maxRecord)
	case typ == ngIDB && g.ifaces >= g.max:
		return fmt.Errorf("pcapng block %d at byte %d: interface description %d of section %d, over the %d interfaces accepted in a section",
			g.blocks, off, g.ifaces+1, g.sections, g.max)
	case typ == ngIDB:
		g.ifaces++
	}
	g.rest = blen - 12
	return nil
}
