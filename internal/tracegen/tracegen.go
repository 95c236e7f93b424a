// Package tracegen writes large synthetic pcap captures of TCP traffic for
// the capture benchmarks: thousands of concurrent flows with real TCP
// behaviour (handshakes with MSS, window scale, SACK and timestamp
// options, data segments and delayed ACKs, loss repaired by SACK and
// retransmission, FIN), over plain Ethernet, 802.1Q, IPv6, VXLAN and GRE,
// with a sprinkling of PMTUD black holes and ICMP packet-too-big. The
// output is deterministic for a seed, so anyone can rebuild the file a
// benchmark figure was measured on (see scripts/bench-analyze.sh).
package tracegen

import (
	"bufio"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Config says what to generate.
type Config struct {
	Packets int64 // stop after this many packets
	Flows   int   // concurrent flows (default 2000)
	Snap    int   // snap length; 0 keeps whole frames
	Seed    uint64
}

// Stats counts what was written.
type Stats struct {
	Packets, Bytes, Flows           int64
	Blackholes, PTBs, Retransmitted int64
	// BlackholesDone counts the black holes whose segment was sent all
	// five times (200 ms back-off, doubling) before the capture ended.
	BlackholesDone int64
}

type encap uint8

const (
	encPlain4 encap = iota
	encPlain6
	encVLAN4
	encVXLAN4
	encGRE4
)

// side is one end of a flow.
type side struct {
	ip   [16]byte
	port uint16
	seq  uint32
	mss  int
	ts   uint32
}

type flow struct {
	id        int64
	enc       encap
	v6        bool
	c, s      side
	state     int // 0 syn, 1 synack, 2 ack, 3 request, 4 data, 5 fin, 6 done
	request   int
	remaining int // response bytes still to send
	unacked   int // data segments since the last ACK
	lost      []uint32
	blackhole bool
	ptb       bool
	bhTries   int
	nextTx    time.Time // when a black-holed segment is resent
	payload   int       // segment payload in use
}

type gen struct {
	cfg   Config
	rng   *rand.Rand
	w     *pcapgo.Writer
	now   time.Time
	buf   []byte
	zero  []byte
	st    Stats
	ids   int64
	ipID  uint16
	flows []*flow
}

// Generate writes a capture to w.
func Generate(w io.Writer, cfg Config) (Stats, error) {
	if cfg.Flows <= 0 {
		cfg.Flows = 2000
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	pw := pcapgo.NewWriterNanos(bw)
	snap := uint32(262144)
	if cfg.Snap > 0 {
		snap = uint32(cfg.Snap)
	}
	if err := pw.WriteFileHeader(snap, layers.LinkTypeEthernet); err != nil {
		return Stats{}, err
	}
	g := &gen{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x6d74756b6974)), w: pw, now: time.Unix(1700000000, 0),
		buf: make([]byte, 0, 2048), zero: make([]byte, 1500)}
	for range cfg.Flows {
		g.flows = append(g.flows, g.newFlow())
	}
	for g.st.Packets < cfg.Packets {
		i := g.rng.IntN(len(g.flows))
		f := g.flows[i]
		if err := g.step(f); err != nil {
			return g.st, err
		}
		if f.state == 6 {
			g.flows[i] = g.newFlow()
		}
	}
	return g.st, bw.Flush()
}

