package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/mtukit/mtukit/mss"
)

// tsOpts are the options Linux puts on every data segment: NOP, NOP and a
// timestamp (12 bytes), so a 1500-byte link carries 1448 bytes per segment.
func tsOpts() []layers.TCPOption {
	return []layers.TCPOption{
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)},
	}
}

// sendOpts sends n new bytes from side from with TCP options.
func (s *scenario) sendOpts(from, n int, opts []layers.TCPOption) (int64, uint32) {
	a := &s.side[from]
	seq := a.seq
	num := s.segment(from, mss.FlagACK|mss.FlagPSH, seq, n, opts)
	a.seq += uint32(n)
	return num, seq
}

// row returns direction `side` of the scenario's only flow in the table.
func row(t *testing.T, r *Report, s *scenario, side int) DirSummary {
	t.Helper()
	if len(r.FlowTable) != 1 {
		t.Fatalf("%d flows, want 1\n%s", len(r.FlowTable), text(r))
	}
	for _, d := range r.FlowTable[0].Directions {
		if d.From == s.endpoint(side) {
			return d
		}
	}
	t.Fatalf("no direction from %s\n%s", s.endpoint(side), text(r))
	return DirSummary{}
}

// TestOffloadTSOSender is the reference note's first check (captures in
// the wild §5): a 7292-byte TSO super-packet (5 x 1448 bytes of data with
// timestamps, the size tcpdump's gso-ipv4.pcap and the lab show) and a
// later 1448-byte resend of its first segment are 5 wire segments and one
// retransmission of a full-size segment; nothing breaks the MSS.
func TestOffloadTSOSender(t *testing.T) {
	s := newScenario(t, false)
	download(s)
	sp, seq := s.sendOpts(server, 5*1448, tsOpts())
	s.wait(200 * time.Millisecond)
	s.segment(server, mss.FlagACK, seq, 1448, tsOpts())
	s.ackAll(client)
	r := s.report()
	if diff := cmp.Diff([]string{CodeOffload}, codes(r)); diff != "" {
		t.Fatalf("codes (-want +got):\n%s\n%s", diff, text(r))
	}
	if f := find(r, CodeOffload); !slices.Equal(f.Packets, []int64{sp}) {
		t.Errorf("offload evidence %v, want [%d]", f.Packets, sp)
	}
	d := row(t, r, s, server)
	want := DirSummary{MaxSegment: 1448, MaxPacket: 1500, MaxDelivered: 1448, Retrans: 1, RetransSizes: []sizeCount{{1448, 1}}, Offload: 1}
	got := DirSummary{MaxSegment: d.MaxSegment, MaxPacket: d.MaxPacket, MaxDelivered: d.MaxDelivered, Retrans: d.Retrans, RetransSizes: d.RetransSizes, Offload: d.Offload}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("server direction (-want +got):\n%s", diff)
	}
}

// TestOffloadSplitCounts feeds super-packets to an Analyzer and counts the
// wire segments it tracks: a 65212-byte GRO packet at a receiver (45 x 1448
// bytes, the largest the lab's veth GRO built) and a BIG TCP one.
func TestOffloadSplitCounts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		v6    bool
		data  int
		segs  int
		lastN int32
	}{
		{"GRO receiver, IPv4, 65212 bytes", false, 45 * 1448, 45, 1448},
		{"TSO tail of a write, IPv4", false, 3*1448 + 100, 4, 100},
		{"GRO receiver, IPv6", true, 20 * 1428, 20, 1428},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScenario(t, tc.v6)
			s.handshake(s.mss(), s.mss())
			s.sendOpts(server, tc.data, tsOpts())
			a := NewAnalyzer(Options{})
			if err := a.ReadAll(bytes.NewReader(s.buf.Bytes())); err != nil {
				t.Fatal(err)
			}
			var d *dir
			a.flows.each(func(f *flow) {
				for i := range f.d {
					if f.d[i].dataPkts > 0 {
						d = &f.d[i]
					}
				}
			})
			if d == nil {
				t.Fatal("no data direction")
			}
			if d.segs.n() != tc.segs {
				t.Fatalf("%d wire segments tracked, want %d", d.segs.n(), tc.segs)
			}
			last := d.segs.s[len(d.segs.s)-1]
			if last.len != tc.lastN || d.segs.front().len != min(tc.lastN, int32(tc.data)) && tc.segs == 1 {
				t.Errorf("last segment %d bytes, want %d", last.len, tc.lastN)
			}
			hdr := int32(20 + 32)
			if tc.v6 {
				hdr = 40 + 32
			}
			if f := d.segs.front(); f.ipLen != f.len+hdr {
				t.Errorf("first segment IP length %d, want %d", f.ipLen, f.len+hdr)
			}
		})
	}
}

