package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// repeatReader yields b n times, without holding more than one copy.
type repeatReader struct {
	b   []byte
	n   int
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	k := 0
	for k < len(p) && r.n > 0 {
		c := copy(p[k:], r.b[r.off:])
		k += c
		r.off += c
		if r.off == len(r.b) {
			r.off = 0
			r.n--
		}
	}
	if k == 0 && r.n == 0 {
		return 0, io.EOF
	}
	return k, nil
}

// ngBomb is the reported hostile capture: one section header, then n
// interface description blocks (20 bytes each, Ethernet, no options),
// generated as it is read.
func ngBomb(n int) io.Reader {
	head := new(ngw).shb(binary.LittleEndian).buf.Bytes()
	idb := new(ngw)
	idb.order = binary.LittleEndian
	idb.idb(layers.LinkTypeEthernet, 65535)
	return io.MultiReader(bytes.NewReader(head), &repeatReader{b: idb.buf.Bytes(), n: n})
}

// allocated runs f and returns the bytes it allocated on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestNgInterfaceBomb: a section may declare at most maxInterfaces
// interfaces. The reported file (5 M interface description blocks, a
// 242 KB gzip) took analyze to 1.73 GB; it now stops at the first block
// over the bound with one line naming that block, after a partial report,
// as other read errors do, having allocated a few MB whatever the number of
// blocks that follow.
func TestNgInterfaceBomb(t *testing.T) {
	const blocks = 5_000_000
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if _, err := io.Copy(zw, ngBomb(blocks)); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	t.Logf("hostile file: %d interface blocks, %d bytes gzip'd", blocks, gz.Len())
	// the 65536th interface block: 28-byte section header, then 20-byte blocks
	want := fmt.Sprintf("packet 1: pcapng block %d at byte %d: interface description %d of section 1, over the %d interfaces accepted in a section",
		maxInterfaces+2, 28+maxInterfaces*20, maxInterfaces+1, maxInterfaces)
	full := allocated(func() {
		if _, err := Analyze(ngBomb(maxInterfaces), Options{}); err != nil {
			t.Fatal(err)
		}
	})
	for _, tc := range []struct {
		name string
		r    func() io.Reader
	}{
		{"plain", func() io.Reader { return ngBomb(blocks) }},
		{"gzip", func() io.Reader { return bytes.NewReader(gz.Bytes()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rep *Report
			var err error
			mem := allocated(func() { rep, err = Analyze(tc.r(), Options{}) })
			t.Logf("allocated %.1f MB", float64(mem)/1e6)
			if err == nil || err.Error() != want || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want %q", err, want)
			}
			if !rep.Partial || rep.Error != want || rep.Packets != 0 || rep.Format != "pcapng" {
				t.Errorf("report: partial %v, error %q, %d packets, format %q", rep.Partial, rep.Error, rep.Packets, rep.Format)
			}
			// no more than a file of exactly maxInterfaces blocks: the
			// blocks past the bound cost nothing. That is 14 MB in all
			// (append's 1.25x growth allocates about 5x the final 2.6 MB
			// table of 40-byte interfaces); before the bound, 5 M blocks
			// allocated 1 GB.
			if limit := full + 1<<20; mem > limit || mem > 32<<20 {
				t.Errorf("allocated %d bytes, over %d (a file of exactly %d interfaces) + 1 MB, or over 32 MB", mem, full, maxInterfaces)
			}
		})
	}
}

// TestNgInterfacesPerSection: the bound is per section (a new section
// forgets the interfaces of the last), and the last interface allowed is
// usable: its packets get capture point 0xffff<<48, which no other
// interface has.
func TestNgInterfacesPerSection(t *testing.T) {
	w := &ngw{}
	for range 2 {
		w.shb(binary.BigEndian)
		for range maxInterfaces {
			w.idb(layers.LinkTypeEthernet, 65535)
		}
	}
	w.epb(maxInterfaces-1, 1, make([]byte, 60), 60)
	w.epb(0, 2, make([]byte, 60), 60)
	a := NewAnalyzer(Options{})
	var points []uint64
	a.observe = func(p *Packet, _ error) { points = append(points, p.Point) }
	if err := a.ReadAll(bytes.NewReader(w.buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if want := []uint64{0xffff << 48, 1 << 48}; fmt.Sprint(points) != fmt.Sprint(want) {
		t.Fatalf("capture points %x, want %x", points, want)
	}
}

// TestAnalyzeStops: issue 14 item 4 and 2. An analysis stops with its
// context (the web's deadline) and past Options.MaxPackets, within 4096
// packets of either, after a partial report; before, it read every packet
// (a 29 MB upload of 122.7 M packets ran 12.3 s past the 10 s job limit).
func TestAnalyzeStops(t *testing.T) {
	w := &ngw{}
	w.shb(binary.LittleEndian).idb(layers.LinkTypeEthernet, 0)
	head := bytes.Clone(w.buf.Bytes())
	w.buf.Reset()
	w.epb(0, 1, make([]byte, 14), 14)
	pkts := func(n int) io.Reader {
		return io.MultiReader(bytes.NewReader(head), &repeatReader{b: w.buf.Bytes(), n: n})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := Analyze(pkts(1_000_000), Options{Context: ctx})
	if !errors.Is(err, context.Canceled) || !rep.Partial || rep.Packets != 4096 {
		t.Errorf("cancelled: %v, %d packets, partial %v; want context.Canceled after 4096", err, rep.Packets, rep.Partial)
	}
	rep, err = Analyze(pkts(1_000_000), Options{MaxPackets: 10_000})
	if !errors.Is(err, ErrTooManyPackets) || rep.Packets != 3*4096 || err.Error() != "over the 10000 packets accepted: too many packets" {
		t.Errorf("max packets: %v, %d packets", err, rep.Packets)
	}
	if _, err := Analyze(pkts(3*4096), Options{MaxPackets: 3 * 4096}); err != nil {
		t.Errorf("exactly MaxPackets: %v", err)
	}
}
