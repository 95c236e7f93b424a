package capture

import (
	"bytes"
	"github.com/mtukit/mtukit/mss"
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// scenario writes a TCP conversation between a client and a server as a
// pcap, packet by packet, with gopacket's serializer: the crafted traces
// the detector tests feed to Analyze. Sequence numbers are tracked per side
// so a test reads like the conversation it builds.
type scenario struct {
	t      *testing.T
	buf    bytes.Buffer
	w      *pcapgo.Writer
	now    time.Time
	v6     bool
	side   [2]sideState // 0 client, 1 server
	router net.IP
	num    int64
	link   layers.LinkType
	nosack bool
}

type sideState struct {
	ip   net.IP
	port uint16
	seq  uint32 // next sequence number to send
	ack  uint32 // next sequence number expected from the other side
	win  uint16
	df   bool
}

const (
	client = 0
	server = 1
)

func newScenario(t *testing.T, v6 bool) *scenario {
	t.Helper()
	s := &scenario{t: t, v6: v6, now: time.Unix(1700000000, 0), link: layers.LinkTypeEthernet}
	w := pcapgo.NewWriterNanos(&s.buf)
	if err := w.WriteFileHeader(262144, s.link); err != nil {
		t.Fatal(err)
	}
	s.w = w
	if v6 {
		s.side[client] = sideState{ip: net.ParseIP("2001:db8:1::10"), port: 43210, seq: 1000, win: 65535, df: true}
		s.side[server] = sideState{ip: net.ParseIP("2001:db8:2::20"), port: 8080, seq: 5000000, win: 65535, df: true}
		s.router = net.ParseIP("2001:db8:9::1")
	} else {
		s.side[client] = sideState{ip: net.IPv4(10, 0, 1, 10).To4(), port: 43210, seq: 1000, win: 65535, df: true}
		s.side[server] = sideState{ip: net.IPv4(10, 0, 2, 20).To4(), port: 8080, seq: 5000000, win: 65535, df: true}
		s.router = net.IPv4(10, 0, 9, 1).To4()
	}
	return s
}

// wait advances the clock.
func (s *scenario) wait(d time.Duration) { s.now = s.now.Add(d) }

// ipLayer returns the network layer for a packet from a to b.
func (s *scenario) ipLayer(src, dst net.IP, proto layers.IPProtocol, df bool) gopacket.SerializableLayer {
	if s.v6 {
		return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src, DstIP: dst}
	}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: src, DstIP: dst, Id: uint16(s.num)}
	if df {
		ip.Flags = layers.IPv4DontFragment
	}
	return ip
}

func (s *scenario) eth() *layers.Ethernet {
	et := layers.EthernetTypeIPv4
	if s.v6 {
		et = layers.EthernetTypeIPv6
	}
	return &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: et}
}

// write serializes layers into the capture and returns the frame number.
func (s *scenario) write(ls ...gopacket.SerializableLayer) int64 {
	s.t.Helper()
	buf := gopacket.NewSerializeBuffer()
	for _, l := range ls {
		if tcp, ok := l.(*layers.TCP); ok {
			for _, x := range ls {
				if nl, ok := x.(gopacket.NetworkLayer); ok {
					tcp.SetNetworkLayerForChecksum(nl)
				}
			}
		}
	}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		s.t.Fatal(err)
	}
	b := buf.Bytes()
	if err := s.w.WritePacket(gopacket.CaptureInfo{Timestamp: s.now, CaptureLength: len(b), Length: len(b)}, b); err != nil {
		s.t.Fatal(err)
	}
	s.num++
	return s.num
}

// segment sends a TCP segment from side `from` with explicit sequence
// number and payload length; it does not move the side's counters.
func (s *scenario) segment(from int, flags uint8, seq uint32, n int, opts []layers.TCPOption) int64 {
	a, b := &s.side[from], &s.side[1-from]
	tcp := &layers.TCP{SrcPort: layers.TCPPort(a.port), DstPort: layers.TCPPort(b.port), Seq: seq, Ack: a.ack, Window: a.win, Options: opts,
		FIN: flags&mss.FlagFIN != 0, SYN: flags&mss.FlagSYN != 0, RST: flags&mss.FlagRST != 0, PSH: flags&mss.FlagPSH != 0, ACK: flags&mss.FlagACK != 0}
	return s.write(s.eth(), s.ipLayer(a.ip, b.ip, layers.IPProtocolTCP, a.df), tcp, gopacket.Payload(make([]byte, n)))
}

func mssOpt(v uint16) layers.TCPOption {
	return layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{byte(v >> 8), byte(v)}}
}

func sackPermOpt() layers.TCPOption {
	return layers.TCPOption{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2}
}