// tsoOf returns the scenario run twice: once with every burst of
// full-size segments sent one by one (offloads off), once with each burst
// as one super-packet (TSO on the sender): the verdicts must agree.
type burstFn func(s *scenario, from, k, size int) (first int64, seq uint32)

func burstWire(s *scenario, from, k, size int) (int64, uint32) {
	var first int64
	var seq uint32
	for i := range k {
		n, q := s.sendOpts(from, size, tsOpts())
		if i == 0 {
			first, seq = n, q
		}
	}
	return first, seq
}

func burstTSO(s *scenario, from, k, size int) (int64, uint32) {
	return s.sendOpts(from, k*size, tsOpts())
}

// TestOffloadVerdicts runs each detector scenario with the sender's bursts
// on the wire and as TSO super-packets: the finding codes (less the offload
// note), flows, counts and MTUs must be the same.
func TestOffloadVerdicts(t *testing.T) {
	const full = 1448 // 1460 less 12 bytes of timestamps
	resend := func(s *scenario, seq uint32, n, times int) {
		d := 200 * time.Millisecond
		for range times {
			s.wait(d)
			s.segment(server, mss.FlagACK|mss.FlagPSH, seq, n, tsOpts())
			d *= 2
		}
	}
	for _, tc := range []struct {
		name string
		run  func(s *scenario, burst burstFn)
		want []string
	}{
		{"black hole", func(s *scenario, burst burstFn) {
			download(s)
			_, seq := burst(s, server, 5, full)
			resend(s, seq, full, 5)
		}, []string{CodeBlackhole}},
		{"black hole, recovered by shrinking", func(s *scenario, burst burstFn) {
			download(s)
			_, seq := burst(s, server, 3, full)
			resend(s, seq, full, 3)
			s.wait(time.Second)
			s.segment(server, mss.FlagACK, seq, 1000, tsOpts())
			s.wait(20 * time.Millisecond)
			s.ackTo(client, seq+1000)
		}, []string{CodeBlackhole}},
		{"PTB honoured", func(s *scenario, burst burstFn) {
			download(s)
			_, seq := burst(s, server, 5, full)
			s.ptb(server, 1400, seq, 1500)
			s.wait(5 * time.Millisecond)
			// Linux resends at the new MSS, 1400 - 52 = 1348
			s.side[server].seq = seq
			burst(s, server, 7, 1348)
			s.wait(20 * time.Millisecond)
			s.ackAll(client)
		}, []string{CodePTB}},
		{"PTB ignored", func(s *scenario, burst burstFn) {
			download(s)
			_, seq := burst(s, server, 5, full)
			s.ptb(server, 1400, seq, 1500)
			s.wait(50 * time.Millisecond)
			burst(s, server, 5, full)
			s.wait(50 * time.Millisecond)
			burst(s, server, 5, full)
		}, []string{CodePTBIgnored}},
		{"zero window, full-size probes", func(s *scenario, burst burstFn) {
			download(s)
			burst(s, server, 4, full)
			s.side[client].win = 0
			s.ackAll(client)
			_, seq := s.sendOpts(server, full, tsOpts())
			resend(s, seq, full, 4)
		}, nil},
		{"congestion loss repaired at full size", func(s *scenario, burst burstFn) {
			download(s)
			_, lost := burst(s, server, 5, full)
			resend(s, lost, full, 2)
			s.wait(20 * time.Millisecond)
			s.ackAll(client)
		}, nil},
		{"congestion loss, full-size segments SACKed past the hole", func(s *scenario, burst burstFn) {
			download(s)
			_, lost := burst(s, server, 5, full)
			s.wait(20 * time.Millisecond)
			s.ackTo(client, lost, sackOpt(lost+full, lost+5*full)...)
			resend(s, lost, full, 3)
		}, nil},
		{"receiver closed: RST", func(s *scenario, burst burstFn) {
			download(s)
			_, seq := burst(s, server, 5, full)
			resend(s, seq, full, 3)
			s.segment(client, mss.FlagRST, s.side[client].seq, 0, nil)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reps [2]*Report
			for i, burst := range []burstFn{burstWire, burstTSO} {
				s := newScenario(t, false)
				tc.run(s, burst)
				reps[i] = s.report()
			}
			for i, r := range reps {
				var got []string
				for _, c := range codes(r) {
					if c != CodeOffload {
						got = append(got, c)
					}
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("%s: codes (-want +got):\n%s\n%s", []string{"wire", "TSO"}[i], diff, text(r))
				}
			}
			if find(reps[1], CodeOffload) == nil {
				t.Errorf("TSO run without the offload note\n%s", text(reps[1]))
			}
			for _, code := range tc.want {
				w, o := find(reps[0], code), find(reps[1], code)
				if w == nil || o == nil {
					continue
				}
				if w.Flow != o.Flow || w.Count != o.Count || w.MTU != o.MTU || w.MSS != o.MSS {
					t.Errorf("%s differs: wire %s count %d MTU %d, TSO %s count %d MTU %d", code, w.Flow, w.Count, w.MTU, o.Flow, o.Count, o.MTU)
				}
			}
			if a, b := reps[0].Summary, reps[1].Summary; a.PathMTU != b.PathMTU || a.PathMTUMin != b.PathMTUMin || a.PathMTUMax != b.PathMTUMax {
				t.Errorf("path MTU: wire %d (%d..%d), TSO %d (%d..%d)", a.PathMTU, a.PathMTUMin, a.PathMTUMax, b.PathMTU, b.PathMTUMin, b.PathMTUMax)
			}
		})
	}
}

