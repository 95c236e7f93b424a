package probe

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/mtukit/mtukit/mss"
)

func TestWireRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token []byte
		m     Msg
	}{
		{"no token", nil, Msg{Type: typeProbe, Size: 1400, Seq: 77, Nonce: 0x0102030405060708}},
		{"token", []byte("s3cret"), Msg{Type: typeProbe, Size: 1400, Seq: 77, Nonce: 0x0102030405060708}},
		{"ack with fragment size", nil, Msg{Type: typeAck, Size: 1500, Seq: 78, Nonce: 9, FragKnown: true, Frag: 1332}},
		{"ack arrived whole, token", []byte("s3cret"), Msg{Type: typeAck, Size: 1500, Seq: 79, Nonce: 9, FragKnown: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]byte, 1372)
			for i := range b {
				b[i] = 0xff // Encode must zero the padding
			}
			m := tc.m
			Encode(b, m, tc.token)
			if !bytes.Equal(b[32:], make([]byte, len(b)-32)) {
				t.Fatalf("padding not zeroed")
			}
			got, err := Decode(b, tc.token)
			m.MAC = tc.token != nil
			if err != nil || got != m {
				t.Fatalf("Decode = %+v, %v; want %+v", got, err, m)
			}
			if tc.token != nil {
				if _, err := Decode(b, []byte("wrong")); !errors.Is(err, ErrMAC) {
					t.Errorf("wrong token: err %v, want ErrMAC", err)
				}
				b[10] ^= 1 // tamper with the sequence
				if _, err := Decode(b, tc.token); !errors.Is(err, ErrMAC) {
					t.Errorf("tampered: err %v, want ErrMAC", err)
				}
			} else if _, err := Decode(b, []byte("needed")); !errors.Is(err, ErrMAC) {
				t.Errorf("no MAC where a token is required: err %v", err)
			}
		})
	}
	for _, tc := range []struct {
		name string
		b    []byte
		err  error
	}{
		{"short", []byte("MTK1"), ErrShortMsg},
		{"magic", append([]byte("XTK1"), make([]byte, 28)...), ErrMagic},
		{"type", append([]byte("MTK1\x07"), make([]byte, 27)...), ErrMsgType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.b, nil); !errors.Is(err, tc.err) {
				t.Errorf("err %v, want %v", err, tc.err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	ok := make([]byte, 40)
	Encode(ok, Msg{Type: typeProbe, Size: 1400, Seq: 1, Nonce: 2}, nil)
	f.Add(ok, false)      // a valid probe
	f.Add(ok[:31], false) // one byte short
	mac := make([]byte, 32)
	Encode(mac, Msg{Type: typeAck, Size: 1400, Seq: 1, Nonce: 2}, []byte("k"))
	f.Add(mac, true)                    // an acknowledgement with a MAC
	f.Add([]byte("MTK1\x02\x01"), true) // cut, claims a MAC
	frag := make([]byte, 32)
	Encode(frag, Msg{Type: typeAck, Size: 1500, Seq: 3, Nonce: 2, FragKnown: true, Frag: 1332}, nil)
	f.Add(frag, false) // an acknowledgement reporting fragments
	f.Fuzz(func(t *testing.T, b []byte, tok bool) {
		var token []byte
		if tok {
			token = []byte("k")
		}
		m, err := Decode(b, token)
		if err != nil {
			return
		}
		// Re-encoding what was decoded gives the same fields (the flags
		// byte follows the token, the reserved bytes are written as zero).
		out := make([]byte, 32)
		Encode(out, m, token)
		if !bytes.Equal(out[:5], b[:5]) || !bytes.Equal(out[6:20], b[6:20]) {
			t.Fatalf("re-encoded header differs: %x vs %x", out[:20], b[:20])
		}
		if m.FragKnown && !bytes.Equal(out[20:22], b[20:22]) {
			t.Fatalf("re-encoded fragment size differs: %x vs %x", out[20:22], b[20:22])
		}
		if tok && !bytes.Equal(out, b[:32]) {
			t.Fatalf("a message that passed the MAC check is not what Encode makes: %x vs %x", out, b[:32])
		}
	})
}

func TestLimiter(t *testing.T) {
	l := newLimiter(10, 5, 16)
	t0 := time.Unix(1000, 0)
	a := netip.MustParseAddr("192.0.2.1")
	n := 0
	for i := 0; i < 100; i++ {
		if l.allow(a, t0) {
			n++
		}
	}
	if n != 5 {
		t.Errorf("burst: %d allowed at one instant, want 5", n)
	}
	if !l.allow(a, t0.Add(100*time.Millisecond)) || l.allow(a, t0.Add(100*time.Millisecond)) {
		t.Errorf("after 100 ms at 10/s exactly one more token")
	}
	// Two addresses of one /64 share a bucket.
	l = newLimiter(10, 1, 4096)
	if !l.allow(netip.MustParseAddr("2001:db8::1"), t0) || l.allow(netip.MustParseAddr("2001:db8::2"), t0) {
		t.Errorf("one /64 must share one bucket")
	}
	// Memory is the fixed table whatever the number of sources.
	if len(l.buckets) != 4096 {
		t.Errorf("table size changed")
	}
	for i := 0; i < 100000; i++ {
		l.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), t0)
	}
	if len(l.buckets) != 4096 {
		t.Errorf("table grew to %d", len(l.buckets))
	}
}

