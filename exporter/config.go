package exporter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/plpmtud"
	"github.com/mtukit/mtukit/probe"
)

// Config is the exporter's YAML file: the modules a scrape picks by name
// and, optionally, the prefixes targets must lie in.
//
//	allowed_targets: [192.0.2.0/24, "2001:db8::/32"]   # optional
//	modules:
//	  udp:
//	    method: udp
//	    port: 4821
//	    timeout: 60s
type Config struct {
	// AllowedTargets, when not empty, is the allow-list: every address a
	// target resolves to must lie in one of these prefixes (a single
	// address is a /32 or /128), or the scrape is refused.
	AllowedTargets []Prefix           `yaml:"allowed_targets"`
	Modules        map[string]*Module `yaml:"modules"`
}

// Module is one way of probing, fixed by the configuration: a request
// chooses only a module and a target, never sizes, rates or ports.
type Module struct {
	// Method is icmp (default), udp or tcp (package probe).
	Method string `yaml:"method"`
	// Port is the responder's port (udp, tcp); probe.DefaultPort.
	Port int `yaml:"port"`
	// Token is the responder's shared token (udp).
	Token string `yaml:"token"`
	// Min and Max bound the search (IP packet sizes); 0 takes probe's
	// defaults (1200 or 1280, and the outgoing interface MTU).
	Min int `yaml:"min"`
	Max int `yaml:"max"`
	// Stack is the tunnel stack the recommended MSS clamp is for ("" a
	// plain link), in calc's syntax.
	Stack string `yaml:"stack"`
	// Timeout bounds one probe (the whole search), within the scrape's own
	// timeout; 120s.
	Timeout Duration `yaml:"timeout"`
	// ProbeTimeout is the probe timer: how long a probe may take to be
	// answered before it counts as lost; 1s.
	ProbeTimeout Duration `yaml:"probe_timeout"`
	// Family is ipv4, ipv6 or any (default: the first address the name
	// resolves to).
	Family string `yaml:"family"`
	// Hops locates the hop where large packets die (icmp only).
	Hops bool `yaml:"hops"`
	// Search is the plpmtud strategy; plpmtud.Default.
	Search string `yaml:"search"`
	// Retries is RFC 8899's MAX_PROBES; 3.
	Retries int `yaml:"retries"`
	// PTBConfirm is probe.Options.PTBConfirm.
	PTBConfirm int `yaml:"ptb_confirm"`
	// Rate is the most probes per second towards one target; 50.
	Rate float64 `yaml:"rate"`
	// Socket is raw, errqueue or empty (raw when permitted).
	Socket string `yaml:"socket"`
	// Remember re-validates each target's last answer before searching
	// (at most 2 probes on an unchanged path); default true.
	Remember *bool `yaml:"remember"`
}

// Duration is a time.Duration written as in Go and Prometheus ("60s",
// "1m30s", "500ms").
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as 60s", n.Line)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: duration %q: want a number and a unit, such as 60s", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// Prefix is an allow-list entry: a CIDR prefix or a single address.
type Prefix struct{ netip.Prefix }

