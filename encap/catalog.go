package encap

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// layerDef is a catalog entry: a layer's name, its arguments and how they
// turn into bytes.
type layerDef struct {
	name    string
	aliases []string
	summary string
	rfc     string
	traits  Traits // declared traits; the derived ones are added by parseLayer
	args    []argDef
	build   func(a args) (Layer, error)
}

// argDef is one argument a layer accepts. Flags in the same group exclude
// each other (a cipher, a mode); int arguments take a value.
type argDef struct {
	name  string
	group string
	isInt bool
	min   int
	max   int
	step  int
	def   int
	doc   string
}

func (d argDef) rangeText() string {
	if d.step > 1 {
		return fmt.Sprintf("%d..%d in steps of %d", d.min, d.max, d.step)
	}
	return fmt.Sprintf("%d..%d", d.min, d.max)
}

type argVal struct {
	pos int // 0-based offset in the spec, for "given twice" errors
	n   int
}

type args struct {
	def *layerDef
	set map[string]argVal
}

func (a args) has(name string) bool { _, ok := a.set[name]; return ok }

// num returns an int argument, or its default.
func (a args) num(name string) int {
	if v, ok := a.set[name]; ok {
		return v.n
	}
	ad, _ := a.def.arg(name)
	return ad.def
}

// pick returns which flag of a group was given, or def.
func (a args) pick(group, def string) string {
	if name, ok := a.group(a.def, group); ok {
		return name
	}
	return def
}

func (a args) group(d *layerDef, group string) (string, bool) {
	for _, ad := range d.args {
		if ad.group == group && a.has(ad.name) {
			return ad.name, true
		}
	}
	return "", false
}

func (d *layerDef) arg(name string) (argDef, bool) {
	for _, ad := range d.args {
		if ad.name == name {
			return ad, true
		}
	}
	return argDef{}, false
}

func (d *layerDef) argNames() []string {
	out := make([]string, len(d.args))
	for i, ad := range d.args {
		out[i] = ad.name
	}
	return out
}

// registry is filled by the protocol files' init functions.
var registry = map[string]*layerDef{}
var registryOrder []*layerDef

func define(d *layerDef) {
	for _, n := range append([]string{d.name}, d.aliases...) {
		if _, dup := registry[n]; dup {
			panic("encap: layer defined twice: " + n)
		}
		registry[n] = d
	}
	registryOrder = append(registryOrder, d)
}

// catalogOrder is the order --list shows: link framing, IP, GRE family,
// UDP overlays, VPNs, IPsec. Layers not named here follow in definition order.
var catalogOrder = strings.Fields(`eth dot1q qinq pppoe mpls macsec ipv4 ipv6 xlat udp ipip sit ip6tnl srv6
	gre ip6gre gretap ip6gretap nvgre eoip vxlan vxlan-gpe geneve gtpu lisp l2tpv2 l2tpv3 wireguard openvpn esp ah`)

func ordered() []*layerDef {
	rank := map[string]int{}
	for i, n := range catalogOrder {
		rank[n] = i + 1
	}
	out := slices.Clone(registryOrder)
	slices.SortStableFunc(out, func(a, b *layerDef) int {
		ra, rb := rank[a.name], rank[b.name]
		if ra == 0 {
			ra = 1 << 20
		}
		if rb == 0 {
			rb = 1 << 20
		}
		return ra - rb
	})
	return out
}

func lookup(name string) (*layerDef, bool) {
	d, ok := registry[name]
	return d, ok
}

func layerNames() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// LayerDoc describes a layer for `mtukit calc --list` and the web page.
type LayerDoc struct {
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
	Summary string   `json:"summary"`
	RFC     string   `json:"rfc"`
	Bytes   int      `json:"bytes"` // overhead with no arguments on a 1500-byte link (minimum, when padded)
	Args    []ArgDoc `json:"args,omitempty"`
}

// ArgDoc describes one argument of a layer.
type ArgDoc struct {
	Name  string `json:"name"`
	Group string `json:"group,omitempty"`
	Value string `json:"value,omitempty"` // "N (0..252 in steps of 4)" for int arguments
	Doc   string `json:"doc"`
	Bytes int    `json:"bytes"` // overhead with only this argument, on a 1500-byte link
}

// Catalog lists every layer with its arguments, in a stable order. Byte
// counts are computed by the solver itself, so the list cannot drift from
// the arithmetic.
func Catalog() []LayerDoc {
	var out []LayerDoc
	for _, d := range ordered() {
		ld := LayerDoc{Name: d.name, Aliases: d.aliases, Summary: d.summary, RFC: d.rfc}
		ld.Bytes = overheadOf(d.name)
		for _, ad := range d.args {
			doc := ArgDoc{Name: ad.name, Group: ad.group, Doc: ad.doc}
			spec := d.name + "(" + ad.name + ")"
			if ad.isInt {
				doc.Value = "N (" + ad.rangeText() + fmt.Sprintf(", default %d)", ad.def)
				v := ad.def + max(ad.step, 1)
				if v > ad.max {
					v = ad.max
				}
				spec = fmt.Sprintf("%s(%s=%d)", d.name, ad.name, v)
				doc.Value = strings.Replace(doc.Value, "N (", fmt.Sprintf("N (bytes shown for %d; ", v), 1)
			}
			doc.Bytes = overheadOf(spec)
			ld.Args = append(ld.Args, doc)
		}
		out = append(out, ld)
	}
	return out
}

// overheadOf is the minimum overhead of a one-layer spec on a 1500 link, or
// -1 if the spec alone is not valid (an argument that needs another).
func overheadOf(spec string) int {
	s, err := Parse(spec)
	if err != nil {
		return -1
	}
	sol, err := s.Solve(1500)
	if err != nil {
		return -1
	}
	return sol.OverheadMin
}
