package capture

import (
	"bytes"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/mtukit/mtukit/internal/tracegen"
)

var (
	benchOnce  sync.Once
	benchTrace []byte
	benchStats tracegen.Stats
)

// benchCapture is a synthetic capture (internal/tracegen, seed 1) of
// 400k packets cut at 128 bytes, as a busy tcpdump -s 128 would write.
// MTUKIT_BENCH_PCAP names a file to use instead (scripts/bench-analyze.sh).
func benchCapture(b *testing.B) []byte {
	benchOnce.Do(func() {
		if p := os.Getenv("MTUKIT_BENCH_PCAP"); p != "" {
			var err error
			if benchTrace, err = os.ReadFile(p); err != nil {
				b.Fatal(err)
			}
			return
		}
		var buf bytes.Buffer
		st, err := tracegen.Generate(&buf, tracegen.Config{Packets: 400_000, Snap: 128, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		benchTrace, benchStats = buf.Bytes(), st
	})
	return benchTrace
}

// BenchmarkAnalyze is the whole analysis of a capture held in memory: read,
// decode, flow tracking, findings, report. pkts/s is per core (one
// goroutine).
func BenchmarkAnalyze(b *testing.B) {
	data := benchCapture(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var pkts int64
	start := time.Now()
	for b.Loop() {
		r, err := Analyze(bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		pkts += r.Packets
	}
	b.ReportMetric(float64(pkts)/time.Since(start).Seconds(), "pkts/s")
}

// BenchmarkDecode is the decoder alone on a full-size Ethernet/IPv4/TCP
// frame.
func BenchmarkDecode(b *testing.B) {
	frame := serialize(b, eth(layers.EthernetTypeIPv4), ip4(v4a, v4b, layers.IPProtocolTCP), &layers.TCP{SrcPort: 1, DstPort: 2, ACK: true}, payload(1448))
	var d Decoder
	var p Packet
	b.ReportAllocs()
	for b.Loop() {
		p.WireLen = len(frame)
		if err := d.Decode(layers.LinkTypeEthernet, frame, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAnalyzeSteadyStateAllocs: packets of flows already in the table
// allocate nothing (the table, queues and rare state are warm).
func TestAnalyzeSteadyStateAllocs(t *testing.T) {
	s := newScenario(t, false)
	s.handshake(1460, 1460)
	// a warm-up round of data and ACKs, then the measured frames
	for range 4 {
		s.send(server, 1448)
		s.send(server, 1448)
		s.ackAll(client)
	}
	var frames [][]byte
	for range 3 {
		s.send(server, 1448)
		frames = append(frames, lastFrame(t, s))
		s.send(server, 1448)
		frames = append(frames, lastFrame(t, s))
		s.ackAll(client)
		frames = append(frames, lastFrame(t, s))
	}
	a := NewAnalyzer(Options{})
	if err := a.ReadAll(bytes.NewReader(s.buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	// replay the last frames with growing sequence numbers is not needed:
	// the analyzer treats them as retransmitted data and ACKs, the same
	// per-packet path
	num := a.packets
	n := testing.AllocsPerRun(200, func() {
		for _, f := range frames {
			num++
			a.FeedPacket(layers.LinkTypeEthernet, f, num, num*1000, len(f), 0)
		}
	})
	if n != 0 {
		t.Errorf("%.1f allocations per round of %d packets, want 0", n, len(frames))
	}
}

// TestTracegenFindings: the analyzer finds in a generated capture what the
// generator put there: every PTB, and every black hole whose segment was
// sent all five times (ones cut short by the end of the capture may show
// fewer transmissions than the test needs).
func TestTracegenFindings(t *testing.T) {
	var buf bytes.Buffer
	st, err := tracegen.Generate(&buf, tracegen.Config{Packets: 500_000, Flows: 100, Snap: 128, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Analyze(&buf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int64{}
	for _, f := range r.Findings {
		n[f.Code]++
	}
	if st.BlackholesDone == 0 || st.PTBs == 0 {
		t.Fatalf("the generator made %d finished black holes and %d PTBs: pick another seed", st.BlackholesDone, st.PTBs)
	}
	if n[CodeBlackhole] < st.BlackholesDone || n[CodeBlackhole] > st.Blackholes {
		t.Errorf("%d blackhole findings, want %d..%d", n[CodeBlackhole], st.BlackholesDone, st.Blackholes)
	}
	if n[CodePTB] != st.PTBs {
		t.Errorf("%d ptb findings, want %d", n[CodePTB], st.PTBs)
	}
	if n[CodePTBIgnored]+n[CodePTBSuspicious]+n[CodeOversizeSegment]+n[CodeMalformedPacket]+n[CodeBadTCPOption] > 0 {
		t.Errorf("findings the generator did not make: %v", n)
	}
}
