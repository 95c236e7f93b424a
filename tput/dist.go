package tput

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/mtukit/mtukit/encap"
)

// maxDistValues bounds how many path MTUs a parsed distribution may hold.
const maxDistValues = 70000

// ParseDist reads a path MTU distribution: comma-separated items, each a
// path MTU ("1420") or an inclusive range ("1400:1499", e.g. the bounds a
// PLPMTUD search left), with an optional weight ("1500=0.6"). A range's
// weight is spread evenly over its values; items without a weight weigh 1.
//
//	1420                      known exactly
//	1400:1499                 a measurement: somewhere in 1400..1499, evenly
//	1500=0.6,1492=0.3,1420=0.1
func ParseDist(spec string) (Dist, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, fmt.Errorf("path MTU distribution is empty")
	}
	weights := map[int]float64{}
	n := 0
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
		}
		lo, hi := 0, 0
		var err error
		if k := strings.IndexByte(item, ':'); k >= 0 {
			if lo, err = parseMTU(item[:k]); err == nil {
				hi, err = parseMTU(item[k+1:])
			}
			if err == nil && lo > hi {
				err = fmt.Errorf("range %d:%d runs backwards", lo, hi)
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
	d := make(Dist, 0, len(weights))
	for m, w := range weights {
		d = append(d, Scenario{Prob: w, PathMTU: m})
	}
	sort.Slice(d, func(i, j int) bool { return d[i].PathMTU > d[j].PathMTU })
	return d.Normalize()
}

func parseMTU(s string) (int, error) {
	s = strings.TrimSpace(s)
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("path MTU %q is not a whole number", s)
	}
	if err := encap.CheckLinkMTU(v); err != nil {
		return 0, fmt.Errorf("path MTU %d outside %d..%d", v, encap.MinLinkMTU, encap.MaxLinkMTU)
	}
	return v, nil
}

// tunnelTypes are the tunnel types, each a family of encap stacks: when
// all that is known is "some IPsec tunnel", each variant is taken as
// equally likely. They are encap.TunnelFamilies (the simulator's too), plus
// OpenVPN.
var tunnelTypes = func() map[string]encap.TunnelFamily {
	m := map[string]encap.TunnelFamily{
		"openvpn": {Name: "openvpn", Specs: []string{"openvpn", "openvpn(cbc-sha1)", "openvpn(cbc-sha256)", "openvpn(tcp)"}},
	}
	for _, f := range encap.TunnelFamilies {
		m[f.Name] = f
	}
	return m
}()

// TunnelTypes lists the names Tunnel accepts: the types, then "mix" (every
// type pooled, each type with equal weight).
func TunnelTypes() []string {
	names := make([]string, 0, len(tunnelTypes)+1)
	for k := range tunnelTypes {
		names = append(names, k)
	}
	sort.Strings(names)
	return append(names, "mix")
}

// Tunnel is the distribution of the path MTU inside a tunnel of the given
// type on a link of linkMTU: every variant equally likely ("mix": every type
// equally likely, then its variants), each with its exact tunnel MTU and
// wire arithmetic from package encap. outer, when not nil, is the stack the
// tunnel itself rides on (e.g. pppoe).
func Tunnel(name string, linkMTU int, outer *encap.Stack, f encap.Family) (Dist, error) {
	if name == "mix" {
		var d Dist
		for _, k := range TunnelTypes() {
			if k == "mix" {
				continue
			}
			td, err := Tunnel(k, linkMTU, outer, f)
			if err != nil {
				continue
			}
			for _, s := range td {
				s.Prob /= float64(len(tunnelTypes))
				d = append(d, s)
			}
		}
		if len(d) == 0 {
			return nil, fmt.Errorf("no tunnel variant carries %s on a %d-byte link", f, linkMTU)
		}
		return d.Normalize()
	}
	t, ok := tunnelTypes[name]
	if !ok {
		return nil, fmt.Errorf("tunnel type %q: want one of %s", name, strings.Join(TunnelTypes(), ", "))
	}
	vs, err := t.Variants(linkMTU, outer, f)
	if err != nil {
		return nil, err
	}
	var d Dist
	for _, v := range vs {
		d = append(d, Scenario{Prob: 1, PathMTU: v.PathMTU, Stack: v.Stack, Label: v.Stack.String()})
	}
	return d.Normalize()
}
