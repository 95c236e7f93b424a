package capture

import (
	"github.com/mtukit/mtukit/mss"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// download opens a connection, sends a 100-byte request and a small
// response header that the client acknowledges: the part of a download
// that passes any path.
func download(s *scenario) {
	s.handshake(s.mss(), s.mss())
	s.wait(5 * time.Millisecond)
	s.send(client, 100)
	s.wait(20 * time.Millisecond)
	s.ackAll(server)
	s.send(server, 200)
	s.wait(20 * time.Millisecond)
	s.ackAll(client)
}

// backoff retransmits seq n bytes times times, doubling the wait from
// first; it returns the frame numbers.
func backoff(s *scenario, from int, seq uint32, n, times int, first time.Duration) []int64 {
	var nums []int64
	d := first
	for range times {
		s.wait(d)
		nums = append(nums, s.resend(from, seq, n))
		d *= 2
	}
	return nums
}

func TestBlackhole(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		name := map[bool]string{false: "ipv4", true: "ipv6"}[v6]
		t.Run(name+"/classic", func(t *testing.T) {
			s := newScenario(t, v6)
			download(s)
			first, seq := s.send(server, 1400)
			s.send(server, 1400)
			s.send(server, 1400)
			re := backoff(s, server, seq, 1400, 5, 200*time.Millisecond)
			r := s.report()
			if diff := cmp.Diff([]string{CodeBlackhole}, codes(r)); diff != "" {
				t.Fatalf("codes (-want +got):\n%s\n%s", diff, text(r))
			}
			f := find(r, CodeBlackhole)
			want := append([]int64{first}, re...)
			if !slices.Equal(f.Packets, want) || f.Count != 6 || f.Severity != SeverityError {
				t.Errorf("evidence %v count %d severity %v, want %v 6 error", f.Packets, f.Count, f.Severity, want)
			}
			if !strings.HasPrefix(f.Flow, s.endpoint(server)+" > ") {
				t.Errorf("flow %q, want the server as sender", f.Flow)
			}
			hdr := 40
			if v6 {
				hdr = 60
			}
			// the 200-byte header got through (a 240/260-byte packet), the
			// 1400-byte segments did not
			if r.Summary.PathMTUMin != 200+hdr || r.Summary.PathMTUMax != 1400+hdr-1 {
				t.Errorf("path MTU bounds %d..%d, want %d..%d", r.Summary.PathMTUMin, r.Summary.PathMTUMax, 200+hdr, 1400+hdr-1)
			}
		})
		t.Run(name+"/recovered by shrinking", func(t *testing.T) {
			// Linux with tcp_mtu_probing: after the timeouts it resends the
			// same data in smaller segments, which get through
			s := newScenario(t, v6)
			download(s)
			_, seq := s.send(server, 1400)
			backoff(s, server, seq, 1400, 3, 200*time.Millisecond)
			s.wait(time.Second)
			small := s.resend(server, seq, 1000)
			s.wait(20 * time.Millisecond)
			s.ackTo(client, seq+1000)
			s.resend(server, seq+1000, 400)
			s.wait(20 * time.Millisecond)
			s.ackTo(client, seq+1400)
			r := s.report()
			f := find(r, CodeBlackhole)
			if f == nil || len(r.Findings) != 1 {
				t.Fatalf("codes %v, want [blackhole]\n%s", codes(r), text(r))
			}
			if !strings.Contains(f.Detail, "smaller segments (packet "+itoa(int(small))+")") {
				t.Errorf("detail %q does not name the smaller resend (packet %d)", f.Detail, small)
			}
		})
	}
}

