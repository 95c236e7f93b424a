package tput

import (
	"math"
	"testing"
)

func FuzzParseDist(f *testing.F) {
	for _, s := range []string{
		"1420",                       // a point
		"1400:1499",                  // a PLPMTUD bracket
		"1500=0.6,1492=0.3,1420=0.1", // weights
		"1400:1401=2,1500",           // weighted range and a bare item
		"68:65535",                   // the widest range allowed
		"1500=1e308,1400=1e308",      // weights whose sum overflows
		"1500=4.9e-324",              // the smallest positive weight
		"1500=1e308,1400=4.9e-324",   // a weight that underflows next to another
		" 1500 , 1400 ",              // spaces
		"1500:1400",                  // backwards
		"1400=",                      // missing weight
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDist(s)
		if err != nil {
			return
		}
		sum := 0.0
		for _, sc := range d {
			if !(sc.Prob > 0) || sc.PathMTU < 68 || sc.PathMTU > 65535 {
				t.Fatalf("%q: bad scenario %+v", s, sc)
			}
			sum += sc.Prob
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Fatalf("%q: probabilities add to %v", s, sum)
		}
	})
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"1G", "100Mbit/s", "2.5e9", "10 Gbps", "100MB/s", "1m", "0x10", "-0", "1e15", "1e16"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err == nil && !(r > 0 && r <= 1e15) {
			t.Fatalf("%q -> %v", s, float64(r))
		}
	})
}

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"1MiB", "64KiB", "10MB", "1.5KiB", "1M", "1e15", "0x400", "-0", "1125899906842624"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err == nil && (n < 0 || n > 1<<50) {
			t.Fatalf("%q -> %d", s, n)
		}
	})
}
