package mss

import (
	"testing"

	"github.com/mtukit/mtukit/encap"
)

func TestExplain(t *testing.T) {
	for _, tc := range []struct {
		name       string
		f          encap.Family
		synMSS     int
		c          Clamper
		action     string
		result     int
		maxPayload int
		maxPacket  int
		noLimit    bool
	}{
		// MTU 1400 - 40 = 1360; receiver sends 1360 (+40 = 1400-byte packets).
		{"ipv4 1460 to mtu 1400", encap.IPv4, 1460, Clamper{Target: Target{n: 1400, isMTU: true}}, "clamped", 1360, 1360, 1400, false},
		// MTU 1400 - 60 = 1340.
		{"ipv6 1440 to mtu 1400", encap.IPv6, 1440, Clamper{Target: Target{n: 1400, isMTU: true}}, "clamped", 1340, 1340, 1400, false},
		{"below target stays", encap.IPv4, 1200, Clamper{Target: Target{n: 1360}}, "unchanged", 1200, 1200, 1240, false},
		// no option, no insertion: default 536 applies.
		{"no option ipv4", encap.IPv4, 0, Clamper{Target: Target{n: 1360}}, "unchanged", 0, 536, 576, false},
		// insertion: min(1360, 536) = 536.
		{"no option inserted ipv4", encap.IPv4, 0, Clamper{Target: Target{n: 1360}, Insert: true}, "inserted", 536, 536, 576, false},
		// insertion ipv6: min(1000, 1220) = 1000.
		{"no option inserted ipv6 below default", encap.IPv6, 0, Clamper{Target: Target{n: 1000}, Insert: true}, "inserted", 1000, 1000, 1060, false},
		{"ipv6 65535 left alone by a high target", encap.IPv6, 65535, Clamper{Target: Target{n: 65535}}, "unchanged", 65535, 0, 0, true},
		{"ipv6 65535 clamped", encap.IPv6, 65535, Clamper{Target: Target{n: 1220}, Rule: RuleNFT}, "clamped", 1220, 1220, 1280, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Explain(tc.f, tc.synMSS, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if e.Action != tc.action || e.ResultMSS != tc.result || e.MaxPayload != tc.maxPayload || e.MaxPacket != tc.maxPacket || e.NoLimit != tc.noLimit || len(e.Steps) < 2 {
				t.Fatalf("got %+v", e)
			}
			if !tc.noLimit && e.MaxPayloadTS != tc.maxPayload-12 {
				t.Fatalf("with timestamps %d", e.MaxPayloadTS)
			}
		})
	}
	if _, err := Explain(encap.IPv4, 70000, Clamper{Target: Target{n: 1}}); err == nil {
		t.Fatal("syn mss 70000 accepted")
	}
	if _, err := Explain(encap.IPv4, 1460, Clamper{}); err == nil {
		t.Fatal("no target accepted")
	}
}