// TestNotBlackhole holds the traces that look like a stall but are not a
// black hole: the detector must stay silent on every one.
func TestNotBlackhole(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(s *scenario)
		want []string // findings expected instead (nil: none)
	}{
		{"zero-window probes", func(s *scenario) {
			download(s)
			// the client's buffer is full: window 0; the server probes with
			// one byte, backing off, and the client answers with window 0
			s.side[client].win = 0
			s.ackAll(client)
			_, seq := s.send(server, 1)
			d := 200 * time.Millisecond
			for range 5 {
				s.wait(d)
				s.resend(server, seq, 1)
				s.ackTo(client, seq)
				d *= 2
			}
		}, nil},
		{"zero window, full-size probes", func(s *scenario) {
			download(s)
			s.side[client].win = 0
			s.ackAll(client)
			_, seq := s.send(server, 1400)
			backoff(s, server, seq, 1400, 4, 200*time.Millisecond)
		}, nil},
		{"congestion loss repaired at full size", func(s *scenario) {
			download(s)
			_, lost := s.send(server, 1400)
			backoff(s, server, lost, 1400, 2, 200*time.Millisecond)
			s.wait(20 * time.Millisecond)
			s.ackAll(client) // the third copy of the same 1400 bytes arrived
		}, nil},
		{"congestion loss, full-size segments SACKed past the hole", func(s *scenario) {
			download(s)
			_, lost := s.send(server, 1400)
			var last uint32
			for range 4 {
				_, last = s.send(server, 1400)
			}
			s.wait(20 * time.Millisecond)
			// the client received everything after the hole
			s.ackTo(client, lost, sackOpt(lost+1400, last+1400)...)
			backoff(s, server, lost, 1400, 3, 200*time.Millisecond) // and the capture ends
		}, nil},
		{"congestion loss, earlier full-size segments acknowledged", func(s *scenario) {
			s.nosack = true
			download(s)
			s.send(server, 1400)
			s.wait(20 * time.Millisecond)
			s.ackAll(client)
			_, lost := s.send(server, 1400)
			backoff(s, server, lost, 1400, 4, 200*time.Millisecond)
		}, nil},
		{"receiver closed: RST", func(s *scenario) {
			download(s)
			_, seq := s.send(server, 1400)
			backoff(s, server, seq, 1400, 3, 200*time.Millisecond)
			s.segment(client, mss.FlagRST, s.side[client].seq, 0, nil)
		}, nil},
		{"receiver vanished after the request", func(s *scenario) {
			s.handshake(s.mss(), s.mss())
			s.send(client, 100)
			s.wait(20 * time.Millisecond)
			s.ackAll(server)
			// nothing from the client ever again, and nothing small got
			// through: no evidence that size matters
			_, seq := s.send(server, 1400)
			s.send(server, 1400)
			backoff(s, server, seq, 1400, 5, 200*time.Millisecond)
		}, nil},
		{"receiver vanished, small header unacknowledged", func(s *scenario) {
			s.handshake(s.mss(), s.mss())
			s.send(client, 100)
			s.wait(20 * time.Millisecond)
			s.ackAll(server)
			_, seq := s.send(server, 200)
			s.send(server, 1400)
			backoff(s, server, seq, 200, 5, 200*time.Millisecond)
		}, nil},
		{"a small segment lost repeatedly while the peer talks", func(s *scenario) {
			s.handshake(s.mss(), s.mss())
			s.send(client, 100)
			s.ackAll(server)
			_, seq := s.send(server, 300)
			s.send(server, 1400)
			d := 200 * time.Millisecond
			for range 4 {
				s.wait(d)
				s.resend(server, seq, 300)
				s.send(client, 10) // alive, acknowledging up to the hole only
				d *= 2
			}
		}, nil},
		{"ICMP delivered", func(s *scenario) {
			download(s)
			_, seq := s.send(server, 1400)
			s.ptb(server, 1300, seq, 1440)
			backoff(s, server, seq, 1400, 3, 200*time.Millisecond)
		}, []string{CodePTBIgnored}},
		{"handshake not captured", func(s *scenario) {
			s.send(client, 100)
			s.ackAll(server)
			s.send(server, 200)
			s.ackAll(client)
			_, seq := s.send(server, 1400)
			backoff(s, server, seq, 1400, 5, 200*time.Millisecond)
		}, nil},
		{"retransmissions without back-off", func(s *scenario) {
			download(s)
			_, seq := s.send(server, 1400)
			for range 5 {
				s.wait(time.Second)
				s.resend(server, seq, 1400)
				s.wait(10 * time.Millisecond)
			}
			// gaps 1s, 1.01s... steady is fine; shrinking gaps are not
			for range 3 {
				s.wait(10 * time.Millisecond)
				s.resend(server, seq, 1400)
			}
		}, nil},
	} {
		for _, v6 := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "/ipv4", true: "/ipv6"}[v6], func(t *testing.T) {
				s := newScenario(t, v6)
				tc.run(s)
				r := s.report()
				if testing.Verbose() {
					t.Log(text(r))
				}
				if diff := cmp.Diff(tc.want, codes(r)); diff != "" {
					t.Errorf("codes (-want +got):\n%s\n%s", diff, text(r))
				}
			})
		}
	}
}