func TestSynMSS(t *testing.T) {
	tcp := make([]byte, 20)
	tcp[12] = 6 << 4 // data offset 6 words: 4 bytes of options
	tcp[13] = mss.FlagSYN
	tcp = mss.AppendMSS(tcp, 1360)
	v4 := append(quoted4(5, 64, protoTCP, nil, nil), tcp...)
	v6 := append(quoted6(64, protoTCP, nil, nil), tcp...)
	for _, tc := range []struct {
		name string
		syn  []byte
		want int
		ok   bool
	}{
		{"ipv4", v4, 1360, true},
		{"ipv6", v6, 1360, true},
		{"not tcp", append(quoted4(5, 64, protoUDP, nil, nil), tcp...), 0, false},
		{"empty", nil, 0, false},
		{"cut", v4[:25], 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := synMSS(tc.syn)
			if got != tc.want || ok != tc.ok {
				t.Errorf("synMSS = %d %v, want %d %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestResponderSafety checks on loopback that replies are 32 bytes, never
// more than the request, carry the size received, and that short, foreign
// or unauthenticated messages get nothing.
func TestResponderSafety(t *testing.T) {
	r := &Responder{Listen: netip.MustParseAddrPort("127.0.0.1:0"), Token: []byte("tok"), Rate: 1000, Burst: 1000}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	addr := r.Addr()
	if !addr.IsValid() {
		t.Fatal("responder did not start")
	}
	c, err := net.ListenUDP("udp4", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send := func(b []byte) ([]byte, bool) {
		c.WriteToUDPAddrPort(b, addr)
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 2000)
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return nil, false
		}
		return buf[:n], true
	}
	probe := make([]byte, 1000)
	Encode(probe, Msg{Type: typeProbe, Size: 1028, Seq: 9, Nonce: 5}, []byte("tok"))
	reply, ok := send(probe)
	if !ok {
		t.Fatal("no reply to a valid probe")
	}
	m, err := Decode(reply, []byte("tok"))
	if err != nil || m.Type != typeAck || m.Seq != 9 || m.Nonce != 5 || m.Size != 1000+8+20 || len(reply) != wireLen {
		t.Fatalf("reply %+v (%d bytes), err %v; want ack seq 9 nonce 5 size 1028, 32 bytes", m, len(reply), err)
	}
	noTok := make([]byte, 1000)
	Encode(noTok, Msg{Type: typeProbe, Size: 1028, Seq: 10, Nonce: 5}, nil)
	if _, ok := send(noTok); ok {
		t.Errorf("answered a probe without the token's MAC")
	}
	if _, ok := send(probe[:31]); ok {
		t.Errorf("answered a message shorter than the header")
	}
	ack := make([]byte, 32)
	Encode(ack, Msg{Type: typeAck, Seq: 11}, []byte("tok"))
	if _, ok := send(ack); ok {
		t.Errorf("answered an acknowledgement (reflection loop)")
	}
	if s := r.Stats(); s.UDPAcked != 1 || s.UDPDropped != 3 {
		t.Errorf("stats %+v, want 1 acked, 3 dropped", s)
	}
}

func TestResponderAnswerZeroAlloc(t *testing.T) {
	r := &Responder{}
	lim := newLimiter(1e9, 1e9, 4096)
	in := make([]byte, 1372)
	Encode(in, Msg{Type: typeProbe, Size: 1400, Seq: 1, Nonce: 2}, nil)
	out := make([]byte, wireLen)
	from := netip.MustParseAddr("192.0.2.7")
	now := time.Now()
	n := testing.AllocsPerRun(200, func() {
		if _, ok := r.answer(in, from, 0, out, lim, now); !ok {
			t.Fatal("no answer")
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per datagram, want 0", n)
	}
	reply, _ := r.answer(in, from, 0, out, lim, now)
	if m, err := Decode(reply, nil); err != nil || m.Size != 1400 || len(reply) != wireLen {
		t.Errorf("ack %+v %v: want size 1400 (1372 + 8 + 20)", m, err)
	}
}

func BenchmarkResponderAnswer(b *testing.B) {
	r := &Responder{}
	lim := newLimiter(1e12, 1e9, 4096)
	in := make([]byte, 1372)
	Encode(in, Msg{Type: typeProbe, Size: 1400, Seq: 1, Nonce: 2}, nil)
	out := make([]byte, wireLen)
	from := netip.MustParseAddr("192.0.2.7")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		r.answer(in, from, 0, out, lim, now)
	}
}
