package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/mtukit/mtukit/internal/tracegen"
)

var (
	wholeOnce          sync.Once
	wholePcap, wholeNg []byte
)

// wholeFrames is a synthetic capture of 30k whole frames (internal/
// tracegen, seed 1), as classic pcap and converted to pcapng.
func wholeFrames(b testing.TB) (pcap, ng []byte) {
	wholeOnce.Do(func() {
		var buf bytes.Buffer
		if _, err := tracegen.Generate(&buf, tracegen.Config{Packets: 30_000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		wholePcap = buf.Bytes()
		wholeNg = pcapToNg(b, wholePcap, binary.LittleEndian)
	})
	return wholePcap, wholeNg
}

// readAll reads every frame of a capture and returns how many there were.
func readAll(tb testing.TB, data []byte) int64 {
	src, err := openSource(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	var rec record
	n := int64(0)
	for {
		if err := src.next(&rec); err != nil {
			if !errors.Is(err, io.EOF) {
				tb.Fatal(err)
			}
			return n
		}
		n++
	}
}

// BenchmarkRead is the readers alone on whole frames held in memory:
// every byte is copied once, into the read buffer. pkts/s is per core.
func BenchmarkRead(b *testing.B) {
	pcap, ng := wholeFrames(b)
	for _, c := range []struct {
		name string
		data []byte
	}{{"pcap", pcap}, {"pcapng", ng}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.data)))
			var pkts int64
			start := time.Now()
			for b.Loop() {
				pkts += readAll(b, c.data)
			}
			b.ReportMetric(float64(pkts)/time.Since(start).Seconds(), "pkts/s")
		})
	}
}

// TestReadAllocs: once a reader is open, reading frames allocates nothing,
// in either format.
func TestReadAllocs(t *testing.T) {
	pcap, ng := wholeFrames(t)
	for _, c := range []struct {
		name string
		data []byte
	}{{"pcap", pcap}, {"pcapng", ng}} {
		src, err := openSource(bytes.NewReader(c.data))
		if err != nil {
			t.Fatal(err)
		}
		var rec record
		n := testing.AllocsPerRun(20, func() {
			for range 1000 {
				if err := src.next(&rec); err != nil {
					t.Fatal(err)
				}
			}
		})
		if n != 0 {
			t.Errorf("%s: %.1f allocations per 1000 frames, want 0", c.name, n)
		}
	}
}
