package simchart

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mtukit/mtukit/plpmtud"
	"github.com/mtukit/mtukit/plpmtud/sim"
)

func TestSVG(t *testing.T) {
	r, err := sim.Exact(context.Background(), sim.Scenario{Strategy: "binary", Config: plpmtud.Config{Min: 1200, Max: 1500}, Path: sim.Path{Loss: 0.05}, PMTU: sim.Fixed(1420)}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := SVG(&buf, "t", []Series{{"binary", r}}); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); !strings.HasPrefix(strings.TrimSpace(s), "<?xml") || !strings.Contains(s, "binary") {
		t.Fatalf("not an SVG with the label: %.200s", s)
	}
	if err := SVG(&buf, "t", nil); err == nil {
		t.Error("no series: no error")
	}
	many := make([]Series, maxSeries+1)
	for i := range many {
		many[i] = Series{"x", r}
	}
	if err := SVG(&buf, "t", many); err == nil || !strings.Contains(err.Error(), "at most 16") {
		t.Errorf("too many series: %v", err)
	}
}
