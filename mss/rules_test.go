package mss

import (
	"errors"
	"testing"

	"github.com/mtukit/mtukit/encap"
)

// TestEffectiveSendMSS checks RFC 9293 §3.7.1 case by case. Each want is
// worked out in the comment from the RFC formula
// min(SendMSS+20, MTU-IPhdr) - (20+TCPopts) - IPopts, not from the code.
func TestEffectiveSendMSS(t *testing.T) {
	ts, _ := SegmentOptions{Timestamps: true}.Bytes()
	for _, tc := range []struct {
		name      string
		in        SendInput
		want      int
		boundBy   string
		defaulted bool
		noLimit   bool
	}{
		// min(1460+20, 1500-20) - 20 = 1460
		{"ipv4 ethernet peer 1460", SendInput{Family: encap.IPv4, PeerMSS: 1460, MTU: 1500}, 1460, "peer", false, false},
		// min(1480, 1480) - (20+12) = 1448 (overheads.md §5: MSS 1460 carries 1448)
		{"ipv4 peer 1460 with timestamps", SendInput{Family: encap.IPv4, PeerMSS: 1460, MTU: 1500, TCPOptionBytes: ts}, 1448, "peer", false, false},
		// no option: SendMSS 536; min(556, 1480) - 20 = 536 (RFC 9293 MUST-15)
		{"ipv4 no MSS option: default 536", SendInput{Family: encap.IPv4, MTU: 1500}, 536, "peer", true, false},
		// min(556, 1480) - 32 = 524
		{"ipv4 default 536 with timestamps", SendInput{Family: encap.IPv4, MTU: 1500, TCPOptionBytes: 12}, 524, "peer", true, false},
		// no option: SendMSS 1220; min(1240, 1500-40) - 20 = 1220
		{"ipv6 no MSS option: default 1220", SendInput{Family: encap.IPv6, MTU: 1500}, 1220, "peer", true, false},
		// min(1240, 1460) - 32 = 1208
		{"ipv6 default 1220 with timestamps", SendInput{Family: encap.IPv6, MTU: 1500, TCPOptionBytes: 12}, 1208, "peer", true, false},
		// min(1460, 1460) - 20 = 1440
		{"ipv6 ethernet peer 1440", SendInput{Family: encap.IPv6, PeerMSS: 1440, MTU: 1500}, 1440, "peer", false, false},
		// peer 1460 over a 1400 tunnel: min(1480, 1380) - 20 = 1360
		{"ipv4 local MTU below the peer's MSS", SendInput{Family: encap.IPv4, PeerMSS: 1460, MTU: 1400}, 1360, "mtu", false, false},
		// ipv6 peer 1440, local 1280: min(1460, 1240) - 20 = 1220
		{"ipv6 minimum MTU bounds", SendInput{Family: encap.IPv6, PeerMSS: 1440, MTU: 1280}, 1220, "mtu", false, false},
		// 65535 from IPv6 = infinity: 9000 - 40 - 20 = 8940
		{"ipv6 65535 means no limit (jumbo 9000)", SendInput{Family: encap.IPv6, PeerMSS: 65535, MTU: 9000}, 8940, "mtu", false, true},
		// infinity: 100000 - 40 - 20 = 99940; read as a number it would be min(65555, 99960) - 20 = 65535
		{"ipv6 65535 on a jumbogram link", SendInput{Family: encap.IPv6, PeerMSS: 65535, MTU: 100000}, 99940, "mtu", false, true},
		// IPv4 65535 is a number: min(65555, 9000-20) - 20 = 8960
		{"ipv4 65535 is just a number", SendInput{Family: encap.IPv4, PeerMSS: 65535, MTU: 9000}, 8960, "mtu", false, false},
		// min(1480, 1480) - 20 - 12 = 1448 (12 bytes of IPv4 options)
		{"ipv4 options", SendInput{Family: encap.IPv4, PeerMSS: 1460, MTU: 1500, IPOptionBytes: 12}, 1448, "peer", false, false},
		// min(1480, 1480) - (20+40) = 1420 (timestamps 12 + 3 SACK blocks 28)
		{"timestamps and three SACK blocks", SendInput{Family: encap.IPv4, PeerMSS: 1460, MTU: 1500, TCPOptionBytes: 40}, 1420, "peer", false, false},
		// PPPoE 1492: peer clamped to 1452 (1492-40), min(1472, 1472) - 20 = 1452
		{"pppoe clamp 1452", SendInput{Family: encap.IPv4, PeerMSS: 1452, MTU: 1492}, 1452, "peer", false, false},
		// tiny IPv4 MTU 68, peer 1460: min(1480, 48) - 20 = 28
		{"ipv4 minimum MTU 68", SendInput{Family: encap.IPv4, PeerMSS: 1460, MTU: 68}, 28, "mtu", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EffectiveSendMSS(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Effective != tc.want || got.BoundBy != tc.boundBy || got.Defaulted != tc.defaulted || got.NoLimit != tc.noLimit {
				t.Fatalf("got %+v, want effective %d bound by %s defaulted %v nolimit %v", got, tc.want, tc.boundBy, tc.defaulted, tc.noLimit)
			}
		})
	}
}

