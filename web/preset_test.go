package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mtukit/mtukit/internal/cli"
	"github.com/mtukit/mtukit/web"
)

// TestPresetParam: preset= on calc and tput does what the CLI's --preset
// does, byte for byte for calc, and /api/v1/presets lists them.
func TestPresetParam(t *testing.T) {
	h := web.New(testConfig())
	w := get(t, h, "/api/v1/calc?preset=pppoe-baby-jumbo")
	var out bytes.Buffer
	if code := cli.Main(context.Background(), []string{"calc", "--json", "--preset", "pppoe-baby-jumbo"}, nil, &out, &out); code != 0 || w.Code != 200 || w.Body.String() != out.String() {
		t.Errorf("calc preset: API %d, CLI %d; the bodies must be equal", w.Code, code)
	}
	var r struct {
		LinkMTU int `json:"link_mtu"`
		Preset  struct {
			Computed  int                 `json:"computed"`
			Published struct{ Value int } `json:"published"`
		} `json:"preset"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || r.LinkMTU != 1508 || r.Preset.Computed != 1500 || r.Preset.Published.Value != 1500 {
		t.Errorf("calc preset: %+v, %v", r, err)
	}
	for _, target := range []string{"/api/v1/calc?preset=wg-quick&stack=gre", "/api/v1/tput?preset=wg-quick&stack=gre", "/api/v1/calc?preset=nope"} {
		w := get(t, h, target)
		if w.Code != 400 || !strings.Contains(w.Body.String(), `"param": "preset"`) && !strings.Contains(w.Body.String(), `"param":"preset"`) {
			t.Errorf("%s: %d %s, want 400 naming preset", target, w.Code, w.Body.String())
		}
	}
	w = get(t, h, "/api/v1/tput?preset=aws-gwlb-geneve&mss=8400")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"link_mtu": 8568`) {
		t.Errorf("tput preset: %d %.300s", w.Code, w.Body.String())
	}
	w = get(t, h, "/api/v1/presets")
	var ps []struct {
		Name     string `json:"name"`
		Computed int    `json:"computed"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &ps); err != nil || w.Code != 200 || len(ps) < 9 {
		t.Fatalf("presets: %d %v", w.Code, err)
	}
	for _, p := range ps {
		if p.Name == "tailscale" && p.Computed != 1420 {
			t.Errorf("tailscale computed %d, want 1420", p.Computed)
		}
	}
}