func (g *gen) newFlow() *flow {
	g.ids++
	g.st.Flows++
	f := &flow{id: g.ids}
	switch r := g.rng.IntN(100); {
	case r < 75:
		f.enc = encPlain4
	case r < 87:
		f.enc, f.v6 = encPlain6, true
	case r < 93:
		f.enc = encVLAN4
	case r < 97:
		f.enc = encVXLAN4
	default:
		f.enc = encGRE4
	}
	id := uint32(g.ids)
	if f.v6 {
		f.c.ip = [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 12: byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
		f.s.ip = [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 15: byte(1 + id%200)}
		f.c.mss, f.s.mss = 1440, 1440
	} else {
		f.c.ip = [16]byte{10, byte(id >> 16), byte(id >> 8), byte(id)}
		f.s.ip = [16]byte{192, 0, 2, byte(1 + id%200)}
		f.c.mss, f.s.mss = 1460, 1460
		if g.rng.IntN(10) == 0 {
			f.s.mss = 1380
		}
	}
	switch f.enc {
	case encVXLAN4:
		f.c.mss, f.s.mss = 1410, 1410
	case encGRE4:
		f.c.mss, f.s.mss = 1436, 1436
	}
	f.c.port = uint16(1024 + g.rng.IntN(60000))
	f.s.port = []uint16{443, 80, 8080, 22}[g.rng.IntN(4)]
	f.c.seq, f.s.seq = g.rng.Uint32(), g.rng.Uint32()
	f.c.ts, f.s.ts = g.rng.Uint32(), g.rng.Uint32()
	f.request = 100 + g.rng.IntN(700)
	switch r := g.rng.IntN(100); {
	case r < 25:
		f.remaining = 100 + g.rng.IntN(1000)
	case r < 95:
		f.remaining = 2000 + g.rng.IntN(200000)
	default:
		f.remaining = 1_000_000 + g.rng.IntN(10_000_000)
	}
	switch r := g.rng.IntN(1000); {
	case r < 2:
		f.blackhole = true
	case r < 4:
		f.ptb = true
	}
	return f
}

// step emits the next packet (or two) of a flow.
func (g *gen) step(f *flow) error {
	g.now = g.now.Add(time.Duration(1+g.rng.IntN(20)) * time.Microsecond)
	c, s := &f.c, &f.s
	switch f.state {
	case 0:
		f.state++
		return g.tcp(f, false, FlagSYN, c.seq-1, s.seq-1, 0, true)
	case 1:
		f.state++
		return g.tcp(f, true, FlagSYN|FlagACK, s.seq-1, c.seq, 0, true)
	case 2:
		f.state++
		return g.tcp(f, false, FlagACK, c.seq, s.seq, 0, false)
	case 3:
		f.state++
		if err := g.tcp(f, false, FlagACK|FlagPSH, c.seq, s.seq, f.request, false); err != nil {
			return err
		}
		c.seq += uint32(f.request)
		f.payload = min(c.mss, s.mss) - 12
		if err := g.tcp(f, true, FlagACK, s.seq, c.seq, 0, false); err != nil {
			return err
		}
		if f.blackhole || f.ptb {
			// a small response header that any path carries
			if err := g.tcp(f, true, FlagACK|FlagPSH, s.seq, c.seq, 200, false); err != nil {
				return err
			}
			s.seq += 200
			return g.tcp(f, false, FlagACK, c.seq, s.seq, 0, false)
		}
		return nil
	case 4:
		if f.blackhole && f.payload+12 >= 1400 && f.remaining > f.payload {
			// the full-size segment vanishes: it is resent with back-off
			// (200 ms, doubling), on the flow's own clock; other flows
			// carry on meanwhile
			if g.now.Before(f.nextTx) {
				return nil
			}
			f.nextTx = g.now.Add(time.Duration(200<<f.bhTries) * time.Millisecond)
			if f.bhTries == 0 {
				g.st.Blackholes++
			}
			f.bhTries++
			g.st.Retransmitted++
			if err := g.tcp(f, true, FlagACK|FlagPSH, s.seq, c.seq, f.payload, false); err != nil {
				return err
			}
			if f.bhTries == 5 {
				g.st.BlackholesDone++
				f.state = 6
				return g.tcp(f, true, FlagRST|FlagACK, s.seq, c.seq, 0, false)
			}
			return nil
		}
		if f.ptb && f.payload+12 > 1360 {
			// the router answers the first full-size segment
			if err := g.tcp(f, true, FlagACK|FlagPSH, s.seq, c.seq, f.payload, false); err != nil {
				return err
			}
			f.payload = 1400 - 40 - 12
			if f.v6 || f.enc != encPlain4 {
				f.payload = 1400 - 60 - 12
			}
			g.st.PTBs++
			return g.icmpPTB(f, 1400)
		}
		n := min(f.payload, f.remaining)
		if len(f.lost) > 0 && g.rng.IntN(4) == 0 {
			// repair a loss
			seq := f.lost[0]
			f.lost = f.lost[1:]
			g.st.Retransmitted++
			return g.tcp(f, true, FlagACK, seq, c.seq, f.payload, false)
		}
		if g.rng.IntN(300) == 0 && n == f.payload {
			f.lost = append(f.lost, s.seq) // lost on the way: the client SACKs around it
		} else if err := g.tcp(f, true, FlagACK, s.seq, c.seq, n, false); err != nil {
			return err
		}
		s.seq += uint32(n)
		f.remaining -= n
		f.unacked++
		if f.unacked >= 2 || f.remaining == 0 {
			f.unacked = 0
			ack := s.seq
			if len(f.lost) > 0 {
				ack = f.lost[0]
			}
			if err := g.ackSACK(f, ack); err != nil {
				return err
			}
		}
		if f.remaining == 0 && len(f.lost) == 0 {
			f.state++
		}
		return nil
	case 5:
		f.state++
		if err := g.tcp(f, true, FlagFIN|FlagACK, s.seq, c.seq, 0, false); err != nil {
			return err
		}
		s.seq++
		if err := g.tcp(f, false, FlagFIN|FlagACK, c.seq, s.seq, 0, false); err != nil {
			return err
		}
		c.seq++
		return g.tcp(f, true, FlagACK, s.seq, c.seq, 0, false)
	}
	return nil
}

// TCP flags.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagPSH = 0x08
	FlagACK = 0x10
)

