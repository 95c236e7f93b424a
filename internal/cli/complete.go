package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/plpmtud"
	"github.com/mtukit/mtukit/plpmtud/sim"
	"github.com/mtukit/mtukit/tput"
)

// Shell completion of flag values (mtukit completion bash|zsh|fish|powershell
// prints the script). Every list comes from the table that owns it: the
// layer catalog, the presets, the vendor table, the strategy registry.

// valueLists are the flags whose values are a fixed list, by flag name; a
// command that has a flag of that name completes from it. comma: the flag
// takes a comma-separated list.
var valueLists = map[string]struct {
	values func(cmd *cobra.Command) []string
	comma  bool
}{
	"preset":   {func(*cobra.Command) []string { return presetChoices() }, false},
	"vendor":   {func(*cobra.Command) []string { return advise.Vendors }, true},
	"strategy": {func(*cobra.Command) []string { return append(plpmtud.Names(), "all") }, true},
	"search":   {func(*cobra.Command) []string { return plpmtud.Names() }, false},
	"method":   {func(*cobra.Command) []string { return []string{"icmp", "udp", "tcp"} }, false},
	"tunnel":   {tunnelChoices, false},
	"family":   {familyChoices, false},
	"too-big":  {func(*cobra.Command) []string { return []string{"blackhole", "pmtud", "fragment"} }, false},
	"model":    {func(*cobra.Command) []string { return []string{"pftk", "mathis"} }, false},
}

func presetChoices() []string {
	var out []string
	for _, p := range encap.Presets() {
		out = append(out, p.Name+"\t"+p.Title)
	}
	return out
}

// tunnelChoices: sim's --tunnel takes its own families (or all), tput's
// the tunnel types of package tput.
func tunnelChoices(cmd *cobra.Command) []string {
	if cmd.Name() == "sim" {
		return append(sim.TunnelNames(), "all")
	}
	return tput.TunnelTypes()
}

func familyChoices(cmd *cobra.Command) []string {
	if cmd.Name() == "clamp" {
		return []string{"ipv4", "ipv6", "both"}
	}
	return []string{"ipv4", "ipv6"}
}

// registerCompletions gives every command's flags their value completion.
func registerCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("stack") != nil {
			_ = c.RegisterFlagCompletionFunc("stack", func(_ *cobra.Command, _ []string, to string) ([]string, cobra.ShellCompDirective) {
				return completeStack(to), cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
			})
		}
		for name, l := range valueLists {
			if c.Flags().Lookup(name) == nil {
				continue
			}
			l, cmd := l, c
			_ = c.RegisterFlagCompletionFunc(name, func(_ *cobra.Command, _ []string, to string) ([]string, cobra.ShellCompDirective) {
				dir := cobra.ShellCompDirectiveNoFileComp
				if l.comma {
					dir |= cobra.ShellCompDirectiveNoSpace
				}
				return completeList(l.values(cmd), to, l.comma), dir
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeList completes to from values ("value\tdescription" allowed); a
// comma list completes its last item.
func completeList(values []string, to string, comma bool) []string {
	head, cur := "", to
	if comma {
		if i := strings.LastIndexByte(to, ','); i >= 0 {
			head, cur = to[:i+1], to[i+1:]
		}
	}
	var out []string
	for _, v := range values {
		if strings.HasPrefix(v, cur) {
			out = append(out, head+v)
		}
	}
	return out
}

// completeStack completes the layer being typed after the last "/": a
// layer name (with its summary), or, inside "name(", one of its arguments.
func completeStack(to string) []string {
	head, cur := "", to
	depth := 0
	for i := 0; i < len(to); i++ {
		switch to[i] {
		case '(':
			depth++
		case ')':
			depth--
		case '/':
			if depth <= 0 {
				head, cur = to[:i+1], to[i+1:]
			}
		}
	}
	cat := encap.Catalog()
	var out []string
	if open := strings.IndexByte(cur, '('); open >= 0 {
		name := strings.ToLower(strings.TrimSpace(cur[:open]))
		inner := cur[open+1:]
		if strings.Contains(inner, ")") {
			return nil // the layer is complete: the next one starts after "/"
		}
		done, part := "", inner
		if i := strings.LastIndexByte(inner, ','); i >= 0 {
			done, part = inner[:i+1], inner[i+1:]
		}
		for _, d := range cat {
			if d.Name != name && !contains(d.Aliases, name) {
				continue
			}
			for _, a := range d.Args {
				if !strings.HasPrefix(a.Name, part) || strings.Contains(","+done, ","+a.Name+",") || strings.Contains(","+done, ","+a.Name+"=") {
					continue
				}
				arg := a.Name
				if a.Value != "" {
					arg += "="
				}
				out = append(out, head+cur[:open+1]+done+arg+"\t"+a.Doc)
			}
		}
		return out
	}
	for _, d := range cat {
		for _, n := range append([]string{d.Name}, d.Aliases...) {
			if strings.HasPrefix(n, strings.ToLower(cur)) {
				out = append(out, head+n+"\t"+shorten(d.Summary, 70))
			}
		}
	}
	return out
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
