package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/mtukit/mtukit/mss"
)

// TestClampHugeRecord is issue 14 item 6: a pcap whose header claims a snap
// length of 0xFFFFFFFF and whose one record claims 600 MiB (a sparse file,
// so the bytes are really there) is refused by Clamp with the analyzer's
// bound, naming the packet, without allocating the record; Analyze refuses
// the same file with the same words.
func TestClampHugeRecord(t *testing.T) {
	const huge = 600 << 20
	hdr := make([]byte, 24+16)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 0xffffffff) // snap length
	binary.LittleEndian.PutUint32(hdr[20:], 1)          // Ethernet
	binary.LittleEndian.PutUint32(hdr[24+8:], huge)     // captured length
	binary.LittleEndian.PutUint32(hdr[24+12:], huge)    // original length
	path := filepath.Join(t.TempDir(), "huge.pcap")
	if err := os.WriteFile(path, hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(len(hdr))+huge); err != nil { // sparse
		t.Fatal(err)
	}
	const want = "packet 1: corrupt record: capture length 629145600 over the 67108864 accepted"

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tg, err := mss.MSSTarget(1360)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = Clamp(f, io.Discard, &mss.Clamper{Target: tg})
	runtime.ReadMemStats(&after)
	var ie *InputError
	if !errors.As(err, &ie) || err.Error() != want {
		t.Fatalf("clamp: %v, want the input error %q", err, want)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
		t.Fatalf("clamp allocated %d MiB for a refused record", got>>20)
	}

	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	_, err = Analyze(f, Options{})
	if err == nil || !strings.Contains(err.Error(), "capture length 629145600 over the 67108864 accepted") {
		t.Fatalf("analyze: %v, want the same bound", err)
	}
}

// TestClampNgBounds is issue 14 item 6 for pcapng: Clamp reads pcapng with
// pcapgo, which kept every interface (the uncompressed interface bomb took
// clamp to 4.68 GB and 226 s, exit 0) and read a block whole whatever its
// length. Both now stop at the analyzer's bounds (maxInterfaces,
// maxRecord), with the analyzer's words, as bad input naming the block.
func TestClampNgBounds(t *testing.T) {
	tg, err := mss.MSSTarget(1360)
	if err != nil {
		t.Fatal(err)
	}
	c := &mss.Clamper{Target: tg}
	t.Run("interface bomb", func(t *testing.T) {
		want := fmt.Sprintf("packet 1: corrupt record: pcapng block %d at byte %d: interface description %d of section 1, over the %d interfaces accepted in a section",
			maxInterfaces+2, 28+maxInterfaces*20, maxInterfaces+1, maxInterfaces)
		full := allocated(func() {
			if _, err := Clamp(ngBomb(maxInterfaces), io.Discard, c); err != nil {
				t.Fatal(err)
			}
		})
		var err error
		mem := allocated(func() { _, err = Clamp(ngBomb(1_000_000), io.Discard, c) })
		var ie *InputError
		if !errors.As(err, &ie) || err.Error() != want {
			t.Fatalf("clamp: %v, want the input error %q", err, want)
		}
		t.Logf("allocated %.1f MB (exactly %d interfaces: %.1f MB)", float64(mem)/1e6, maxInterfaces, float64(full)/1e6)
		if mem > full+1<<20 {
			t.Fatalf("allocated %d bytes, over the %d of a file of exactly %d interfaces + 1 MB", mem, full, maxInterfaces)
		}
	})
	t.Run("huge block", func(t *testing.T) {
		const huge = 600 << 20
		w := &ngw{}
		w.shb(binary.LittleEndian).idb(layers.LinkTypeEthernet, 0)
		head := w.buf.Bytes()
		epb := make([]byte, 28)
		binary.LittleEndian.PutUint32(epb[0:], ngEPB)
		binary.LittleEndian.PutUint32(epb[4:], huge+32)
		binary.LittleEndian.PutUint32(epb[20:], huge) // captured
		binary.LittleEndian.PutUint32(epb[24:], huge) // on the wire
		path := filepath.Join(t.TempDir(), "huge.pcapng")
		if err := os.WriteFile(path, append(head, epb...), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, int64(len(head))+huge+32); err != nil { // sparse
			t.Fatal(err)
		}
		want := fmt.Sprintf("packet 1: corrupt record: pcapng block 3 at byte %d: block length %d over the %d accepted", len(head), huge+32, maxRecord)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		mem := allocated(func() { _, err = Clamp(f, io.Discard, c) })
		var ie *InputError
		if !errors.As(err, &ie) || err.Error() != want {
			t.Fatalf("clamp: %v, want the input error %q", err, want)
		}
		if mem > 16<<20 {
			t.Fatalf("clamp allocated %d MiB for a refused block", mem>>20)
		}
	})
}

// FuzzNgGuard: NgBound only ever cuts the stream short, at a block start,
// with an error, whatever the bytes and however the reads fall. Seeds: a
// real pcapng, the same with an oversized block length, a byte-swapped
// section, and a section of two interfaces.
func FuzzNgGuard(f *testing.F) {
	if b, err := os.ReadFile("../mss/testdata/pcaps/zeek__tcp_retransmit-timeout.pcapng"); err == nil {
		f.Add(b, uint8(7))
		big := bytes.Clone(b)
		binary.LittleEndian.PutUint32(big[4:], maxRecord+4)
		f.Add(big, uint8(1))
	}
	w := &ngw{}
	w.shb(binary.BigEndian).idb(layers.LinkTypeEthernet, 0).idb(layers.LinkTypeRaw, 0)
	f.Add(w.buf.Bytes(), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, step uint8) {
		g := NewNgBound(&chunkReader{b: b, n: int(step)%64 + 1}, int(step)%4)
		got, err := io.ReadAll(g)
		if !bytes.HasPrefix(b, got) {
			t.Fatalf("guard changed the bytes")
		}
		if len(got) < len(b) && err == nil {
			t.Fatalf("cut at %d of %d bytes without an error", len(got), len(b))
		}
		if err != nil && len(got) == len(b) && g.hn == 0 {
			t.Fatalf("error %v with every byte passed", err)
		}
		if (err != nil) != (g.Err() != nil) {
			t.Fatalf("read error %v, Err %v", err, g.Err())
		}
	})
}

// chunkReader reads b at most n bytes at a time.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}