// ackSACK sends the client's ACK, with SACK blocks when a hole is open.
func (g *gen) ackSACK(f *flow, ack uint32) error {
	return g.tcpOpts(f, false, FlagACK, f.c.seq, ack, 0, func(b []byte) []byte {
		if len(f.lost) > 0 {
			l := f.lost[0] + uint32(f.payload)
			b = append(b, 1, 1, 5, 10)
			b = binary.BigEndian.AppendUint32(b, l)
			b = binary.BigEndian.AppendUint32(b, f.s.seq)
		}
		return b
	})
}

func (g *gen) tcp(f *flow, fromServer bool, flags uint8, seq, ack uint32, n int, syn bool) error {
	return g.tcpOpts(f, fromServer, flags, seq, ack, n, func(b []byte) []byte {
		if syn {
			a := &f.c
			if fromServer {
				a = &f.s
			}
			b = append(b, 2, 4, byte(a.mss>>8), byte(a.mss), 1, 1, 4, 2)
		}
		return b
	})
}

// tcpOpts builds and writes one TCP packet; extra adds options before the
// timestamps.
func (g *gen) tcpOpts(f *flow, fromServer bool, flags uint8, seq, ack uint32, n int, extra func([]byte) []byte) error {
	src, dst := &f.c, &f.s
	if fromServer {
		src, dst = dst, src
	}
	src.ts += 3
	// TCP header and options
	var tcp [60]byte
	binary.BigEndian.PutUint16(tcp[0:], src.port)
	binary.BigEndian.PutUint16(tcp[2:], dst.port)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	if flags&FlagACK != 0 {
		binary.BigEndian.PutUint32(tcp[8:], ack)
	}
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 502)
	opts := extra(tcp[20:20])
	opts = append(opts, 1, 1, 8, 10)
	opts = binary.BigEndian.AppendUint32(opts, src.ts)
	opts = binary.BigEndian.AppendUint32(opts, dst.ts)
	if flags&FlagSYN != 0 {
		opts = append(opts, 1, 3, 3, 7)
	}
	hl := 20 + len(opts)
	tcp[12] = byte(hl/4) << 4
	inner := g.ipPacket(f.v6, &src.ip, &dst.ip, 6, tcp[:hl], n)
	return g.frame(f, inner)
}

// ipPacket builds an IP packet around a transport header and n zero bytes.
func (g *gen) ipPacket(v6 bool, src, dst *[16]byte, proto byte, l4 []byte, n int) []byte {
	g.ipID++
	var b []byte
	if v6 {
		b = make([]byte, 40, 40+len(l4)+n)
		b[0] = 0x60
		binary.BigEndian.PutUint16(b[4:], uint16(len(l4)+n))
		b[6], b[7] = proto, 64
		copy(b[8:24], src[:])
		copy(b[24:40], dst[:])
	} else {
		b = make([]byte, 20, 20+len(l4)+n)
		b[0] = 0x45
		binary.BigEndian.PutUint16(b[2:], uint16(20+len(l4)+n))
		binary.BigEndian.PutUint16(b[4:], g.ipID)
		b[6] = 0x40 // DF
		b[8], b[9] = 64, proto
		copy(b[12:16], src[:4])
		copy(b[16:20], dst[:4])
		binary.BigEndian.PutUint16(b[10:], ipChecksum(b))
	}
	b = append(b, l4...)
	return append(b, g.zero[:n]...)
}

func ipChecksum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

var (
	macC = []byte{2, 0, 0, 0, 0, 1}
	macS = []byte{2, 0, 0, 0, 0, 2}
)