// TestOffloadTooLarge: a packet claiming more data than any segmentation
// offload makes (Linux stops at 524280 bytes, BIG TCP included) is malformed, named by its
// number, and never feeds a verdict.
func TestOffloadTooLarge(t *testing.T) {
	s := newScenario(t, true)
	download(s)
	_, seq := s.sendOpts(server, 1428, tsOpts())
	// an IPv6 jumbogram (RFC 2675) of 600000 bytes of data, resent with
	// back-off: a black hole if it were believed
	c, sv := &s.side[client], &s.side[server]
	for i := range 4 {
		s.wait(time.Duration(200<<i) * time.Millisecond)
		tcp := &layers.TCP{SrcPort: layers.TCPPort(sv.port), DstPort: layers.TCPPort(c.port), Seq: seq, Ack: sv.ack, ACK: true, Window: sv.win}
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6HopByHop, SrcIP: sv.ip, DstIP: c.ip}
		tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, tcp); err != nil {
			t.Fatal(err)
		}
		seg := append(buf.Bytes(), make([]byte, 600000)...)
		hbh := []byte{6, 0, 0xc2, 4, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(hbh[4:], uint32(8+len(seg)))
		hdr := make([]byte, 40)
		hdr[0], hdr[6], hdr[7] = 0x60, 0, 64
		copy(hdr[8:], sv.ip.To16())
		copy(hdr[24:], c.ip.To16())
		frame := append(append(append(ethHdr(0x86dd), hdr...), hbh...), seg...)
		// captured as tcpdump's immediate mode keeps a BIG TCP frame: cut
		// at 65562 bytes, with its original length
		writeRaw(t, s, frame[:65562], len(frame))
	}
	r := s.report()
	if find(r, CodeBlackhole) != nil {
		t.Fatalf("a black hole from packets that cannot exist\n%s", text(r))
	}
	if r.Malformed != 4 || r.Error != "" {
		t.Fatalf("malformed %d, want 4\n%s", r.Malformed, text(r))
	}
	f := find(r, CodeMalformedPacket)
	if f == nil || !strings.Contains(f.Detail, "packet "+itoa(int(s.num-3))+": tcp: 600000 bytes of data in one packet") {
		t.Errorf("malformed finding %+v: want packet %d named", f, s.num-3)
	}
}

