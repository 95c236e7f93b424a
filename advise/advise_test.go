package advise

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/mtukit/mtukit/encap"
)

func calc(t *testing.T, o Options) *Report {
	t.Helper()
	r, err := Calc(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func codes(r *Report) []string {
	var c []string
	for _, w := range r.Warnings {
		c = append(c, w.Code)
	}
	return c
}

func TestStatusRule(t *testing.T) {
	for _, tc := range []struct {
		name, stack string
		mtu         int
		want        string
	}{
		{"plain ethernet", "", 1500, StatusOptimal},
		{"vlan tag outside the MTU", "dot1q", 1500, StatusOptimal},
		{"gre", "gre", 1500, StatusNeedsClamp},
		{"pppoe", "pppoe", 1500, StatusNeedsClamp},
		{"tunnel of exactly 1280", "gre", 1304, StatusNeedsClamp},
		{"tunnel of 1279", "gre", 1303, StatusCritical},
		{"small link", "", 576, StatusCritical},
		{"tiny tunnel", "vxlan", 600, StatusCritical},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := calc(t, Options{Stack: tc.stack, LinkMTU: tc.mtu})
			if r.Status != tc.want {
				t.Fatalf("status %s (%s), want %s", r.Status, r.StatusReason, tc.want)
			}
		})
	}
}

