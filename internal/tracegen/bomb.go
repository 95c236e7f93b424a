package tracegen

import (
	"encoding/binary"
	"io"
)

// WriteInterfaceBomb writes a hostile pcapng: one section header and n
// interface description blocks (20 bytes each, Ethernet, no options) and
// no packet. It is the "interface bomb" the readers bound (docs/security.md):
// tiny gzip'd, huge as a table. Write errors are returned.
func WriteInterfaceBomb(w io.Writer, n int) error {
	le := binary.LittleEndian
	shb := make([]byte, 28)
	le.PutUint32(shb[0:], 0x0a0d0d0a)
	le.PutUint32(shb[4:], 28)
	le.PutUint32(shb[8:], 0x1a2b3c4d)
	le.PutUint16(shb[12:], 1)
	le.PutUint64(shb[16:], ^uint64(0))
	le.PutUint32(shb[24:], 28)
	if _, err := w.Write(shb); err != nil {
		return err
	}
	idb := make([]byte, 20)
	le.PutUint32(idb[0:], 1)
	le.PutUint32(idb[4:], 20)
	le.PutUint16(idb[8:], 1)
	le.PutUint32(idb[12:], 65535)
	le.PutUint32(idb[16:], 20)
	const batch = 4096
	chunk := make([]byte, 0, 20*batch)
	for range batch {
		chunk = append(chunk, idb...)
	}
	for k := 0; k < n; k += batch {
		if _, err := w.Write(chunk[:20*min(batch, n-k)]); err != nil {
			return err
		}
	}
	return nil
}