func sackOpt(blocks ...uint32) []layers.TCPOption {
	d := make([]byte, 0, 4*len(blocks))
	for _, b := range blocks {
		d = append(d, byte(b>>24), byte(b>>16), byte(b>>8), byte(b))
	}
	return []layers.TCPOption{
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindSACK, OptionLength: uint8(2 + len(d)), OptionData: d},
	}
}

// handshake opens the connection with the given MSS options (0: none).
func (s *scenario) handshake(clientMSS, serverMSS uint16) {
	c, sv := &s.side[client], &s.side[server]
	var co, so []layers.TCPOption
	if clientMSS > 0 {
		co = append(co, mssOpt(clientMSS))
	}
	if serverMSS > 0 {
		so = append(so, mssOpt(serverMSS))
	}
	if !s.nosack {
		co = append(co, sackPermOpt())
		so = append(so, sackPermOpt())
	}
	s.segment(client, mss.FlagSYN, c.seq, 0, co)
	c.seq++
	sv.ack = c.seq
	s.wait(10 * time.Millisecond)
	s.segment(server, mss.FlagSYN|mss.FlagACK, sv.seq, 0, so)
	sv.seq++
	c.ack = sv.seq
	s.wait(10 * time.Millisecond)
	s.segment(client, mss.FlagACK, c.seq, 0, nil)
}

// send sends n new bytes from side from and returns (frame, seq).
func (s *scenario) send(from, n int) (int64, uint32) {
	a := &s.side[from]
	seq := a.seq
	num := s.segment(from, mss.FlagACK|mss.FlagPSH, seq, n, nil)
	a.seq += uint32(n)
	return num, seq
}

// resend retransmits n bytes from seq.
func (s *scenario) resend(from int, seq uint32, n int) int64 {
	return s.segment(from, mss.FlagACK|mss.FlagPSH, seq, n, nil)
}

// ackTo makes side from acknowledge the other side's data up to seq.
func (s *scenario) ackTo(from int, seq uint32, opts ...layers.TCPOption) int64 {
	s.side[from].ack = seq
	return s.segment(from, mss.FlagACK, s.side[from].seq, 0, opts)
}

// ackAll acknowledges everything the other side sent.
func (s *scenario) ackAll(from int) int64 {
	return s.ackTo(from, s.side[1-from].seq)
}

// ptb makes the router send an ICMP fragmentation-needed / packet-too-big
// with MTU mtu to side `to`, quoting a packet of quotedLen bytes that `to`
// sent with sequence number seq.
func (s *scenario) ptb(to int, mtu int, seq uint32, quotedLen int) int64 {
	a, b := &s.side[to], &s.side[1-to]
	// the quoted packet: the IP header with its full length, then 8 bytes
	// of TCP header (RFC 792: at least 64 bits of the original data)
	q := gopacket.NewSerializeBuffer()
	tcp := &layers.TCP{SrcPort: layers.TCPPort(a.port), DstPort: layers.TCPPort(b.port), Seq: seq, Ack: a.ack, ACK: true, Window: a.win}
	ipl := s.ipLayer(a.ip, b.ip, layers.IPProtocolTCP, a.df)
	if nl, ok := ipl.(gopacket.NetworkLayer); ok {
		tcp.SetNetworkLayerForChecksum(nl)
	}
	hdr := 20
	if s.v6 {
		hdr = 40
	}
	if err := gopacket.SerializeLayers(q, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ipl, tcp, gopacket.Payload(make([]byte, quotedLen-hdr-20))); err != nil {
		s.t.Fatal(err)
	}
	quote := q.Bytes()[:hdr+8]
	if s.v6 {
		icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypePacketTooBig, 0)}
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: s.router, DstIP: a.ip}
		icmp.SetNetworkLayerForChecksum(ip6)
		body := append([]byte{byte(mtu >> 24), byte(mtu >> 16), byte(mtu >> 8), byte(mtu)}, quote...)
		return s.write(s.eth(), ip6, icmp, gopacket.Payload(body))
	}
	icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4CodeFragmentationNeeded), Seq: uint16(mtu)}
	return s.write(s.eth(), s.ipLayer(s.router, a.ip, layers.IPProtocolICMPv4, false), icmp, gopacket.Payload(quote))
}

// report analyzes the scenario's capture.
func (s *scenario) report() *Report {
	s.t.Helper()
	r, err := Analyze(bytes.NewReader(s.buf.Bytes()), Options{Name: "scenario"})
	if err != nil {
		s.t.Fatalf("analyze: %v", err)
	}
	return r
}

// codes lists the finding codes of a report.
func codes(r *Report) []string {
	var cs []string
	for _, f := range r.Findings {
		cs = append(cs, f.Code)
	}
	return cs
}

// find returns the first finding with code.
func find(r *Report, code string) *Finding {
	for i := range r.Findings {
		if r.Findings[i].Code == code {
			return &r.Findings[i]
		}
	}
	return nil
}
