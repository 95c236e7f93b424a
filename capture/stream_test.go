package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// streamFile reads a testdata/stream capture (gzip).
func streamFile(t *testing.T, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "stream", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replay feeds a capture to s as a live reader would: packets at their
// capture times (read by pcapgo, not by mtukit's reader), and a Tick every
// step of capture time between them, and for tail after the last one.
// It returns the time of the last packet.
func replay(t *testing.T, s *Stream, data []byte, step, tail time.Duration) int64 {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var clock int64
	for {
		b, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ts := ci.Timestamp.UnixNano()
		for clock != 0 && clock+int64(step) < ts {
			clock += int64(step)
			s.Tick(clock)
		}
		clock = ts
		s.Packet(r.LinkType(), b, ts, ci.Length, 0)
	}
	last := clock
	for end := clock + int64(tail); clock < end; {
		clock += int64(step)
		s.Tick(clock)
	}
	return last
}

// TestStreamBlackholeEarly: the lab's black-hole download (kernel-made:
// the server's 1448-byte segment resent at +0.21, +0.62, +1.45, +3.12 s,
// the client giving up at 3.5 s). Replayed live, the black hole is told
// once, Quiet after the third transmission, long before the client gives
// up; the end report is Analyze's, byte for byte.
func TestStreamBlackholeEarly(t *testing.T) {
	for _, name := range []string{"lab-blackhole-ipv4.pcap.gz", "lab-blackhole-ipv6.pcap.gz"} {
		t.Run(name, func(t *testing.T) {
			data := streamFile(t, name)
			batch, err := Analyze(bytes.NewReader(data), Options{Name: "x"})
			if err != nil {
				t.Fatal(err)
			}
			want := find(batch, CodeBlackhole)
			if want == nil {
				t.Fatalf("batch analysis finds no black hole:\n%s", text(batch))
			}
			var evs []Event
			s := NewStream(StreamOptions{Options: Options{Name: "x"}}, func(e Event) { evs = append(evs, e) })
			s.SetFormat("pcap")
			replay(t, s, data, 10*time.Millisecond, 0)
			if len(evs) != 1 || evs[0].Finding.Code != CodeBlackhole {
				t.Fatalf("events %+v, want one blackhole", evs)
			}
			// the packets' own times: the first transmission, the third,
			// and the client's FIN when it gave up
			times := packetTimes(t, data)
			first, third := times[want.Packets[0]], times[want.Packets[2]]
			fin := times[int64(len(times))-1] // the FIN is the next-to-last packet, its ack the last
			got := evs[0].Time
			if got < third+int64(200*time.Millisecond) || got > third+int64(250*time.Millisecond) {
				t.Errorf("told at +%v, want 200-250 ms after the third transmission (+%v)", time.Duration(got-first), time.Duration(third-first))
			}
			if got >= fin {
				t.Errorf("told at +%v, after the client gave up (+%v)", time.Duration(got-first), time.Duration(fin-first))
			}
			// the early finding is the report's, but for the count and
			// evidence of resends that came later
			e := evs[0].Finding
			if e.Flow != want.Flow || e.Fix != want.Fix || e.Detail != want.Detail || e.Count != 3 || !strings.Contains(e.Title, "sent 3 times") {
				t.Errorf("early finding %+v\nwant as %+v with 3 transmissions", e, *want)
			}
			rep := s.Report()
			if a, b := mustJSON(t, rep), mustJSON(t, batch); a != b {
				t.Errorf("stream report differs from Analyze's:\n%s\n%s", a, b)
			}

			// without ticks (a file read from a pipe), the silence is seen
			// when the next packet comes: the fourth transmission; the
			// evidence told is the state before it
			evs = nil
			s = NewStream(StreamOptions{}, func(e Event) { evs = append(evs, e) })
			replay(t, s, data, time.Hour, 0)
			if len(evs) != 1 || evs[0].Time != times[want.Packets[3]] || evs[0].Finding.Count != 3 {
				t.Errorf("events %+v: want one, at the fourth transmission (+%v), of 3 transmissions", evs, time.Duration(times[want.Packets[3]]-first))
			}
		})
	}
}

// TestStreamFlowEnd: a download whose server honours a PTB ends with FINs:
// its ptb finding is handed out Closed after both sides closed, the
// report is Analyze's, and a replay without a tail hands out nothing
// (the flow has not ended: the report has it).
func TestStreamFlowEnd(t *testing.T) {
	data := streamFile(t, "lab-ptb-ipv4.pcap.gz")
	batch, err := Analyze(bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		tail   time.Duration
		events int
	}{{"ended", 6 * time.Second, 1}, {"still open", 0, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			var evs []Event
			s := NewStream(StreamOptions{}, func(e Event) { evs = append(evs, e) })
			s.SetFormat("pcap")
			last := replay(t, s, data, 50*time.Millisecond, tc.tail)
			if len(evs) != tc.events {
				t.Fatalf("%d events %+v, want %d", len(evs), evs, tc.events)
			}
			if tc.events == 1 {
				if evs[0].Finding.Code != CodePTB || evs[0].Time < last+int64(5*time.Second) {
					t.Errorf("event %+v at +%v after the last packet: want the ptb finding 5 s after the close", evs[0].Finding, time.Duration(evs[0].Time-last))
				}
				if s.Flows() != 0 {
					t.Errorf("%d flows still tracked after the close", s.Flows())
				}
			}
			if a, b := mustJSON(t, s.Report()), mustJSON(t, batch); a != b {
				t.Errorf("stream report differs from Analyze's:\n%s\n%s", a, b)
			}
		})
	}
}