func TestPTB(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		fam := map[bool]string{false: "/ipv4", true: "/ipv6"}[v6]
		hdr := map[bool]int{false: 40, true: 60}[v6]
		t.Run("sender shrinks"+fam, func(t *testing.T) {
			s := newScenario(t, v6)
			download(s)
			_, seq := s.send(server, 1440)
			ptb := s.ptb(server, 1400, seq, 1440+hdr)
			small := s.resend(server, seq, 1400-hdr)
			s.resend(server, seq+uint32(1400-hdr), 1440-(1400-hdr))
			s.ackAll(client)
			s.send(server, 1400-hdr)
			s.ackAll(client)
			r := s.report()
			if diff := cmp.Diff([]string{CodePTB}, codes(r)); diff != "" {
				t.Fatalf("codes (-want +got):\n%s\n%s", diff, text(r))
			}
			f := find(r, CodePTB)
			if f.MTU != 1400 || f.Severity != SeverityInfo || !slices.Equal(f.Packets, []int64{ptb, small}) {
				t.Errorf("mtu %d severity %v packets %v, want 1400 info [%d %d]", f.MTU, f.Severity, f.Packets, ptb, small)
			}
			if !strings.HasPrefix(f.Flow, s.endpoint(server)+" > ") {
				t.Errorf("flow %q, want the server (the quoted sender) first", f.Flow)
			}
			// calc's numbers for a 1400-byte link, recomputed: RFC 6691
			if r.Summary.PathMTU != 1400 || r.Summary.ClampIPv4 != 1360 || r.Summary.ClampIPv6 != 1340 {
				t.Errorf("summary %+v, want path MTU 1400, clamp 1360/1340", r.Summary)
			}
		})
		t.Run("sender ignores it"+fam, func(t *testing.T) {
			s := newScenario(t, v6)
			download(s)
			_, seq := s.send(server, 1440)
			s.ptb(server, 1400, seq, 1440+hdr)
			s.wait(200 * time.Millisecond) // well past the handshake's round trip
			s.send(server, 1440)
			s.resend(server, seq, 1440)
			r := s.report()
			if diff := cmp.Diff([]string{CodePTBIgnored}, codes(r)); diff != "" {
				t.Fatalf("codes (-want +got):\n%s\n%s", diff, text(r))
			}
			if f := find(r, CodePTBIgnored); f.Severity != SeverityError || f.MTU != 1400 {
				t.Errorf("severity %v mtu %d, want error 1400", f.Severity, f.MTU)
			}
		})
		t.Run("packets in flight when the PTB was sent"+fam, func(t *testing.T) {
			// a capture on the router: the sender's next large packets were
			// already on their way when the router sent the PTB
			s := newScenario(t, v6)
			download(s)
			_, seq := s.send(server, 1440)
			s.ptb(server, 1400, seq, 1440+hdr)
			s.wait(2 * time.Millisecond) // within two handshake round trips (20 ms)
			s.send(server, 1440)
			s.send(server, 1440)
			// and the capture ends: nothing shows the sender ignored it
			r := s.report()
			if diff := cmp.Diff([]string{CodePTB}, codes(r)); diff != "" {
				t.Fatalf("codes (-want +got):\n%s\n%s", diff, text(r))
			}
		})
		t.Run("quotes a packet never sent"+fam, func(t *testing.T) {
			s := newScenario(t, v6)
			download(s)
			_, seq := s.send(server, 1440)
			s.ptb(server, 1300, seq+1_000_000, 1440+hdr)
			s.ackAll(client)
			r := s.report()
			f := find(r, CodePTBSuspicious)
			if f == nil || len(r.Findings) != 1 || !strings.Contains(f.Title, "never sent") {
				t.Fatalf("want one ptb_suspicious about a sequence never sent\n%s", text(r))
			}
			if r.Summary.PathMTU == 1300 || strings.Contains(r.Summary.Source, "ICMP") {
				t.Errorf("a suspicious PTB set the path MTU: %+v", r.Summary)
			}
		})
		t.Run("MTU below the minimum"+fam, func(t *testing.T) {
			s := newScenario(t, v6)
			download(s)
			_, seq := s.send(server, 1440)
			s.ptb(server, 60, seq, 1440+hdr)
			r := s.report()
			if f := find(r, CodePTBSuspicious); f == nil || !strings.Contains(f.Title, "below the minimum") {
				t.Fatalf("want ptb_suspicious about the minimum\n%s", text(r))
			}
		})
	}
}