func TestMSSPerFamily(t *testing.T) {
	// RFC 6691 §2: MTU - 40 for IPv4, MTU - 60 for IPv6, never minus options.
	for _, tc := range []struct {
		stack  string
		mtu    int
		v4, v6 int
		payTS  int
	}{
		{"", 1500, 1460, 1440, 1448},
		{"esp", 1500, 1406, 1386, 1394},
		{"gre", 1500, 1436, 1416, 1424}, // Cloudflare's GRE figure 1436
		{"pppoe", 1500, 1452, 1432, 1440},
		{"wireguard(ipv6)", 1500, 1380, 1360, 1368},
		{"gre", 1290, 1226, 0, 1214}, // tunnel 1266 < 1280: no IPv6 MSS
	} {
		t.Run(tc.stack, func(t *testing.T) {
			r := calc(t, Options{Stack: tc.stack, LinkMTU: tc.mtu})
			if r.MSS.IPv4 != tc.v4 || r.MSS.IPv6 != tc.v6 || r.Payload.IPv4Timestamps != tc.payTS {
				t.Fatalf("mss %+v payload %+v, want %d/%d ts %d", r.MSS, r.Payload, tc.v4, tc.v6, tc.payTS)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		stack   string
		mtu     int
		want    []string
		notWant []string
	}{
		{"", 1500, nil, []string{WarnClampRequired, WarnJumbo}},
		{"", 9000, []string{WarnJumbo}, []string{WarnClampRequired}},
		{"gre", 1500, []string{WarnClampRequired, WarnClampNotUDP}, []string{WarnClampInner, WarnPadding}},
		{"pppoe/esp(aes-cbc,sha1)/gre", 1500, []string{WarnPPPoE, WarnClampInner, WarnPadding}, nil},
		{"vxlan", 1500, []string{WarnNoFragOverlay}, nil},
		{"wireguard", 1500, []string{WarnWireGuardDefault}, nil},
		{"wireguard(ipv6)", 1500, nil, []string{WarnWireGuardDefault}},
		{"ip6gre", 1500, []string{WarnEncapLimit}, nil},
		{"dot1q", 1500, []string{WarnVLANOutside}, nil},
		{"gre", 600, []string{WarnIPv6Below1280, WarnQUIC}, []string{WarnMSSBelow536}},
		{"gre", 590, []string{WarnMSSBelow536}, nil},
		{"gre", 1260, []string{WarnQUIC}, nil},
		{"vxlan(ipv6)", 1270, []string{WarnIPv6Underlay}, nil},
		{"openvpn(tcp)", 1500, []string{WarnTCPoverTCP}, nil},
	} {
		t.Run(tc.stack, func(t *testing.T) {
			r := calc(t, Options{Stack: tc.stack, LinkMTU: tc.mtu})
			got := codes(r)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("missing %s in %v", w, got)
				}
			}
			for _, w := range tc.notWant {
				if slices.Contains(got, w) {
					t.Errorf("unexpected %s in %v", w, got)
				}
			}
			for _, w := range r.Warnings {
				if strings.Contains(w.Message, "\n") || w.Message == "" {
					t.Errorf("%s: bad message %q", w.Code, w.Message)
				}
			}
		})
	}
}

// Each warning's sentence must be true for the stack it is about.
func TestWarningMessages(t *testing.T) {
	for _, tc := range []struct {
		name, stack string
		mtu         int
		code        string
		want, not   []string
	}{
		{"IPsec inside GRE: clamp on the IPsec interface, not the GRE one (seed 000)", "gre/esp", 1500, WarnClampInner,
			[]string{"inside esp", "innermost layer, esp"}, []string{"on the GRE interface"}},
		{"GRE inside IPsec: clamp on the GRE interface", "esp(aes-cbc,sha1)/gre", 1500, WarnClampInner,
			[]string{"innermost layer, gre", "-m policy --pol ipsec"}, nil},
		{"WireGuard: no policy-based IPsec advice", "wireguard", 1500, WarnClampInner, []string{"inside wireguard"}, []string{"policy"}},
		{"MSS below 536 is legal (RFC 9293 sets no floor)", "gre", 590, WarnMSSBelow536,
			[]string{"legal", "576-byte packets do not fit this 566-byte tunnel"}, []string{"reset", "stall"}},
		{"VXLAN's no-fragmentation rule is RFC 7348 §4.3", "vxlan", 1500, WarnNoFragOverlay, []string{"RFC 7348 §4.3", "1450", "1550"}, nil},
		{"GENEVE is not VXLAN", "geneve", 1500, WarnNoFragOverlay, []string{"geneve packets should not"}, []string{"RFC 7348"}},
		{"wg-quick is underlay - 80; over IPv4 20+8+32 = 60", "wireguard", 1500, WarnWireGuardDefault,
			[]string{"1420", "underlay MTU - 80", "1440 fits"}, nil},
		{"jumbo: an L2 switch drops silently, a router would send ICMP", "", 9000, WarnJumbo, []string{"switch", "no ICMP"}, []string{"one 1500-byte hop"}},
		{"clamping is TCP-only; GRE keepalives are tiny", "gre", 1500, WarnClampNotUDP, []string{"UDP", "1476"}, []string{"keepalive"}},
		{"TCP over TCP: the outer connection's options are not in the 20 bytes", "openvpn(tcp)", 1500, WarnTCPoverTCP, []string{"both layers", "12 bytes"}, nil},
		{"the option is defined in RFC 2473 §4.1.1", "ip6gre", 1500, WarnEncapLimit, []string{"RFC 2473 §4.1.1"}, []string{"§5.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := calc(t, Options{Stack: tc.stack, LinkMTU: tc.mtu})
			msg := ""
			for _, w := range r.Warnings {
				if w.Code == tc.code {
					msg = w.Message
				}
			}
			if msg == "" {
				t.Fatalf("no %s in %v", tc.code, codes(r))
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%s lacks %q: %s", tc.code, w, msg)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(msg, w) {
					t.Errorf("%s says %q: %s", tc.code, w, msg)
				}
			}
		})
	}
}

