package mss

// Internet checksum arithmetic (RFC 1071) and its incremental update
// (RFC 1624).

// sum16 adds b to sum as big-endian 16-bit words, b starting at an even
// offset of the checksummed data; an odd last byte is padded with zero.
func sum16(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

// fold reduces a 32-bit sum to 16 bits with end-around carry.
func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// csumUpdate is RFC 1624 eqn. 3: when a 16-bit word of the data changes
// from m to m2, the checksum HC becomes HC' = ~(~HC + ~m + m2). Unlike eqn.
// 2 it never produces 0xffff from a valid checksum, so the result is the
// very value a full recomputation gives (and what Linux's csum_replace2
// computes).
func csumUpdate(hc, m, m2 uint16) uint16 {
	return ^fold(uint32(^hc) + uint32(^m) + uint32(m2))
}

// csumUpdateWords updates checksum hc for a change of whole 16-bit words:
// old and cur are the same even-aligned span of the data before and after
// the change. A change at an odd offset (an unaligned MSS option) touches
// two words, and both must be updated: a 16-bit value that straddles words
// contributes byte-swapped to the sum.
func csumUpdateWords(hc uint16, old, cur []byte) uint16 {
	for i := 0; i+1 < len(old); i += 2 {
		hc = csumUpdate(hc, uint16(old[i])<<8|uint16(old[i+1]), uint16(cur[i])<<8|uint16(cur[i+1]))
	}
	return hc
}
