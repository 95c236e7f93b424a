package tput

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Rate is a data rate in bits per second. +Inf means "no limit".
type Rate float64

// Unlimited is the rate of a limit that does not apply (no loss, no window).
var Unlimited = Rate(math.Inf(1))

// IsUnlimited reports whether r is no limit at all.
func (r Rate) IsUnlimited() bool { return math.IsInf(float64(r), 1) }

// Mbps is r in Mbit/s.
func (r Rate) Mbps() float64 { return float64(r) / 1e6 }

// String prints r with an SI prefix and four significant digits,
// e.g. "83.89 Mbit/s", or "unlimited".
func (r Rate) String() string {
	v := float64(r)
	switch {
	case math.IsInf(v, 1):
		return "unlimited"
	case math.IsNaN(v):
		return "NaN"
	}
	units := []struct {
		div  float64
		name string
	}{{1e12, "Tbit/s"}, {1e9, "Gbit/s"}, {1e6, "Mbit/s"}, {1e3, "kbit/s"}}
	for _, u := range units {
		if math.Abs(v) >= u.div {
			return fmtSig(v/u.div) + " " + u.name
		}
	}
	return fmtSig(v) + " bit/s"
}

// fmtSig prints v with four significant digits and no exponent.
func fmtSig(v float64) string {
	if v == 0 {
		return "0"
	}
	d := 3 - int(math.Floor(math.Log10(math.Abs(v))))
	if d < 0 {
		d = 0
	}
	s := strconv.FormatFloat(v, 'f', d, 64)
	if d > 0 && math.Abs(v) >= 1000 {
		s = strconv.FormatFloat(v, 'f', 0, 64)
	}
	return s
}

// MarshalJSON encodes r in bit/s; an unlimited rate is null.
func (r Rate) MarshalJSON() ([]byte, error) {
	if r.IsUnlimited() || math.IsNaN(float64(r)) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, math.Round(float64(r)*1000)/1000, 'f', -1, 64), nil
}

// ParseRate reads a line rate in bits per second: a number with an optional
// SI prefix (k, M, G, T; decimal) and an optional unit "bit/s", "bps" or
// "b/s": "1G", "100Mbit/s", "2.5e9". Byte rates are refused, to avoid the
// factor-8 slip.
func ParseRate(s string) (Rate, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("rate is empty")
	}
	low := strings.ToLower(t)
	for _, u := range []string{"bit/s", "bits/s", "bps", "b/s", "bit"} {
		if strings.HasSuffix(low, u) {
			if u == "b/s" && strings.HasSuffix(t, "B/s") {
				return 0, fmt.Errorf("rate %q is in bytes per second: give bits per second (e.g. 100M for 100 Mbit/s)", s)
			}
			t = strings.TrimSpace(t[:len(t)-len(u)])
			break
		}
	}
	if strings.HasSuffix(t, "B") {
		return 0, fmt.Errorf("rate %q is in bytes per second: give bits per second (e.g. 100M for 100 Mbit/s)", s)
	}
	mult := 1.0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k', 'K':
			mult = 1e3
		case 'M':
			mult = 1e6
		case 'G', 'g':
			mult = 1e9
		case 'T', 't':
			mult = 1e12
		case 'm':
			return 0, fmt.Errorf("rate %q: 'm' would be milli; write M for mega", s)
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("rate %q is not a number with an optional k/M/G/T prefix", s)
	}
	r := v * mult
	if r <= 0 {
		return 0, fmt.Errorf("rate %q must be positive", s)
	}
	if r > 1e15 {
		return 0, fmt.Errorf("rate %q is above 1 Pbit/s", s)
	}
	return Rate(r), nil
}

// MaxWindow is the largest receive window this package accepts: 1 GiB,
// which bounds RFC 7323's 65535 << 14 = 1073725440 bytes.
const MaxWindow = 1 << 30

// ParseBytes reads a byte count: a plain integer, or a number with a binary
// (KiB, MiB, GiB) or decimal (kB, KB, MB, GB) unit. A bare K, M or G is
// refused as ambiguous.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("byte count is empty")
	}
	units := []struct {
		suf  string
		mult float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
		{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
	}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(t, u.suf) {
			mult = u.mult
			t = strings.TrimSpace(t[:len(t)-len(u.suf)])
			break
		}
	}
	if n := len(t); n > 0 && strings.ContainsRune("kKmMgG", rune(t[n-1])) {
		return 0, fmt.Errorf("byte count %q: unit %q is ambiguous, write %siB (binary) or %sB (decimal)", s, t[n-1:], strings.ToUpper(t[n-1:]), strings.ToUpper(t[n-1:]))
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("byte count %q is not a number with an optional unit (KiB, MiB, GiB, kB, MB, GB)", s)
	}
	b := v * mult
	if b < 0 {
		return 0, fmt.Errorf("byte count %q is negative", s)
	}
	if b > 1<<50 {
		return 0, fmt.Errorf("byte count %q is too large", s)
	}
	if b != math.Trunc(b) {
		return 0, fmt.Errorf("byte count %q is not a whole number of bytes", s)
	}
	return int64(b), nil
}

// seconds converts d to float seconds.
func seconds(d time.Duration) float64 { return d.Seconds() }
