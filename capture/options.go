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

// readCutOptions decodes the options of a TCP header that the snap length
// cut short: the options wholly captured are read as if the header ended
// there (an MSS option first in a SYN usually survives a 68-byte snap
// length, and tshark reads it too). Anomalies are dropped: the cut, not the
// sender, made them.
func readCutOptions(hdr []byte, scratch *[60]byte) (mss.Summary, bool) {
	n := len(hdr) &^ 3
	if n <= 20 {
		return mss.Summary{}, false
	}
	copy(scratch[:], hdr[:n])
	scratch[12] = byte(n/4)<<4 | scratch[12]&0x0f
	s, err := mss.Summarize(scratch[:n])
	if err != nil {
		return mss.Summary{}, false
	}
	s.Anomalies = 0
	return s, true
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
