package capture

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/mtukit/mtukit/mss"
)

var (
	tsoOnce  sync.Once
	tsoTrace []byte
)

// tsoFrame is an Ethernet/IPv4/TCP frame with the timestamp option, cut at
// 128 bytes as tcpdump -s 128 keeps it; wire is its length on the wire.
// Above 65535 bytes its IP total length is 0 (BIG TCP).
func tsoFrame(src, dst [4]byte, sp, dp uint16, seq, ack uint32, flags byte, n int, syn bool) (frame []byte, wire int) {
	thl := 32
	if syn {
		thl = 40
	}
	ipLen := 20 + thl + n
	b := make([]byte, min(14+ipLen, 128))
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0] = 0x45
	if ipLen <= 65535 {
		binary.BigEndian.PutUint16(ip[2:], uint16(ipLen))
	} // else 0, as BIG TCP writes it
	ip[6] = 0x40 // DF
	ip[8], ip[9] = 64, 6
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	t := ip[20:]
	binary.BigEndian.PutUint16(t[0:], sp)
	binary.BigEndian.PutUint16(t[2:], dp)
	binary.BigEndian.PutUint32(t[4:], seq)
	binary.BigEndian.PutUint32(t[8:], ack)
	t[12] = byte(thl/4) << 4
	t[13] = flags
	binary.BigEndian.PutUint16(t[14:], 65535)
	o := t[20:thl]
	if syn {
		copy(o, []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7})
	} else {
		copy(o, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 1})
	}
	return b, 14 + ipLen
}