// writeRaw appends a frame as it is to the scenario's capture, with its
// length on the wire.
func writeRaw(t *testing.T, s *scenario, frame []byte, wireLen int) {
	t.Helper()
	if err := s.w.WritePacket(gopacket.CaptureInfo{Timestamp: s.now, CaptureLength: len(frame), Length: wireLen}, frame); err != nil {
		t.Fatal(err)
	}
	s.num++
}

// TestOffloadSizeInForce: the segment size of super-packets follows the
// sender: lowered by a PTB (and old data resent after it is re-cut at the
// new size, as Linux's tcp_retransmit_skb does), or, where the PTB is not
// in the capture (a receiver), learnt from two super-packets of new data
// that divide by the new size.
func TestOffloadSizeInForce(t *testing.T) {
	t.Run("sender: PTB, then the old super-packet resent", func(t *testing.T) {
		s := newScenario(t, false)
		download(s)
		_, seq := s.sendOpts(server, 5*1448, tsOpts())
		s.ptb(server, 1400, seq, 1500)
		s.wait(5 * time.Millisecond)
		s.segment(server, mss.FlagACK, seq, 5*1448, tsOpts()) // 5 x 1348 + 500 on the wire
		s.wait(5 * time.Millisecond)
		s.ackAll(client)
		r := s.report()
		d := row(t, r, s, server)
		if want := []sizeCount{{1348, 5}, {500, 1}}; !slices.Equal(d.RetransSizes, want) || d.Retrans != 6 {
			t.Errorf("retransmissions %d %v, want 6 %v\n%s", d.Retrans, d.RetransSizes, want, text(r))
		}
		if f := find(r, CodePTB); f == nil || !strings.Contains(f.Detail, "shrank") {
			t.Errorf("want the PTB honoured\n%s", text(r))
		}
	})
	t.Run("receiver: the new size learnt from the lengths", func(t *testing.T) {
		s := newScenario(t, false)
		download(s)
		s.sendOpts(server, 5*1448, tsOpts())
		s.sendOpts(server, 8*1348, tsOpts())  // 10784: 1348 suggested
		s.sendOpts(server, 11*1348, tsOpts()) // 14828: confirmed
		_, seq := s.sendOpts(server, 3*1348, tsOpts())
		s.wait(300 * time.Millisecond)
		s.segment(server, mss.FlagACK, seq, 3*1348, tsOpts()) // resent: re-cut at 1348
		s.ackAll(client)
		r := s.report()
		d := row(t, r, s, server)
		if want := []sizeCount{{1348, 3}}; !slices.Equal(d.RetransSizes, want) {
			t.Errorf("retransmissions %v, want %v\n%s", d.RetransSizes, want, text(r))
		}
	})
}

func TestLargestDivisor(t *testing.T) {
	for _, tc := range []struct{ n, lo, hi, want int }{
		{10784, 1086, 1448, 1348},
		{7240, 1086, 1448, 1448},
		{16532, 1086, 1448, 0}, // 4 x 4133: a tail
		{1448, 1086, 1448, 0},  // one piece is no evidence
		{7104, 1068, 1424, 1184},
		{0, 0, 10, 0},
		{65534 * 2, 1, 65534, 65534}, // found at the top of the range
		{3 * 2 * 1000, 1, 65534, 0},  // 1000 is more than 4096 below the top: not tried
	} {
		if got := largestDivisor(tc.n, tc.lo, tc.hi); got != tc.want {
			t.Errorf("largestDivisor(%d, %d, %d) = %d, want %d", tc.n, tc.lo, tc.hi, got, tc.want)
		}
	}
}

