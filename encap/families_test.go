package encap

import "testing"

// Variants honours the outer stack and the connection's family: IPv6 needs
// a tunnel MTU of 1280, so on a 1320-byte link only the GRE variants over
// IPv4 carry it (1320 - 20 - 4 = 1296, 1320 - 20 - 8 = 1292), and pppoe
// below takes its 8 bytes from every variant. GRE over IPv6 costs 52 bytes,
// as Linux's ip6gre does by default (1448 on a 1500-byte link): IPv6 40,
// GRE 4 and the RFC 2473 encapsulation limit option 8.
func TestTunnelFamilyVariants(t *testing.T) {
	gre := TunnelFamily{Name: "gre", Specs: []string{"gre", "gre(key)", "gre(ipv6)", "gre(key,ipv6)"}}
	for _, tc := range []struct {
		name  string
		link  int
		outer string
		f     Family
		want  map[string]int
	}{
		{"ipv4 on 1500", 1500, "", IPv4, map[string]int{"gre": 1476, "gre(key)": 1472, "gre(ipv6)": 1448, "gre(key,ipv6)": 1444}},
		{"ipv6 needs 1280", 1320, "", IPv6, map[string]int{"gre": 1296, "gre(key)": 1292}},
		{"over pppoe", 1500, "pppoe", IPv4, map[string]int{"pppoe/gre": 1468, "pppoe/gre(key)": 1464, "pppoe/gre(ipv6)": 1440, "pppoe/gre(key,ipv6)": 1436}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var outer *Stack
			if tc.outer != "" {
				outer = MustParse(tc.outer)
			}
			vs, err := gre.Variants(tc.link, outer, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, v := range vs {
				got[v.Stack.String()] = v.PathMTU
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, m := range tc.want {
				if got[k] != m {
					t.Errorf("%s: %d, want %d", k, got[k], m)
				}
			}
		})
	}
	if _, err := gre.Variants(1300, nil, IPv6); err == nil {
		t.Error("no GRE variant carries IPv6 on a 1300-byte link, yet no error")
	}
}