// tsoCapture is a sender-side capture with TSO on: 64 downloads whose
// server sends super-packets of 2 to 44 segments of 1448 bytes (and every
// 50th time resends the first segment of one), each acknowledged, about
// 400k packets cut at 128 bytes.
func tsoCapture(b testing.TB) []byte {
	tsoOnce.Do(func() {
		var buf bytes.Buffer
		buf.Grow(400_000 * (16 + 128))
		hdr := make([]byte, 24)
		binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
		binary.LittleEndian.PutUint16(hdr[4:], 2)
		binary.LittleEndian.PutUint16(hdr[6:], 4)
		binary.LittleEndian.PutUint32(hdr[16:], 262144)
		binary.LittleEndian.PutUint32(hdr[20:], 1)
		buf.Write(hdr)
		ts := time.Unix(1700000000, 0)
		write := func(f []byte, wire int) {
			ts = ts.Add(20 * time.Microsecond)
			var rh [16]byte
			binary.LittleEndian.PutUint32(rh[0:], uint32(ts.Unix()))
			binary.LittleEndian.PutUint32(rh[4:], uint32(ts.Nanosecond()/1000))
			binary.LittleEndian.PutUint32(rh[8:], uint32(len(f)))
			binary.LittleEndian.PutUint32(rh[12:], uint32(wire))
			buf.Write(rh[:])
			buf.Write(f)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		type conn struct {
			cli, srv     [4]byte
			cp, sp       uint16
			cseq, sseq   uint32
			lastSeq      uint32
			rounds       int
			handshakeEnd bool
		}
		const flows = 64
		cs := make([]conn, flows)
		for i := range cs {
			cs[i] = conn{cli: [4]byte{10, 1, byte(i >> 8), byte(i)}, srv: [4]byte{10, 2, 0, 1}, cp: uint16(40000 + i), sp: 443, cseq: 1000, sseq: 5000000}
		}
		for pkts := 0; pkts < 400_000; {
			c := &cs[pkts/3%flows]
			if !c.handshakeEnd {
				write(tsoFrame(c.cli, c.srv, c.cp, c.sp, c.cseq, 0, mss.FlagSYN, 0, true))
				write(tsoFrame(c.srv, c.cli, c.sp, c.cp, c.sseq, c.cseq+1, mss.FlagSYN|mss.FlagACK, 0, true))
				c.cseq++
				c.sseq++
				write(tsoFrame(c.cli, c.srv, c.cp, c.sp, c.cseq, c.sseq, mss.FlagACK, 0, false))
				c.handshakeEnd = true
				pkts += 3
				continue
			}
			c.rounds++
			if c.rounds%50 == 0 {
				write(tsoFrame(c.srv, c.cli, c.sp, c.cp, c.lastSeq, c.cseq, mss.FlagACK, 1448, false))
				pkts++
			}
			n := (2 + rng.IntN(43)) * 1448
			c.lastSeq = c.sseq
			write(tsoFrame(c.srv, c.cli, c.sp, c.cp, c.sseq, c.cseq, mss.FlagACK|mss.FlagPSH, n, false))
			c.sseq += uint32(n)
			write(tsoFrame(c.cli, c.srv, c.cp, c.sp, c.cseq, c.sseq, mss.FlagACK, 0, false))
			pkts += 2
		}
		tsoTrace = buf.Bytes()
	})
	return tsoTrace
}

// BenchmarkAnalyzeTSO is BenchmarkAnalyze on a sender-side capture with
// TSO on: every data packet is a super-packet cut into its wire segments.
func BenchmarkAnalyzeTSO(b *testing.B) {
	data := tsoCapture(b)
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

// TestTSOCapture: the benchmark's capture is what it says: offload notes
// for the server, retransmissions of 1448 bytes, nothing else.
func TestTSOCapture(t *testing.T) {
	r, err := Analyze(bytes.NewReader(tsoCapture(t)), Options{FlowTable: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if f.Code != CodeOffload && f.Code != CodeMSSClamped {
			t.Errorf("unexpected finding %s %s", f.Code, f.Title)
		}
	}
	if len(r.FlowTable) != 64 {
		t.Fatalf("%d flows, want 64", len(r.FlowTable))
	}
	for _, fl := range r.FlowTable {
		for _, d := range fl.Directions {
			if d.From[:4] != "10.2" {
				continue
			}
			if d.MaxSegment != 1448 || d.MaxPacket != 1500 || d.Retrans == 0 || d.RetransSizes[0].Size != 1448 {
				t.Fatalf("server direction %+v: want 1448-byte segments, 1500-byte packets, 1448-byte resends", d)
			}
		}
	}
}

// TestAnalyzeTSOAllocs: super-packets of flows already in the table
// allocate nothing either: the split is arithmetic on the flow's state.
func TestAnalyzeTSOAllocs(t *testing.T) {
	src, dst := [4]byte{10, 2, 0, 1}, [4]byte{10, 1, 0, 1}
	a := NewAnalyzer(Options{})
	num := int64(0)
	feed := func(f []byte, wire int) {
		num++
		a.FeedPacket(layers.LinkTypeEthernet, f, num, num*1000, wire, 0)
	}
	feed(tsoFrame(dst, src, 40000, 443, 1000, 0, mss.FlagSYN, 0, true))
	feed(tsoFrame(src, dst, 443, 40000, 5000, 1001, mss.FlagSYN|mss.FlagACK, 0, true))
	feed(tsoFrame(dst, src, 40000, 443, 1001, 5001, mss.FlagACK, 0, false))
	seq := uint32(5001)
	round := func() {
		feed(tsoFrame(src, dst, 443, 40000, seq, 1001, mss.FlagACK, 10*1448, false))
		seq += 10 * 1448
		feed(tsoFrame(dst, src, 40000, 443, 1001, seq, mss.FlagACK, 0, false))
	}
	// frames built outside the measured loop
	data, wd := tsoFrame(src, dst, 443, 40000, 0, 1001, mss.FlagACK, 10*1448, false)
	ack, wa := tsoFrame(dst, src, 40000, 443, 1001, 0, mss.FlagACK, 0, false)
	for range 4 {
		round()
	}
	n := testing.AllocsPerRun(200, func() {
		binary.BigEndian.PutUint32(data[14+20+4:], seq)
		feed(data, wd)
		seq += 10 * 1448
		binary.BigEndian.PutUint32(ack[14+20+8:], seq)
		feed(ack, wa)
	})
	if n != 0 {
		t.Errorf("%.1f allocations per super-packet and ACK, want 0", n)
	}
}