// UnmarshalYAML reads "192.0.2.0/24", "2001:db8::/32" or an address.
func (p *Prefix) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a prefix such as 192.0.2.0/24", n.Line)
	}
	v, err := parsePrefix(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	p.Prefix = v
	return nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("allowed target %q: not a prefix such as 192.0.2.0/24", s)
		}
		if p.Addr().Is4In6() {
			return netip.Prefix{}, fmt.Errorf("allowed target %q: write IPv4 prefixes as such", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("allowed target %q: not an address or a prefix", s)
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Limits on a module.
const (
	defaultTimeout = 120 * time.Second
	maxTimeout     = 10 * time.Minute
)

// LoadFile reads and checks a configuration file.
func LoadFile(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads a configuration: unknown keys are refused (with their line),
// and every module is checked and given its defaults.
func Parse(b []byte) (*Config, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty configuration: want a modules: section")
		}
		return nil, oneLine(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("line %d: a second YAML document; want one", extra.Line)
	}
	if err := checkKeys(&root, reflect.TypeFor[Config](), ""); err != nil {
		return nil, err
	}
	var c Config
	if err := root.Decode(&c); err != nil {
		return nil, oneLine(err)
	}
	if len(c.Modules) == 0 {
		return nil, errors.New("no modules: want at least one under modules:")
	}
	for _, name := range c.ModuleNames() {
		m := c.Modules[name]
		if m == nil {
			return nil, fmt.Errorf("module %q: empty (write {} for all defaults)", name)
		}
		if err := m.check(); err != nil {
			return nil, fmt.Errorf("module %q: %w", name, err)
		}
	}
	return &c, nil
}

// ModuleNames lists the modules, sorted.
func (c *Config) ModuleNames() []string {
	names := make([]string, 0, len(c.Modules))
	for n := range c.Modules {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// oneLine flattens the YAML library's multi-line errors.
func oneLine(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return errors.New(strings.Join(te.Errors, "; "))
	}
	return errors.New(strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "\n", " "))
}

// checkKeys refuses mapping keys that t (a struct, or a map of structs)
// does not have, naming the key, its line and the keys that exist.
func checkKeys(n *yaml.Node, t reflect.Type, where string) error {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		return fmt.Errorf("line %d: YAML aliases are not supported here", n.Line)
	}
	switch t.Kind() {
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return nil
			}
			return fmt.Errorf("line %d: %s: want a mapping", n.Line, strings.TrimSpace(where))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := checkKeys(n.Content[i+1], t.Elem(), fmt.Sprintf("%s %q", strings.TrimSuffix(where, "s"), n.Content[i].Value)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		if t == reflect.TypeFor[Prefix]() {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return nil
			}
			return fmt.Errorf("line %d: %s: want a mapping of keys", n.Line, strings.TrimSpace(where))
		}
		known := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			known[tag] = f.Type
			names = append(names, tag)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := known[k.Value]
			if !ok {
				in := ""
				if where != "" {
					in = " in" + where
				}
				return fmt.Errorf("line %d: unknown key %q%s (known: %s)", k.Line, k.Value, in, strings.Join(names, ", "))
			}
			if err := checkKeys(n.Content[i+1], ft, where+" "+k.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// check validates a module and fills its defaults.
func (m *Module) check() error {
	if m.Method == "" {
		m.Method = probe.MethodICMP
	}
	switch m.Method {
	case probe.MethodICMP, probe.MethodUDP, probe.MethodTCP:
	default:
		return fmt.Errorf("method %q: want icmp, udp or tcp", m.Method)
	}
	if m.Port == 0 {
		m.Port = probe.DefaultPort
	}
	if m.Port < 1 || m.Port > 65535 {
		return fmt.Errorf("port %d: want 1..65535", m.Port)
	}
	if m.Token != "" && m.Method == probe.MethodICMP {
		return errors.New("token: only for the udp and tcp methods (the responder checks it)")
	}
	switch m.Family {
	case "", "any":
		m.Family = "any"
	case "ipv4", "ipv6":
	default:
		return fmt.Errorf("family %q: want ipv4, ipv6 or any", m.Family)
	}
	least := plpmtud.MinSize
	if m.Family == "ipv6" {
		least = 1280
	}
	if m.Min != 0 && (m.Min < least || m.Min > plpmtud.MaxSize) {
		return fmt.Errorf("min %d: want %d..%d", m.Min, least, plpmtud.MaxSize)
	}
	if m.Max != 0 && (m.Max < max(m.Min, least) || m.Max > plpmtud.MaxSize) {
		return fmt.Errorf("max %d: want %d..%d (not below min)", m.Max, max(m.Min, least), plpmtud.MaxSize)
	}
	if m.Stack != "" {
		if _, err := encap.Parse(m.Stack); err != nil {
			return fmt.Errorf("stack %q: %w", m.Stack, err)
		}
	}
	switch t := time.Duration(m.Timeout); {
	case t == 0:
		m.Timeout = Duration(defaultTimeout)
	case t < 0 || t > maxTimeout:
		return fmt.Errorf("timeout %s: want more than 0 and at most %s", t, maxTimeout)
	}
	switch t := time.Duration(m.ProbeTimeout); {
	case t == 0:
		m.ProbeTimeout = Duration(time.Second)
	case t < time.Millisecond || t > time.Minute:
		return fmt.Errorf("probe_timeout %s: want 1ms..1m", t)
	}
	if m.Hops && m.Method != probe.MethodICMP {
		return errors.New("hops: only with the icmp method")
	}
	if m.Search == "" {
		m.Search = plpmtud.Default
	}
	if _, ok := plpmtud.Lookup(m.Search); !ok {
		return fmt.Errorf("search %q: not a strategy (have %s)", m.Search, strings.Join(plpmtud.Names(), ", "))
	}
	if m.Retries == 0 {
		m.Retries = 3
	}
	if m.Retries < 1 || m.Retries > 16 {
		return fmt.Errorf("retries %d: want 1..16", m.Retries)
	}
	if m.PTBConfirm < 0 || m.PTBConfirm > 8 {
		return fmt.Errorf("ptb_confirm %d: want 0..8", m.PTBConfirm)
	}
	if m.Rate == 0 {
		m.Rate = 50
	}
	if !(m.Rate > 0 && m.Rate <= 100000) {
		return fmt.Errorf("rate %g: want probes per second in (0, 100000]", m.Rate)
	}
	switch m.Socket {
	case probe.SocketAuto, probe.SocketRaw, probe.SocketErrqueue:
	default:
		return fmt.Errorf("socket %q: want raw or errqueue", m.Socket)
	}
	if m.Remember == nil {
		t := true
		m.Remember = &t
	}
	return nil
}

// options are the probe options of a module for one destination.
func (m *Module) options(target string, addr netip.Addr, budget time.Duration) probe.Options {
	o := probe.Options{
		Target: target, Addr: addr, Method: m.Method, Search: m.Search,
		Min: m.Min, Max: m.Max, Timeout: time.Duration(m.ProbeTimeout), Retries: m.Retries,
		PTBConfirm: m.PTBConfirm, Rate: m.Rate, Port: m.Port, Stack: m.Stack, Socket: m.Socket,
		Hops: m.Hops, MaxDuration: budget,
	}
	if m.Token != "" {
		o.Token = []byte(m.Token)
	}
	if addr.Is6() && o.Min != 0 && o.Min < 1280 {
		o.Min = 1280 // a module for both families: IPv6 carries 1280 everywhere (RFC 8200)
	}
	return o
}
