package encap

import (
	"fmt"
	"strconv"
	"strings"
)

// SpecError is a stack spec that does not parse or does not make sense. Pos
// is the 1-based byte position of the offending layer or argument.
type SpecError struct {
	Spec string
	Pos  int
	Msg  string
	Hint string // a suggestion, e.g. `did you mean "esp"?`
}

func (e *SpecError) Error() string {
	s := fmt.Sprintf("stack %q: %s at position %d", e.Spec, e.Msg, e.Pos)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Stack is a parsed encapsulation stack, layers from the wire inwards.
type Stack struct {
	Layers []Layer
}

// Parse reads a stack spec: layers from the wire inwards joined by "/", each
// "name" or "name(arg,key=value,...)". An empty spec is a plain link.
func Parse(spec string) (*Stack, error) {
	s := &Stack{}
	if strings.TrimSpace(spec) == "" {
		return s, nil
	}
	if len(spec) > 4096 {
		return nil, &SpecError{Spec: spec[:32] + "...", Pos: 4097, Msg: "spec longer than 4096 bytes"}
	}
	for _, tok := range splitLayers(spec) {
		l, err := parseLayer(spec, tok)
		if err != nil {
			return nil, err
		}
		s.Layers = append(s.Layers, l)
	}
	if len(s.Layers) > 64 {
		return nil, &SpecError{Spec: spec, Pos: 1, Msg: "more than 64 layers"}
	}
	return s, nil
}

// MustParse is Parse for specs known to be valid; it panics otherwise.
func MustParse(spec string) *Stack {
	s, err := Parse(spec)
	if err != nil {
		panic(err)
	}
	return s
}

// String is the canonical spec of the stack.
func (s *Stack) String() string {
	parts := make([]string, len(s.Layers))
	for i := range s.Layers {
		parts[i] = s.Layers[i].Spec
	}
	return strings.Join(parts, "/")
}

type token struct {
	text string
	pos  int // 0-based offset in the spec
}

// splitLayers splits on "/" outside parentheses, keeping offsets.
func splitLayers(spec string) []token {
	var out []token
	depth, start := 0, 0
	for i := 0; i < len(spec); i++ {
		switch spec[i] {
		case '(':
			depth++
		case ')':
			depth--
		case '/':
			if depth <= 0 {
				out = append(out, token{spec[start:i], start})
				start = i + 1
			}
		}
	}
	return append(out, token{spec[start:], start})
}

func parseLayer(spec string, tok token) (Layer, error) {
	errAt := func(pos int, format string, a ...any) error {
		return &SpecError{Spec: spec, Pos: pos + 1, Msg: fmt.Sprintf(format, a...)}
	}
	text := tok.text
	lead := len(text) - len(strings.TrimLeft(text, " \t"))
	text = strings.TrimSpace(text)
	pos := tok.pos + lead
	if text == "" {
		return Layer{}, errAt(pos, "empty layer")
	}
	name, argText, argPos := text, "", -1
	if i := strings.IndexByte(text, '('); i >= 0 {
		if !strings.HasSuffix(text, ")") {
			return Layer{}, errAt(pos+i, "unclosed %q in layer %q", "(", text)
		}
		name, argText, argPos = strings.TrimSpace(text[:i]), text[i+1:len(text)-1], pos+i+1
		if strings.ContainsAny(argText, "()") {
			return Layer{}, errAt(pos+i, "nested parentheses in layer %q", name)
		}
	} else if strings.ContainsAny(text, ")") {
		return Layer{}, errAt(pos+strings.IndexByte(text, ')'), "unexpected %q", ")")
	}
	name = strings.ToLower(name)
	def, ok := lookup(name)
	if !ok {
		e := &SpecError{Spec: spec, Pos: pos + 1, Msg: fmt.Sprintf("unknown layer %q", name)}
		if s := suggest(name, layerNames()); s != "" {
			e.Hint = fmt.Sprintf("did you mean %q?", s)
		}
		return Layer{}, e
	}
	a := args{def: def, set: map[string]argVal{}}
	if argPos >= 0 && strings.TrimSpace(argText) != "" {
		off := argPos
		for _, raw := range strings.Split(argText, ",") {
			apos := off + len(raw) - len(strings.TrimLeft(raw, " \t"))
			off += len(raw) + 1
			item := strings.ToLower(strings.TrimSpace(raw))
			if item == "" {
				return Layer{}, errAt(apos, "empty argument to %s", def.name)
			}
			key, val, hasVal := strings.Cut(item, "=")
			key = strings.TrimSpace(key)
			val = strings.TrimSpace(val)
			ad, ok := def.arg(key)
			if !ok {
				e := &SpecError{Spec: spec, Pos: apos + 1, Msg: fmt.Sprintf("%s has no argument %q", def.name, key)}
				if s := suggest(key, def.argNames()); s != "" {
					e.Hint = fmt.Sprintf("did you mean %q?", s)
				}
				return Layer{}, e
			}
			av := argVal{pos: apos}
			switch {
			case ad.isInt && !hasVal:
				return Layer{}, errAt(apos, "%s argument %s needs a value (%s=N)", def.name, ad.name, ad.name)
			case !ad.isInt && hasVal:
				return Layer{}, errAt(apos, "%s argument %s takes no value", def.name, ad.name)
			case ad.isInt:
				n, err := strconv.Atoi(val)
				if err != nil {
					return Layer{}, errAt(apos, "%s argument %s=%q is not a number", def.name, ad.name, val)
				}
				if n < ad.min || n > ad.max || (ad.step > 1 && n%ad.step != 0) {
					return Layer{}, errAt(apos, "%s argument %s=%d out of range (%s)", def.name, ad.name, n, ad.rangeText())
				}
				av.n = n
			}
			if prev, dup := a.set[ad.name]; dup {
				return Layer{}, errAt(apos, "%s argument %s given twice (first at position %d)", def.name, ad.name, prev.pos+1)
			}
			if ad.group != "" {
				if other, clash := a.group(def, ad.group); clash {
					return Layer{}, errAt(apos, "%s arguments %s and %s exclude each other (both are a %s)", def.name, other, ad.name, ad.group)
				}
			}
			a.set[ad.name] = av
		}
	}
	l, err := def.build(a)
	if err != nil {
		return Layer{}, errAt(pos, "%s: %v", def.name, err)
	}
	l.Name = def.name
	l.RFC = def.rfc
	l.Traits |= def.traits | l.derivedTraits()
	l.Spec = canonical(def, a)
	for i := range l.Head {
		l.Head[i].Layer = l.Spec
	}
	for i := range l.Tail {
		l.Tail[i].Layer = l.Spec
	}
	return l, nil
}

// canonical renders the layer with its arguments in catalog order.
func canonical(def *layerDef, a args) string {
	var parts []string
	for _, ad := range def.args {
		v, ok := a.set[ad.name]
		if !ok {
			continue
		}
		if ad.isInt {
			parts = append(parts, fmt.Sprintf("%s=%d", ad.name, v.n))
		} else {
			parts = append(parts, ad.name)
		}
	}
	if len(parts) == 0 {
		return def.name
	}
	return def.name + "(" + strings.Join(parts, ",") + ")"
}

// suggest returns the candidate closest to s by edit distance, if close enough.
func suggest(s string, candidates []string) string { return Suggest(s, candidates, 2) }

// Suggest returns the candidate closest to s (edit distance; a prefix either
// way counts 1), when it is within max(tolerance, len(s)/3) edits: the "did
// you mean" of layer, argument and preset names, and of the CLI's flags.
func Suggest(s string, candidates []string, tolerance int) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(s, c)
		if strings.HasPrefix(c, s) || strings.HasPrefix(s, c) {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(tolerance, len(s)/3) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