func TestOversizeAndOffload(t *testing.T) {
	t.Run("oversize: the sender ignores the peer's MSS", func(t *testing.T) {
		s := newScenario(t, false)
		s.handshake(1240, 1460)       // the client is on a 1280-byte link
		n1, _ := s.send(server, 1448) // 1488-byte packets fit the server's own 1500 link
		s.send(server, 1240)
		s.ackAll(client)
		r := s.report()
		if diff := cmp.Diff([]string{CodeOversizeSegment}, codes(r)); diff != "" {
			t.Fatalf("codes (-want +got):\n%s\n%s", diff, text(r))
		}
		if f := find(r, CodeOversizeSegment); f.MSS != 1240 || !slices.Equal(f.Packets, []int64{n1}) {
			t.Errorf("mss %d packets %v, want 1240 [%d]", f.MSS, f.Packets, n1)
		}
	})
	t.Run("offload: super-packets larger than the sender's own link", func(t *testing.T) {
		s := newScenario(t, false)
		s.handshake(1460, 1460)
		n1, _ := s.send(server, 4*1448)
		s.send(server, 1448)
		n3, _ := s.send(server, 2*1448)
		s.ackAll(client)
		r := s.report()
		if diff := cmp.Diff([]string{CodeOffload}, codes(r)); diff != "" {
			t.Fatalf("codes (-want +got):\n%s\n%s", diff, text(r))
		}
		if f := find(r, CodeOffload); !slices.Equal(f.Packets, []int64{n1, n3}) || f.Count != 2 {
			t.Errorf("packets %v count %d, want [%d %d] 2", f.Packets, f.Count, n1, n3)
		}
	})
	t.Run("a host sending more than its own MSS was clamped", func(t *testing.T) {
		s := newScenario(t, false)
		s.handshake(1460, 1300)
		n, _ := s.send(server, 1448)
		s.ackAll(client)
		r := s.report()
		f := find(r, CodeMSSClamped)
		if f == nil || f.MSS != 1300 || !slices.Contains(f.Packets, n) || find(r, CodeOversizeSegment) != nil {
			t.Fatalf("want mss_clamped 1300 with packet %d, no oversize\n%s", n, text(r))
		}
	})
}