// TestStreamKeepsLimit: findings handed out beyond MaxFindings per code
// are counted in the report's omitted, as Analyze counts them.
func TestStreamKeepsLimit(t *testing.T) {
	data := streamFile(t, "lab-blackhole-ipv4.pcap.gz")
	s := NewStream(StreamOptions{Options: Options{MaxFindings: 1}}, func(Event) {})
	s.keep(Finding{Code: CodePTB})
	s.keep(Finding{Code: CodePTB})
	s.keep(Finding{Code: CodePTB})
	replay(t, s, data, 10*time.Millisecond, 0)
	r := s.Report()
	if n := len(r.Findings); n != 2 || r.Omitted[CodePTB] != 2 {
		t.Errorf("findings %d omitted %v: want the first ptb and the black hole, 2 ptb omitted", n, r.Omitted)
	}
}

// TestStreamReadCapture: a capture read from a stream ends where stop says.
func TestStreamReadCapture(t *testing.T) {
	data := streamFile(t, "lab-blackhole-ipv4.pcap.gz")
	s := NewStream(StreamOptions{}, func(Event) {})
	n := 0
	if err := s.ReadCapture(bytes.NewReader(data), func() bool { n++; return n > 5 }); err != nil {
		t.Fatal(err)
	}
	if s.Packets() != 5 {
		t.Errorf("%d packets read, want 5", s.Packets())
	}
	if err := NewStream(StreamOptions{}, func(Event) {}).ReadCapture(strings.NewReader("junk"), nil); err == nil || !strings.Contains(err.Error(), "not a pcap") {
		t.Errorf("junk: %v", err)
	}
}

func TestEventEncoding(t *testing.T) {
	e := Event{Time: time.Date(2026, 12, 8, 1, 2, 3, 450e6, time.UTC).UnixNano(), Finding: Finding{Code: CodeBlackhole, Severity: SeverityError, Flow: "a > b", Title: "t", Detail: "d", Packets: []int64{1, 2}, Count: 3, Fix: "f"}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2026-12-08T01:02:03.45Z","finding":{"code":"blackhole","severity":"error","flow":"a \u003e b","title":"t","detail":"d","packets":[1,2],"count":3,"fix":"f"}}`
	if string(b) != want {
		t.Errorf("JSON %s\nwant %s", b, want)
	}
	var w strings.Builder
	if err := e.WriteText(&w); err != nil {
		t.Fatal(err)
	}
	wantText := "01:02:03.450 ERROR   blackhole  a > b\n        t\n        d\n        evidence: packets 1, 2 (3 in all)\n        fix: f\n\n"
	if w.String() != wantText {
		t.Errorf("text %q\nwant %q", w.String(), wantText)
	}
}

func packetTimes(t *testing.T, data []byte) map[int64]int64 {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	m := map[int64]int64{}
	for n := int64(1); ; n++ {
		_, ci, err := r.ReadPacketData()
		if err != nil {
			return m
		}
		m[n] = ci.Timestamp.UnixNano()
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStreamMatchesAnalyze: over every real capture, a Stream that never
// ends a flow early (Idle and Closed beyond the capture) gives Analyze's
// report byte for byte, errors included: the stream adds timing, not
// another analysis. (With the defaults, a flow idle for 2 minutes is
// finished and a later packet starts a new one: zeek__pppoe-over-qinq and
// zeek__tcp_retransmit-timeout then count 2 flows; and the summary's
// evidence for the smallest MSS may name another flow with the same MSS.)
func TestStreamMatchesAnalyze(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "real", "*.pcap*"))
	if err != nil || len(files) < 50 {
		t.Fatalf("%d captures: %v", len(files), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		batch, berr := Analyze(bytes.NewReader(b), Options{})
		s := NewStream(StreamOptions{Idle: 1 << 62, Closed: 1 << 62}, func(Event) {})
		serr := s.ReadCapture(bytes.NewReader(b), nil)
		r := s.Report()
		if serr != nil {
			r.Partial, r.Error = true, serr.Error()
		}
		if fmt.Sprint(berr) != fmt.Sprint(serr) {
			t.Errorf("%s: error %v, Analyze's %v", f, serr, berr)
		}
		if a, b := mustJSON(t, r), mustJSON(t, batch); a != b {
			t.Errorf("%s: the stream's report differs from Analyze's", f)
		}
	}
}

// BenchmarkStream is BenchmarkAnalyze's capture through a Stream (clock,
// black-hole candidates, expiry each second of capture time): the cost of
// live input over a file. pkts/s is per core.
func BenchmarkStream(b *testing.B) {
	data := benchCapture(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var pkts int64
	start := time.Now()
	for b.Loop() {
		s := NewStream(StreamOptions{}, func(Event) {})
		if err := s.ReadCapture(bytes.NewReader(data), nil); err != nil {
			b.Fatal(err)
		}
		pkts += s.Report().Packets
	}
	b.ReportMetric(float64(pkts)/time.Since(start).Seconds(), "pkts/s")
}
