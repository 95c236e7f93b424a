package encap

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestPresetsAgainstPublished solves every preset and checks mtukit's
// number against the figure its vendor publishes (the oracle is the
// source each row names). Where they differ, the note must say why, and
// name both figures.
func TestPresetsAgainstPublished(t *testing.T) {
	name := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, p := range Presets() {
		t.Run(p.Name, func(t *testing.T) {
			if !name.MatchString(p.Name) || seen[p.Name] {
				t.Errorf("name %q: want a unique lower-case-with-dashes name", p.Name)
			}
			seen[p.Name] = true
			if !strings.HasPrefix(p.Source.URL, "https://") || p.Source.Title == "" || p.Title == "" || p.Published.Says == "" {
				t.Errorf("preset needs a title, an https source with its title, and what the source says: %+v", p)
			}
			if _, err := ParseFamily(p.Family); err != nil {
				t.Errorf("family: %v", err)
			}
			got, err := p.Computed()
			if err != nil {
				t.Fatal(err)
			}
			pub := p.Published.Value
			if got == pub {
				return
			}
			if !strings.Contains(p.Note, strconv.Itoa(got)) || !strings.Contains(p.Note, strconv.Itoa(pub)) {
				t.Errorf("mtukit computes %s %d, the source publishes %d: the note must say why, naming both (note: %q)", p.Published.Quantity, got, pub, p.Note)
			}
		})
	}
}

// TestPresetFigures pins the computed figures, so a change in the
// arithmetic that a note happens to cover still fails.
func TestPresetFigures(t *testing.T) {
	want := map[string]int{
		"cloudflare-magic-wan-gre": 1436, "gcp-ha-vpn": 1406, "aws-gwlb-geneve": 8500, "wg-quick": 1420,
		"tailscale": 1420, "pppoe": 1492, "aws-site-to-site-vpn": 1446, "azure-vpn-gateway": 1382, "lte-gtpu": 1464, "pppoe-vlan": 1492, "pppoe-baby-jumbo": 1500, "linux-vxlan": 1450,
		"openstack-vxlan-jumbo": 8950, "cisco-nexus1000v-vxlan": 1500, "android-464xlat": 1472, "openwrt-ds-lite": 1460, "openwrt-map-e": 1460,
	}
	for _, p := range Presets() {
		got, err := p.Computed()
		if err != nil || got != want[p.Name] {
			t.Errorf("%s: computed %d (%v), want %d", p.Name, got, err, want[p.Name])
		}
	}
	if len(want) != len(Presets()) {
		t.Errorf("%d presets, %d pinned: pin the new ones", len(Presets()), len(want))
	}
}

func TestLookupPreset(t *testing.T) {
	if p, err := LookupPreset(" WG-Quick "); err != nil || p.Stack != "wireguard(ipv6)" {
		t.Fatalf("LookupPreset = %+v, %v", p, err)
	}
	_, err := LookupPreset("tailscal")
	if err == nil || !strings.Contains(err.Error(), `did you mean "tailscale"?`) || !strings.Contains(err.Error(), "want one of cloudflare-magic-wan-gre, ") {
		t.Errorf("error %v: want a suggestion and the list as words", err)
	}
}