func TestEfficiencyAndBlueprint(t *testing.T) {
	for _, stack := range []string{"", "esp(aes-cbc,sha1)", "pppoe/esp(aes-gcm-16)/gre", "dot1q/vxlan", "esp(aes-cbc,sha1,transport)/gre", "esp(transport,nat-t)"} {
		for _, fam := range []encap.Family{encap.IPv4, encap.IPv6} {
			r := calc(t, Options{Stack: stack, Family: fam})
			e := r.Efficiency
			if e.PayloadBytes+e.HeaderBytes+e.EncapBytes != e.WireBytes {
				t.Errorf("%s: efficiency bytes %+v do not add up", stack, e)
			}
			if s := e.Payload + e.Headers + e.Encapsulation; math.Abs(s-1) > 0.0002 {
				t.Errorf("%s: shares sum to %v", stack, s)
			}
			if r.Blueprint.Wire != r.Overhead.AtMTU {
				t.Errorf("%s: blueprint covers %d bytes, wire %d", stack, r.Blueprint.Wire, r.Overhead.AtMTU)
			}
			payload := 0
			for _, f := range r.Blueprint.Fields {
				if f.Role == "payload" {
					payload = f.Bytes
				}
			}
			if payload != e.PayloadBytes {
				t.Errorf("%s: blueprint payload %d, efficiency %d", stack, payload, e.PayloadBytes)
			}
		}
	}
}

