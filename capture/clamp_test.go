package capture

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

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