// TestMalformedMSSGetsDefault runs a SYN through Summarize and then
// EffectiveSendMSS: a malformed or zero MSS option is ignored and the
// default applies (RFC 9293 §3.7.1).
func TestMalformedMSSGetsDefault(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    encap.Family
		opts []byte
		want int
	}{
		{"length 5 ipv4", encap.IPv4, []byte{2, 5, 5, 0xb4, 0}, 536},
		{"length 3 ipv6", encap.IPv6, []byte{2, 3, 5, 1}, 1220},
		{"value 0 ipv4", encap.IPv4, []byte{2, 4, 0, 0}, 536},
		{"well-formed 1400 after a malformed one", encap.IPv4, []byte{2, 5, 5, 0xb4, 0, 2, 4, 5, 0x78}, 1400},
		{"MSS behind EOL is not seen", encap.IPv6, []byte{0, 0, 0, 0, 2, 4, 5, 0x78}, 1220},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Summarize(tcpSeg(FlagSYN, tc.opts, nil))
			if err != nil {
				t.Fatal(err)
			}
			got, err := EffectiveSendMSS(SendInput{Family: tc.f, PeerMSS: s.MSS, MTU: 1500})
			if err != nil {
				t.Fatal(err)
			}
			if got.Effective != tc.want {
				t.Fatalf("effective %d, want %d (%+v)", got.Effective, tc.want, got)
			}
		})
	}
}

func TestEffectiveSendMSSErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   SendInput
	}{
		{"ipv4 MTU 67", SendInput{Family: encap.IPv4, MTU: 67}},
		{"ipv6 MTU 1279", SendInput{Family: encap.IPv6, MTU: 1279}},
		{"ipv4 MTU 65536", SendInput{Family: encap.IPv4, MTU: 65536}},
		{"41 bytes of options", SendInput{Family: encap.IPv4, MTU: 1500, TCPOptionBytes: 41}},
		{"negative ip options", SendInput{Family: encap.IPv4, MTU: 1500, IPOptionBytes: -1}},
		{"no family", SendInput{MTU: 1500}},
		{"no room for payload", SendInput{Family: encap.IPv4, MTU: 68, TCPOptionBytes: 40}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := EffectiveSendMSS(tc.in); err == nil {
				t.Fatalf("no error, got %+v", got)
			}
		})
	}
}

func TestSegmentOptionBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    SegmentOptions
		want int
		err  error
	}{
		{"none", SegmentOptions{}, 0, nil},
		{"timestamps", SegmentOptions{Timestamps: true}, 12, nil},
		{"one SACK block", SegmentOptions{SACKBlocks: 1}, 12, nil},
		{"timestamps and 3 SACK blocks (Linux's maximum with TS)", SegmentOptions{Timestamps: true, SACKBlocks: 3}, 40, nil},
		{"4 SACK blocks", SegmentOptions{SACKBlocks: 4}, 36, nil},
		{"MD5 and timestamps", SegmentOptions{Timestamps: true, MD5: true}, 32, nil},
		{"TCP-AO with a 12-byte MAC", SegmentOptions{AOMACLen: 12}, 16, nil},
		{"TCP-AO with a 10-byte MAC pads to 16", SegmentOptions{AOMACLen: 10}, 16, nil},
		{"timestamps and 4 SACK blocks do not fit", SegmentOptions{Timestamps: true, SACKBlocks: 4}, 48, ErrOptionSpace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.o.Bytes()
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Fatalf("Bytes() = %d, %v; want %d, %v", got, err, tc.want, tc.err)
			}
		})
	}
	if _, err := (SegmentOptions{SACKBlocks: 5}).Bytes(); err == nil {
		t.Fatal("5 SACK blocks accepted")
	}
}

func TestDefaultSendMSS(t *testing.T) {
	// RFC 9293 §3.7.1: 576-40 and 1280-60, and the same as ForMTU of the
	// minimum reassembly size / minimum IPv6 MTU.
	if DefaultSendMSS(encap.IPv4) != 536 || DefaultSendMSS(encap.IPv6) != 1220 {
		t.Fatal("defaults")
	}
	if ForMTU(576, encap.IPv4) != DefaultIPv4 || ForMTU(1280, encap.IPv6) != DefaultIPv6 {
		t.Fatal("defaults disagree with ForMTU")
	}
}
