package encap

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// maxDistValues bounds how many path MTUs a parsed distribution may hold.
const maxDistValues = 70000

// MTUWeight is one possible path MTU and its weight. ParseMTUDist's weights
// are probabilities when given (they add up to 1), and equal shares when
// not.
type MTUWeight struct {
	MTU    int
	Weight float64
}

// ParseMTUDist reads a path MTU distribution: comma-separated items, each a
// path MTU ("1420") or an inclusive range ("1400:1499", e.g. the bounds a
// PLPMTUD search left), with an optional weight ("1500=0.6"). Either every
// item has a weight and the weights add up to 1 (within 1e-6), or no item
// has one and each weighs 1. A range's weight is spread evenly over its
// values.
//
//	1420                      known exactly
//	1400:1499                 a measurement: somewhere in 1400..1499, evenly
//	1500=0.6,1492=0.3,1420=0.1
func ParseMTUDist(spec string) ([]MTUWeight, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, fmt.Errorf("path MTU distribution is empty")
	}
	weights := map[int]float64{}
	n, weighted, total := 0, 0, 0.0
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		where := fmt.Sprintf("item %d (%q)", i+1, item)
		if item == "" {
			return nil, fmt.Errorf("%s is empty", where)
		}
		w := 1.0
		if k := strings.IndexByte(item, '='); k >= 0 {
			v, err := strconv.ParseFloat(strings.TrimSpace(item[k+1:]), 64)
			if err != nil || !(v > 0) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: weight %q must be a positive number", where, item[k+1:])
			}
			w, item = v, strings.TrimSpace(item[:k])
			weighted++
		}
		if weighted > 0 && weighted != i+1 {
			return nil, fmt.Errorf("%s: give every item a weight (adding up to 1), or none", where)
		}
		total += w
		lo, hi := 0, 0
		var err error
		if k := strings.IndexByte(item, ':'); k >= 0 {
			if lo, err = parseMTU(item[:k]); err == nil {
				hi, err = parseMTU(item[k+1:])
			}
			if err == nil && lo > hi {
				err = fmt.Errorf("range %d:%d is reversed: write %d:%d", lo, hi, hi, lo)
			}
		} else {
			lo, err = parseMTU(item)
			hi = lo
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		n += hi - lo + 1
		if n > maxDistValues {
			return nil, fmt.Errorf("%s: distribution holds more than %d values", where, maxDistValues)
		}
		each := w / float64(hi-lo+1)
		for m := lo; m <= hi; m++ {
			weights[m] += each
		}
	}
	if weighted > 0 && math.Abs(total-1) > 1e-6 {
		return nil, fmt.Errorf("weights add up to %s, not 1", strconv.FormatFloat(total, 'g', 6, 64))
	}
	d := make([]MTUWeight, 0, len(weights))
	for m, w := range weights {
		d = append(d, MTUWeight{MTU: m, Weight: w})
	}
	sort.Slice(d, func(i, j int) bool { return d[i].MTU > d[j].MTU })
	return d, nil
}

func parseMTU(s string) (int, error) {
	s = strings.TrimSpace(s)
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("path MTU %q is not a whole number", s)
	}
	if err := CheckLinkMTU(v); err != nil {
		return 0, fmt.Errorf("path MTU %d outside %d..%d", v, MinLinkMTU, MaxLinkMTU)
	}
	return v, nil
}
