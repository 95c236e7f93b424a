package capture

import (
	"encoding/binary"

	"github.com/mtukit/mtukit/mss"
)

// readOptions decodes the options of a TCP header with the mss package's
// codec. It is the analyzer's one call into option parsing.
func readOptions(hdr []byte) (mss.Summary, error) {
	return mss.Summarize(hdr)
}

// sackBlock is one SACK block: [left, right) in sequence space.
type sackBlock struct{ left, right uint32 }

// readSACK appends the blocks of the first well-formed SACK option of the
// TCP header hdr to dst (at most 4, RFC 2018 §3).
func readSACK(hdr []byte, dst []sackBlock) []sackBlock {
	var w mss.Walker
	if w.Reset(hdr) != nil {
		return dst
	}
	for o, ok := w.Next(); ok; o, ok = w.Next() {
		if o.Kind != mss.KindSACK || !o.WellFormed() {
			continue
		}
		for b := o.Data; len(b) >= 8; b = b[8:] {
			dst = append(dst, sackBlock{binary.BigEndian.Uint32(b[0:4]), binary.BigEndian.Uint32(b[4:8])})
		}
		break
	}
	return dst
}

// tsOnly reports whether a header's options are exactly NOP, NOP,
// timestamps: the common case on data segments, which needs no walk.
func tsOnly(opts []byte) bool {
	return len(opts) == 12 && opts[0] == 1 && opts[1] == 1 && opts[2] == 8 && opts[3] == 10
}