// portRE finds the port of an endpoint: ports differ from run to run.
var portRE = regexp.MustCompile(`:\d+( |$)`)

// verdicts is what must not depend on offloads: each finding's code and
// flow (ports masked), less the offload note, sorted.
func verdicts(r *Report) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Code == CodeOffload {
			continue
		}
		out = append(out, f.Code+" "+portRE.ReplaceAllString(f.Flow, ":port$1"))
	}
	slices.Sort(out)
	return out
}

// offloadMatrixWant is what the lab's offload matrix (TestLabOffloadMatrix)
// must find in each scenario at the sender and at the receiver, offloads on
// or off; testdata/offload keeps one run of every capture (cut at 128
// bytes), which TestOffloadLabCaptures checks without root.
var offloadMatrixWant = map[string]struct{ sender, receiver []string }{
	"blackhole/ipv4": {[]string{"blackhole 10.0.2.2:port > 10.0.1.1:port"}, nil},
	"blackhole/ipv6": {[]string{"blackhole [fd00:2::2]:port > [fd00:1::1]:port"}, nil},
	"ptb/ipv4":       {[]string{"ptb 10.0.2.2:port > 10.0.1.1:port"}, nil},
	"ptb/ipv6":       {[]string{"ptb [fd00:2::2]:port > [fd00:1::1]:port"}, nil},
	"clamped":        {[]string{"mss_clamped 10.0.1.1:port > 10.0.2.2:port"}, []string{"mss_clamped 10.0.2.2:port > 10.0.1.1:port"}},
	"fragmenting": {
		[]string{"fragmentation 10.0.1.1 > 10.0.2.2", "fragmentation 10.0.2.2 > 10.0.1.1"},
		[]string{"fragmentation 10.0.1.1 > 10.0.2.2", "fragmentation 10.0.2.2 > 10.0.1.1"},
	},
	"not/zero-window":     {nil, nil},
	"not/congestion-loss": {nil, nil},
	"not/closed-receiver": {nil, nil},
}

// TestOffloadLabCaptures replays the lab matrix's captures (testdata/offload,
// taken by TestLabOffloadMatrix -labout and cut at 128 bytes with editcap):
// each scenario's verdicts at the sender and at the receiver, offloads on
// and off, are what offloadMatrixWant says, and the offloads-on sender
// captures hold super-packets.
func TestOffloadLabCaptures(t *testing.T) {
	for scenario, want := range offloadMatrixWant {
		t.Run(scenario, func(t *testing.T) {
			base := "lab-offload-" + strings.ReplaceAll(scenario, "/", "-")
			for _, end := range []struct {
				name string
				want []string
			}{{"sender", want.sender}, {"receiver", want.receiver}} {
				for _, state := range []string{"off", "on"} {
					r := readOffloadCapture(t, base+"-"+state+"-"+end.name)
					if got := verdicts(r); !slices.Equal(got, end.want) {
						t.Errorf("%s, offloads %s: %q, want %q\n%s", end.name, state, got, end.want, text(r))
					}
					if state == "on" && end.name == "sender" && scenario != "fragmenting" && find(r, CodeOffload) == nil {
						t.Errorf("offloads-on sender capture without super-packets\n%s", text(r))
					}
				}
			}
		})
	}
}

