package advise

import (
	"fmt"
	"strings"

	"github.com/mtukit/mtukit/encap"
)

// The stack linter: orders of layers that parse and solve, but that no
// device builds, so the numbers answer a question nobody asked. Each
// warning names the spelling the user most likely meant; the checks test
// traits, and the spelling comes from the catalog (a variant is offered
// only if it parses and has the trait that was missing).

// lintStack returns the linter's warnings for st.
func lintStack(st *encap.Stack) []Warning {
	var w []Warning
	for i := range st.Layers {
		l := &st.Layers[i]
		if i > 0 && l.Has(encap.OwnOuterIP) {
			if prev := &st.Layers[i-1]; prev.Kind == encap.KindIP && prev.Outer != 0 {
				w = append(w, doubleOuterIP(st, i))
			}
		}
		if l.Has(encap.EthernetFraming) {
			w = append(w, ethernetNotCarried(st, i))
		}
	}
	return w
}

// doubleOuterIP: layer i brings its own outer IP header and sits inside an
// explicit IP layer (ipv6/wireguard), so the outer header counts twice.
func doubleOuterIP(st *encap.Stack, i int) Warning {
	ip, l := &st.Layers[i-1], &st.Layers[i]
	msg := fmt.Sprintf("%s under %s counts the outer IP header twice: %s adds its own outer %s header, and %s is another", l.Spec, ip.Spec, l.Name, l.Outer, ip.Spec)
	if l.Outer == ip.Outer {
		msg += fmt.Sprintf(". Did you mean %q?", replaceLayers(st, i-1, i, l.Spec))
	} else if v, ok := variant(withArg(l.Spec, ip.Outer.String()), func(v *encap.Layer) bool { return v.Outer == ip.Outer }); ok {
		msg += fmt.Sprintf(": for an %s underlay give the layer its own %s argument, not a separate layer. Did you mean %q?", ip.Outer, ip.Outer, replaceLayers(st, i-1, i, v))
	} else {
		msg += fmt.Sprintf("; %s takes no %s underlay: drop %s", l.Name, ip.Outer, ip.Spec)
	}
	return Warning{Code: WarnDoubleOuterIP, Message: msg}
}

// ethernetNotCarried: an Ethernet header (eth) where no device puts one:
// outside every tunnel (the link's own header never counts), inside a
// tunnel that already counts it, or inside one that carries IP packets.
func ethernetNotCarried(st *encap.Stack, i int) Warning {
	e := &st.Layers[i]
	j := i - 1
	for j >= 0 && !st.Layers[j].Has(encap.Interface) {
		j--
	}
	if j < 0 {
		return Warning{Code: WarnEthernetOrder, Message: fmt.Sprintf("%s outside any tunnel counts the link's own Ethernet header, which never takes room from the IP MTU (the link MTU is already the IP MTU): did you mean %q?", e.Spec, replaceLayers(st, i, i, ""))}
	}
	t := &st.Layers[j]
	if t.Has(encap.CarriesEthernet) {
		return Warning{Code: WarnEthernetOrder, Message: fmt.Sprintf("%s already counts the inner Ethernet header: %s inside it counts it twice. Did you mean %q?", t.Spec, e.Spec, replaceLayers(st, i, i, ""))}
	}
	msg := fmt.Sprintf("no device puts Ethernet frames (%s) inside %s, which carries IP packets", e.Spec, t.Spec)
	carries := func(v *encap.Layer) bool { return v.Has(encap.CarriesEthernet) }
	for _, cand := range []string{withArg(t.Spec, "eth"), withArg(t.Spec, "tap"), t.Name + "tap" + strings.TrimPrefix(t.Spec, t.Name)} {
		if v, ok := variant(cand, carries); ok {
			// the eth layer goes too: the variant counts the Ethernet header
			fixed, err := encap.Parse(replaceLayers(st, j, j, v))
			if err != nil { // a canonical spec longer than a spec may be
				return Warning{Code: WarnEthernetOrder, Message: msg + fmt.Sprintf(": for Ethernet over it, use %s", v)}
			}
			return Warning{Code: WarnEthernetOrder, Message: msg + fmt.Sprintf(": for Ethernet over it, did you mean %q?", replaceLayers(fixed, i, i, ""))}
		}
	}
	return Warning{Code: WarnEthernetOrder, Message: msg + fmt.Sprintf(", and has no variant that carries Ethernet: drop %s", e.Spec)}
}

// variant parses a one-layer spec and returns its canonical spelling if it
// parses and ok holds for it.
func variant(spec string, ok func(*encap.Layer) bool) (string, bool) {
	s, err := encap.Parse(spec)
	if err != nil || len(s.Layers) != 1 || !ok(&s.Layers[0]) {
		return "", false
	}
	return s.Layers[0].Spec, true
}

// withArg adds a flag argument to a layer spec: gre(key) -> gre(key,ipv6).
func withArg(spec, arg string) string {
	if strings.HasSuffix(spec, ")") {
		return spec[:len(spec)-1] + "," + arg + ")"
	}
	return spec + "(" + arg + ")"
}

// replaceLayers is st's spec with layers from..to (inclusive) replaced by
// spec ("" removes them).
func replaceLayers(st *encap.Stack, from, to int, spec string) string {
	var parts []string
	for k := range st.Layers {
		switch {
		case k < from || k > to:
			parts = append(parts, st.Layers[k].Spec)
		case k == to && spec != "":
			parts = append(parts, spec)
		}
	}
	return strings.Join(parts, "/")
}
