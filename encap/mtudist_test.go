package encap

import (
	"math"
	"testing"
)

func TestParseMTUDist(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		want       []MTUWeight
		bad        bool
	}{
		{"one", "1420", []MTUWeight{{1420, 1}}, false},
		{"range spreads its weight", "1400:1401=0.5,1500=0.5", []MTUWeight{{1500, 0.5}, {1401, 0.25}, {1400, 0.25}}, false},
		{"merged", "1500=0.5,1500=0.25,1400=0.25", []MTUWeight{{1500, 0.75}, {1400, 0.25}}, false},
		{"no weights: equal shares", "1500,1500,1400", []MTUWeight{{1500, 2}, {1400, 1}}, false},
		{"weights that round to 1", "1500=0.6,1492=0.3,1420=0.1", []MTUWeight{{1500, 0.6}, {1492, 0.3}, {1420, 0.1}}, false},
		{"weights below 1", "1500=0.5,1400=0.3", nil, true},
		{"weights above 1", "1500=3,1420=1", nil, true},
		{"one weight missing", "1500=0.5,1400", nil, true},
		{"first weight missing", "1500,1400=0.5", nil, true},
		{"backwards", "1500:1400", nil, true},
		{"below 68", "67", nil, true},
		{"above 65535", "65536", nil, true},
		{"zero weight", "1500=0", nil, true},
		{"empty item", "1500,,1400", nil, true},
		{"empty", " ", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMTUDist(tc.spec)
			if tc.bad != (err != nil) {
				t.Fatalf("ParseMTUDist(%q) = %v, %v", tc.spec, got, err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i].MTU != tc.want[i].MTU || math.Abs(got[i].Weight-tc.want[i].Weight) > 1e-12 {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// FuzzParseMTUDist: the parser shared by tput --pmtu and sim --pmtu never
// panics and returns only MTUs in range, sorted downwards, with positive
// weights.
func FuzzParseMTUDist(f *testing.F) {
	for _, s := range []string{
		"1420",                     // a point
		"1400:1499",                // a PLPMTUD bracket
		"1500=0.6,1492=0.3",        // weights
		"1400:1401=0.4,1500=0.6",   // weighted range and a point
		"1400:1401=2,1500",         // a weight missing: refused
		"68:65535",                 // the widest range allowed
		"1500=1e308,1400=4.9e-324", // extreme weights
		"1500:1400",                // backwards
		"1400=",                    // missing weight
		"14x0",                     // not a number
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ws, err := ParseMTUDist(s)
		if err != nil {
			return
		}
		for i, w := range ws {
			if w.MTU < MinLinkMTU || w.MTU > MaxLinkMTU || !(w.Weight > 0) || (i > 0 && w.MTU >= ws[i-1].MTU) {
				t.Fatalf("%q: bad item %d %+v", s, i, w)
			}
		}
	})
}