// In transport mode ESP's header sits after the protected packet's IP
// header (RFC 4303 §3.1.1): offsets written out from the RFC's figure.
func TestBlueprintTransportOffsets(t *testing.T) {
	type fld struct {
		off  int
		name string
		role string
	}
	for _, tc := range []struct {
		name, stack string
		want        []fld
	}{
		{"GRE inside ESP transport", "esp(aes-cbc,sha1,transport)/gre", []fld{
			{0, "outer IPv4", "encap"}, {20, "ESP SPI", "encap"}, {24, "ESP sequence", "encap"}, {28, "ESP IV (aes-cbc)", "encap"},
			{44, "GRE header", "encap"}, {48, "IPv4 header", "ip"}, {68, "TCP header", "tcp"}, {88, "TCP options (ts)", "options"},
			{100, "TCP payload", "payload"}, {1482, "ESP pad length and next header", "trailer"}, {1484, "ESP ICV (HMAC-SHA1-96)", "trailer"}}},
		{"IPv6 ESP transport: the segment's header is IPv6 (40)", "esp(transport,ipv6)", []fld{
			{0, "IPv6 header", "ip"}, {40, "ESP SPI", "encap"}, {44, "ESP sequence", "encap"}, {48, "ESP IV (aes-gcm-16)", "encap"},
			{56, "TCP header", "tcp"}, {76, "TCP options (ts)", "options"}, {88, "TCP payload", "payload"},
			{1482, "ESP pad length and next header", "trailer"}, {1484, "aes-gcm-16 ICV", "trailer"}}},
		{"ESP transport protecting the segment itself", "esp(transport)", []fld{
			{0, "IPv4 header", "ip"}, {20, "ESP SPI", "encap"}, {24, "ESP sequence", "encap"}, {28, "ESP IV (aes-gcm-16)", "encap"},
			{36, "TCP header", "tcp"}, {56, "TCP options (ts)", "options"}, {68, "TCP payload", "payload"},
			{1482, "ESP pad length and next header", "trailer"}, {1484, "aes-gcm-16 ICV", "trailer"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, _ := ParseTCPOptions("ts")
			// An innermost transport layer's own family must win over --family.
			fam := map[string]encap.Family{"esp(transport)": encap.IPv6, "esp(transport,ipv6)": encap.IPv4}[tc.stack]
			r := calc(t, Options{Stack: tc.stack, TCP: ts, Family: fam})
			var got []fld
			for _, f := range r.Blueprint.Fields {
				got = append(got, fld{f.Offset, f.Name, f.Role})
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("blueprint\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestVendorConfigs(t *testing.T) {
	r := calc(t, Options{Stack: "esp", Interface: "vti0"})
	text := map[string]string{}
	for _, c := range r.Clamp {
		text[c.Vendor] = strings.Join(c.Lines, "\n")
	}
	for _, v := range Vendors {
		if text[v] == "" {
			t.Errorf("no configuration for %s", v)
		}
	}
	want := map[string][]string{
		"linux-iptables": {"ip link set dev vti0 mtu 1446", "--set-mss 1406", "--mss 1407:65535", "ip6tables", "--set-mss 1386"},
		"linux-nftables": {"maxseg size > 1406 tcp option maxseg size set 1406", "maxseg size set 1386"},
		"cisco-ios":      {"ip mtu 1446", "ip tcp adjust-mss 1406", "ipv6 tcp adjust-mss 1386"},
		"cisco-asa":      {"sysopt connection tcpmss 1406"},
		"juniper-srx":    {"st0 unit 0 family inet mtu 1446", "tcp-mss ipsec-vpn mss 1406"},
		"palo-alto":      {"ipv4-mss-adjustment 94", "ipv6-mss-adjustment 114"}, // 1500-1406, 1500-1386
		"mikrotik":       {"tcp-mss=1407-65535", "new-mss=1406", "new-mss=1386"},
		"vyos":           {"set interfaces vti vti0 mtu 1446", "ip adjust-mss 1406", "ipv6 adjust-mss 1386"},
	}
	for _, v := range Vendors {
		if len(want[v]) == 0 {
			t.Errorf("vendor %s has no expected lines here: a new vendor adds its row", v)
		}
	}
	for vendor, want := range want {
		for _, w := range want {
			if !strings.Contains(text[vendor], w) {
				t.Errorf("%s: missing %q in\n%s", vendor, w, text[vendor])
			}
		}
	}
	// Below 1280 there is no IPv6 MSS, so no IPv6 lines.
	r = calc(t, Options{Stack: "gre", LinkMTU: 1290})
	for _, c := range r.Clamp {
		if j := strings.Join(c.Lines, "\n"); strings.Contains(j, "ip6tables") || strings.Contains(j, "ipv6 tcp adjust-mss") {
			t.Errorf("%s has IPv6 lines for a 1266 tunnel", c.Vendor)
		}
	}
}

// Vendor lines that must (or must not) be printed, from each vendor's
// documented syntax and ranges: Cisco IOS/IOS-XE ip tcp adjust-mss takes
// 500-1460 and ipv6 tcp adjust-mss 40-1440; Junos wants gre-in/gre-out as
// well as ipsec-vpn for GRE over IPsec; the MTU goes on the interface of
// the innermost layer.
func TestVendorLines(t *testing.T) {
	for _, tc := range []struct {
		name, stack, vendor string
		mtu                 int
		want, not           []string
	}{
		{"IOS: MSS 8910 is outside 500-1460", "vxlan", "cisco-ios", 9000,
			[]string{" ip mtu 8950", " ipv6 mtu 8950"}, []string{"adjust-mss"}},
		{"IOS: MSS 456 is outside 500-1460", "gre", "cisco-ios", 520, []string{" ip mtu 496"}, []string{"adjust-mss"}},
		{"IOS: GRE 1476 - 40", "gre", "cisco-ios", 1500, []string{"interface Tunnel0", " ip tcp adjust-mss 1436", " ipv6 tcp adjust-mss 1416"}, nil},
		{"IOS: a VLAN tag has no tunnel interface", "dot1q", "cisco-ios", 1500, []string{"interface GigabitEthernet0/0"}, []string{"Tunnel0"}},
		{"IOS: PPPoE alone is the dialer", "pppoe", "cisco-ios", 1500, []string{"interface Dialer1", " ip tcp adjust-mss 1452"}, nil},
		{"SRX: GRE over IPsec, MTU on gr-0/0/0", "pppoe/esp(aes-gcm-16)/gre", "juniper-srx", 1500,
			[]string{"set interfaces gr-0/0/0 unit 0 family inet mtu 1414", "tcp-mss gre-in mss 1374", "tcp-mss gre-out mss 1374", "tcp-mss ipsec-vpn mss 1374"},
			[]string{"st0"}},
		{"SRX: IPsec inside GRE, MTU on st0", "gre/esp", "juniper-srx", 1500,
			[]string{"set interfaces st0 unit 0 family inet mtu 1422", "tcp-mss ipsec-vpn mss 1382"}, []string{"gre-in", "gr-0/0/0"}},
		{"VyOS: adjust-mss takes 536-65535", "gre", "vyos", 590, []string{"set interfaces tunnel tun0 mtu 566"}, []string{"adjust-mss"}},
		{"VyOS: in range", "gre", "vyos", 1500, []string{"ip adjust-mss 1436", "ipv6 adjust-mss 1416"}, nil},
		{"VyOS: no GTP-U interface, said so", "gtpu", "vyos", 1500, []string{"set interfaces tunnel tun0 mtu 1464"}, nil},
		{"VyOS: a VLAN tag is no tunnel", "dot1q(capped)", "vyos", 1500, []string{"set interfaces ethernet eth0 mtu 1496", "ip adjust-mss 1456"}, []string{"tunnel"}},
		{"SRX: gretap over IPsec is GRE over IPsec too", "esp/gretap", "juniper-srx", 1500,
			[]string{"set interfaces gr-0/0/0 unit 0 family inet mtu 1408", "tcp-mss gre-in mss 1368", "tcp-mss ipsec-vpn mss 1368"}, []string{"st0"}},
		{"SRX: NVGRE is no gr- tunnel", "nvgre", "juniper-srx", 1500,
			[]string{"set interfaces ip-0/0/0 unit 0 family inet mtu 1458", "tcp-mss all-tcp mss 1418"}, []string{"gre-in", "gr-0/0/0"}},
		{"SRX: PPPoE alone is pp0", "pppoe", "juniper-srx", 1500, []string{"set interfaces pp0 unit 0 family inet mtu 1492", "all-tcp mss 1452"}, nil},
		{"SRX: plain route-based IPsec", "esp", "juniper-srx", 1500, []string{"st0 unit 0 family inet mtu 1446", "ipsec-vpn mss 1406"}, []string{"gre-in"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := calc(t, Options{Stack: tc.stack, LinkMTU: tc.mtu})
			var lines []string
			for _, c := range r.Clamp {
				if c.Vendor == tc.vendor {
					lines = c.Lines
				}
			}
			text := strings.Join(lines, "\n")
			for _, w := range tc.want {
				if !slices.Contains(lines, w) && !strings.Contains(text, w) {
					t.Errorf("missing %q in\n%s", w, text)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(text, w) {
					t.Errorf("unexpected %q in\n%s", w, text)
				}
			}
			for _, l := range lines {
				var n int
				if _, err := fmt.Sscanf(strings.TrimSpace(l), "ip tcp adjust-mss %d", &n); err == nil && (n < 500 || n > 1460) {
					t.Errorf("IOS rejects %q", l)
				}
				if _, err := fmt.Sscanf(strings.TrimSpace(l), "ipv6 tcp adjust-mss %d", &n); err == nil && (n < 40 || n > 1440) {
					t.Errorf("IOS rejects %q", l)
				}
			}
		})
	}
}

// The text's payload/segment value is the JSON's payload_per_segment.ipv4:
// the MSS less the chosen options (RFC 9293 §3.7.1), not the MSS itself.
func TestTextPayloadLine(t *testing.T) {
	for _, tc := range []struct {
		name, opts, want string
	}{
		{"timestamps: 1446 - 40 - 12", "ts", "payload/segment  1394  with timestamps; 1406 without options (IPv4)"},
		{"no options: the MSS", "none", "payload/segment  1406  without TCP options; 1394 with timestamps (IPv4)"},
		{"ts + 1 SACK block: 1406 - 12 - 12", "ts,sack=1", "payload/segment  1382  with ts,sack=1; 1406 without options, 1394 with timestamps only (IPv4)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseTCPOptions(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			r := calc(t, Options{Stack: "esp", TCP: o})
			var b strings.Builder
			if err := r.WriteText(&b, []string{"vyos"}); err != nil {
				t.Fatal(err)
			}
			line := ""
			for _, l := range strings.Split(b.String(), "\n") {
				if strings.Contains(l, "payload/segment") {
					line = strings.Join(strings.Fields(l), " ")
				}
			}
			if want := strings.Join(strings.Fields(tc.want), " "); line != want {
				t.Fatalf("got  %q\nwant %q", line, want)
			}
		})
	}
}

// Vendor notes must describe the vendor's behaviour: xt_TCPMSS itself never
// raises an MSS (since Linux 2.6.25, iptables-extensions(8)); the tcpmss
// match is what stops it inserting an option into SYNs that carry none.
func TestVendorNotes(t *testing.T) {
	r := calc(t, Options{Stack: "gre"})
	for _, tc := range []struct {
		vendor    string
		want, not []string
	}{
		{"linux-iptables", []string{"never raises", "insert"}, []string{"makes the rule only lower"}},
		{"palo-alto", []string{"MSS = interface MTU (1500) - adjustment, so 64 gives 1436"}, nil},
		{"vyos", []string{"outbound", "far end"}, []string{"has no"}}, // GRE is a VyOS tunnel encapsulation
	} {
		note := ""
		for _, c := range r.Clamp {
			if c.Vendor == tc.vendor {
				note = c.Note
			}
		}
		for _, w := range tc.want {
			if !strings.Contains(note, w) {
				t.Errorf("%s note lacks %q: %s", tc.vendor, w, note)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(note, w) {
				t.Errorf("%s note says %q: %s", tc.vendor, w, note)
			}
		}
	}
	for _, c := range calc(t, Options{Stack: "gtpu"}).Clamp {
		if c.Vendor == "vyos" && !strings.Contains(c.Note, "VyOS has no gtpu interface") {
			t.Errorf("vyos note for GTP-U: %s", c.Note)
		}
	}
}

func TestPacketBreakdown(t *testing.T) {
	r := calc(t, Options{Stack: "esp(3des,md5)", LinkMTU: 1500, Packet: 1500})
	if r.Packet == nil || r.Packet.Wire != 1552 || r.Packet.Fits {
		t.Fatalf("3DES/MD5 1500-byte packet: %+v, want 1552 and not fitting", r.Packet)
	}
}

func TestJSONContract(t *testing.T) {
	b, err := json.Marshal(calc(t, Options{Stack: "pppoe/esp(aes-gcm-16)/gre"}))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tunnel_mtu", "mss", "payload_per_segment", "overhead", "link_mtu", "layers", "status", "efficiency", "warnings", "blueprint", "clamp"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	mssm := m["mss"].(map[string]any)
	oh := m["overhead"].(map[string]any)
	if mssm["ipv4"].(float64) != 1374 || mssm["ipv6"].(float64) != 1354 || oh["min"].(float64) != 86 || oh["max"].(float64) != 89 {
		t.Fatalf("mss %v overhead %v", mssm, oh)
	}
}

func TestTCPOptions(t *testing.T) {
	for _, tc := range []struct {
		in    string
		bytes int
		err   bool
	}{
		{"", 0, false}, {"none", 0, false}, {"ts", 12, false}, {"ts,sack=3", 40, false},
		{"ts,sack=4", 0, true}, {"md5", 20, false}, {"ao=12", 16, false}, {"sack", 0, true}, {"bogus", 0, true},
	} {
		o, err := ParseTCPOptions(tc.in)
		if n := optionBytes(o); (err != nil) != tc.err || (!tc.err && n != tc.bytes) {
			t.Errorf("%q: %+v bytes %d err %v", tc.in, o, n, err)
		}
	}
}

func BenchmarkCalc(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Calc(Options{Stack: "pppoe/esp(aes-gcm-16)/gre"}); err != nil {
			b.Fatal(err)
		}
	}
}

// Every layer VyOS has an interface for is a catalog layer: a renamed layer
// must not silently fall back to "interfaces tunnel".
func TestVyOSInterfaceLayers(t *testing.T) {
	for layer := range vyosIfs {
		if _, err := encap.Parse(layer); err != nil {
			t.Errorf("vyosIfs names %q: %v", layer, err)
		}
	}
}