func TestMSSClampedTwoPoints(t *testing.T) {
	// The same SYN seen on two interfaces of a router (pcapng), before and
	// after a clamp to 1300.
	syn := func(v uint16) []byte {
		s := newScenario(t, false)
		s.segment(client, mss.FlagSYN, 1000, 0, []layers.TCPOption{mssOpt(v)})
		return lastFrame(t, s)
	}
	b := pcapngOf(t, []ngPacket{{iface: 0, data: syn(1460)}, {iface: 1, data: syn(1300)}})
	r, err := Analyze(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := find(r, CodeMSSClamped)
	if f == nil || f.MSS != 1300 || f.MTU != 1340 || !slices.Equal(f.Packets, []int64{1, 2}) || !strings.Contains(f.Title, "from 1460 to 1300") {
		t.Fatalf("want mss_clamped 1460 -> 1300 on packets 1, 2\n%s", text(r))
	}
}

// mss is what a host on a 1500-byte link announces: 1460 (IPv4), 1440 (IPv6).
func (s *scenario) mss() uint16 {
	if s.v6 {
		return 1440
	}
	return 1460
}

func (s *scenario) endpoint(side int) string {
	a := &s.side[side]
	if s.v6 {
		return "[" + a.ip.String() + "]:" + itoa(int(a.port))
	}
	return a.ip.String() + ":" + itoa(int(a.port))
}

func text(r *Report) string {
	var b strings.Builder
	r.WriteText(&b, true)
	return b.String()
}

// TestFragmentedSYN: a SYN cut into fragments (by a sender or a router
// that fragments, or an evasion attempt) is reassembled so its MSS counts.
func TestFragmentedSYN(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		t.Run(map[bool]string{false: "ipv4", true: "ipv6"}[v6], func(t *testing.T) {
			s := newScenario(t, v6)
			c, sv := &s.side[client], &s.side[server]
			// the SYN's IP payload: a TCP header with MSS 1300 and SACK-permitted
			tcp := &layers.TCP{SrcPort: layers.TCPPort(c.port), DstPort: layers.TCPPort(sv.port), Seq: c.seq, SYN: true, Window: 65535,
				Options: []layers.TCPOption{mssOpt(1300), sackPermOpt()}}
			ipl := s.ipLayer(c.ip, sv.ip, layers.IPProtocolTCP, false)
			tcp.SetNetworkLayerForChecksum(ipl.(gopacket.NetworkLayer))
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, tcp); err != nil {
				t.Fatal(err)
			}
			seg := buf.Bytes() // 28 bytes: fragments of 8, 8 and 12
			for i, cut := range [][2]int{{0, 8}, {8, 16}, {16, len(seg)}} {
				more := i < 2
				part := gopacket.Payload(seg[cut[0]:cut[1]])
				if v6 {
					frag := []byte{6, 0, byte((cut[0] / 8) >> 5), byte((cut[0]/8)<<3) | map[bool]byte{true: 1}[more], 0, 0, 0, 42}
					ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment, SrcIP: c.ip, DstIP: sv.ip}
					s.write(s.eth(), ip, gopacket.Payload(append(frag, part...)))
				} else {
					ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: c.ip, DstIP: sv.ip, Id: 42, FragOffset: uint16(cut[0] / 8)}
					if more {
						ip.Flags = layers.IPv4MoreFragments
					}
					s.write(s.eth(), ip, part)
				}
			}
			c.seq++
			sv.ack = c.seq
			s.segment(server, mss.FlagSYN|mss.FlagACK, sv.seq, 0, []layers.TCPOption{mssOpt(s.mss())})
			r := s.report()
			if len(r.FlowTable) != 1 || r.FlowTable[0].Directions[0].MSS != 1300 || !r.FlowTable[0].Directions[0].SYN {
				t.Fatalf("want the client's reassembled SYN with MSS 1300 in the flow table\n%s", text(r))
			}
			// the 8-byte first fragment cannot hold the TCP header (RFC 1858, RFC 7112)
			if find(r, CodeFragmentMalformed) == nil || find(r, CodeFragmentation) == nil {
				t.Errorf("want fragmentation and fragment_malformed\n%s", text(r))
			}
		})
	}
}