// TestOffloadClampedSender: a middlebox lowered the server's SYN to MSS
// 1360 but not the client's (1460): the server, on a 1500-byte link, sends
// 1448-byte segments. At a GRO receiver its super-packets are multiples of
// 1448, not of the 1348 its SYN implies, and the clamp shows as it does with
// the segments on the wire.
func TestOffloadClampedSender(t *testing.T) {
	var reps [2]*Report
	for i, burst := range []burstFn{burstWire, burstTSO} {
		s := newScenario(t, false)
		s.handshake(1460, 1360)
		burst(s, server, 4, 1448)
		burst(s, server, 6, 1448)
		s.ackAll(client)
		reps[i] = s.report()
		d := row(t, reps[i], s, server)
		if d.MaxSegment != 1448 || d.MaxPacket != 1500 {
			t.Errorf("%s: max segment %d packet %d, want 1448 1500", []string{"wire", "GRO"}[i], d.MaxSegment, d.MaxPacket)
		}
	}
	if a, b := verdicts(reps[0]), verdicts(reps[1]); !slices.Equal(a, b) || len(a) == 0 || !strings.HasPrefix(a[0], CodeMSSClamped) {
		t.Errorf("wire %q, GRO %q: want the same mss_clamped", a, b)
	}
}

// readOffloadCapture analyzes testdata/offload/name.pcap.gz.
func readOffloadCapture(t *testing.T, name string) *Report {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "offload", name+".pcap.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Analyze(bytes.NewReader(b), Options{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestOffloadGROCapture replays TestLabOffloadGRO's captures: a receiver
// with GRO on (a few dozen data packets captured for some 730 on the
// wire) sees the
// server's 1448-byte segments and their delivery as with GRO off.
func TestOffloadGROCapture(t *testing.T) {
	for _, name := range []string{"lab-gro-off", "lab-gro-on"} {
		r := readOffloadCapture(t, name)
		if v := verdicts(r); len(v) != 0 {
			t.Errorf("%s: findings %q, want none", name, v)
		}
		for _, d := range r.FlowTable[0].Directions {
			if strings.HasPrefix(d.From, "10.0.2.2:") && (d.MaxSegment != 1448 || d.MaxPacket != 1500 || d.MaxDelivered != 1448) {
				t.Errorf("%s: server's max segment %d packet %d delivered %d, want 1448 1500 1448", name, d.MaxSegment, d.MaxPacket, d.MaxDelivered)
			}
		}
	}
	if find(readOffloadCapture(t, "lab-gro-on"), CodeOffload) == nil {
		t.Error("lab-gro-on holds no merged packet")
	}
}

// TestOffloadBigTCPv4: an IPv4 BIG TCP packet as the reference lab captured
// it (captures in the wild §1.3): IP total length 0, a 183962-byte frame
// that tcpdump's immediate mode cut short, 183896 bytes of data: 127 wire
// segments of 1448, from the record's original length, not its captured one.
func TestOffloadBigTCPv4(t *testing.T) {
	src, dst := [4]byte{10, 2, 0, 1}, [4]byte{10, 1, 0, 1}
	a := NewAnalyzer(Options{})
	num := int64(0)
	feed := func(f []byte, wire int) {
		num++
		a.FeedPacket(layers.LinkTypeEthernet, f, num, num*1000, wire, 0)
	}
	feed(tsoFrame(dst, src, 40000, 443, 1000, 0, mss.FlagSYN, 0, true))
	feed(tsoFrame(src, dst, 443, 40000, 5000, 1001, mss.FlagSYN|mss.FlagACK, 0, true))
	fr, wire := tsoFrame(src, dst, 443, 40000, 5001, 1001, mss.FlagACK, 127*1448, false)
	if wire != 183962 || binary.BigEndian.Uint16(fr[16:18]) != 0 {
		t.Fatalf("frame of %d bytes with IP length %d, want 183962 and 0", wire, binary.BigEndian.Uint16(fr[16:18]))
	}
	feed(fr, wire)
	var d *dir
	a.flows.each(func(f *flow) {
		for i := range f.d {
			if f.d[i].dataPkts > 0 {
				d = &f.d[i]
			}
		}
	})
	if d == nil || d.segs.n() != 127 || d.segs.front().len != 1448 || d.segs.s[len(d.segs.s)-1].len != 1448 || d.maxIPLen != 1500 {
		t.Fatalf("want 127 segments of 1448 bytes (1500-byte packets), got %+v", d)
	}
	if r := a.Report(); r.Malformed != 0 || find(r, CodeOffload) == nil {
		t.Errorf("want one offload note, nothing malformed\n%s", text(r))
	}
}