// frame wraps an IP packet in the flow's encapsulation and writes it.
func (g *gen) frame(f *flow, ip []byte) error {
	b := g.buf[:0]
	b = append(b, macS...)
	b = append(b, macC...)
	et := uint16(0x0800)
	if f.v6 {
		et = 0x86dd
	}
	switch f.enc {
	case encVLAN4:
		b = binary.BigEndian.AppendUint16(b, 0x8100)
		b = binary.BigEndian.AppendUint16(b, 100)
		b = binary.BigEndian.AppendUint16(b, et)
	case encVXLAN4:
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		var udp [16]byte
		binary.BigEndian.PutUint16(udp[0:], 49152+uint16(f.id%16000))
		binary.BigEndian.PutUint16(udp[2:], 4789)
		binary.BigEndian.PutUint16(udp[4:], uint16(8+8+14+len(ip)))
		udp[8] = 0x08 // VXLAN: VNI present
		udp[13] = 42  // VNI
		inner := append(append(append([]byte{}, macS...), macC...), byte(et>>8), byte(et))
		outer := g.ipPacket(false, &[16]byte{172, 16, 0, 1}, &[16]byte{172, 16, 0, 2}, 17, append(udp[:], inner...), 0)
		binary.BigEndian.PutUint16(outer[2:], uint16(len(outer)+len(ip)))
		outer[10], outer[11] = 0, 0
		binary.BigEndian.PutUint16(outer[10:], ipChecksum(outer[:20]))
		b = append(b, outer...)
	case encGRE4:
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		outer := g.ipPacket(false, &[16]byte{172, 16, 1, 1}, &[16]byte{172, 16, 1, 2}, 47, []byte{0, 0, 0x08, 0x00}, 0)
		binary.BigEndian.PutUint16(outer[2:], uint16(len(outer)+len(ip)))
		outer[10], outer[11] = 0, 0
		binary.BigEndian.PutUint16(outer[10:], ipChecksum(outer[:20]))
		b = append(b, outer...)
	default:
		b = binary.BigEndian.AppendUint16(b, et)
	}
	b = append(b, ip...)
	g.buf = b[:0]
	capLen := len(b)
	if g.cfg.Snap > 0 && capLen > g.cfg.Snap {
		capLen = g.cfg.Snap
	}
	g.st.Packets++
	g.st.Bytes += int64(capLen)
	return g.w.WritePacket(gopacket.CaptureInfo{Timestamp: g.now, CaptureLength: capLen, Length: len(b)}, b[:capLen])
}

// icmpPTB makes a router tell the server the path MTU is mtu, quoting the
// segment just sent.
func (g *gen) icmpPTB(f *flow, mtu int) error {
	s, c := &f.s, &f.c
	quotedLen := min(s.mss, c.mss) + 40
	router := [16]byte{192, 0, 2, 254}
	if f.v6 {
		router = [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 9, 15: 1}
		quotedLen += 20
		var q [48]byte
		q[0] = 0x60
		binary.BigEndian.PutUint16(q[4:], uint16(quotedLen-40))
		q[6], q[7] = 6, 64
		copy(q[8:24], s.ip[:])
		copy(q[24:40], c.ip[:])
		binary.BigEndian.PutUint16(q[40:], s.port)
		binary.BigEndian.PutUint16(q[42:], c.port)
		binary.BigEndian.PutUint32(q[44:], s.seq)
		icmp := append([]byte{2, 0, 0, 0, byte(mtu >> 24), byte(mtu >> 16), byte(mtu >> 8), byte(mtu)}, q[:]...)
		return g.frame(f, g.ipPacket(true, &router, &s.ip, 58, icmp, 0))
	}
	var q [28]byte
	q[0] = 0x45
	binary.BigEndian.PutUint16(q[2:], uint16(quotedLen))
	q[6], q[8], q[9] = 0x40, 64, 6
	copy(q[12:16], s.ip[:4])
	copy(q[16:20], c.ip[:4])
	binary.BigEndian.PutUint16(q[20:], s.port)
	binary.BigEndian.PutUint16(q[22:], c.port)
	binary.BigEndian.PutUint32(q[24:], s.seq)
	icmp := append([]byte{3, 4, 0, 0, 0, 0, byte(mtu >> 8), byte(mtu)}, q[:]...)
	return g.frame(f, g.ipPacket(false, &router, &s.ip, 1, icmp, 0))
}
