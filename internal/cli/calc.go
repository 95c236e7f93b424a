package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/encap"
)

type calcOptions struct {
	stack, tcpOpts, family, iface, phys, vendor, preset string
	mtu, packet                                         int
	json, list, listPresets                             bool
	mtuSet, familySet                                   bool
}

func init() {
	register(func(env *Env) *cobra.Command {
		o := &calcOptions{}
		c := &cobra.Command{
			Use:   "calc",
			Short: "Exact tunnel MTU, MSS clamp, overhead, warnings and router config for a stack",
			Long: `calc solves an encapsulation stack exactly: the largest inner IP packet that fits
the link (the tunnel MTU), the MSS to clamp per family (RFC 6691), the overhead
range where padding varies, warnings, a segmentation blueprint and configuration
for Linux, Cisco, Juniper, Palo Alto, MikroTik and VyOS.

The stack is written from the wire inwards, layers joined by "/", each "name" or
"name(arg,key=value)"; see --list.`,
			Example: `  mtukit calc --stack 'pppoe/esp(aes-gcm-16)/gre'
  mtukit calc --stack 'esp(aes-cbc,sha256,nat-t)/gre(key)' --mtu 1492 --json
  mtukit calc --stack vxlan --packet 1500
  mtukit calc --preset wg-quick
  mtukit calc --list
  mtukit calc --list-presets`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				o.mtuSet, o.familySet = cmd.Flags().Changed("mtu"), cmd.Flags().Changed("family")
				// advise takes an MTU of 0 as its default (1500): an
				// explicit 0 is a mistake, not a request for the default
				if o.mtuSet && o.mtu <= 0 {
					return usagef("--mtu: link MTU %d outside 68..65535", o.mtu)
				}
				return runCalc(env, o)
			},
		}
		f := c.Flags()
		f.StringVarP(&o.stack, "stack", "s", "", "encapsulation stack, wire inwards (empty: a plain link)")
		f.IntVarP(&o.mtu, "mtu", "m", 1500, "IP MTU of the link the stack rides on (68..65535)")
		f.IntVar(&o.packet, "packet", 0, "also show the wire size and breakdown of an inner packet of N bytes")
		f.StringVar(&o.tcpOpts, "tcp-options", advise.DefaultTCPOptions, "options on each data segment: ts, sack=N, md5, ao=N, none")
		f.StringVar(&o.family, "family", "ipv4", "inner family for efficiency and blueprint: ipv4 or ipv6")
		f.StringVar(&o.preset, "preset", "", "a named setup (stack, link MTU and the vendor's published figure); see --list-presets")
		f.StringVar(&o.iface, "interface", "", "tunnel interface name used in the configuration lines (default: the layer's own, e.g. wg0, gre1, vxlan0, ppp0)")
		f.StringVar(&o.phys, "physical", "eth0", "physical interface name used in the configuration lines")
		f.StringVar(&o.vendor, "vendor", "", "show configuration for these vendors only (comma list: "+strings.Join(advise.Vendors, ", ")+")")
		f.BoolVar(&o.json, "json", false, "print the report as JSON")
		f.BoolVar(&o.list, "list", false, "list every layer and argument with its bytes and source")
		f.BoolVar(&o.listPresets, "list-presets", false, "list the named setups with their published figures and sources")
		return c
	})
}

func runCalc(env *Env, o *calcOptions) error {
	if o.list {
		return writeCatalog(env, o.json)
	}
	if o.listPresets {
		return writePresets(env, o.json)
	}
	if o.preset != "" && o.stack != "" {
		return usagef("--preset %s and --stack %q both given: the preset sets the stack; give one of them", o.preset, o.stack)
	}
	opts := advise.Options{Stack: o.stack, LinkMTU: o.mtu, Packet: o.packet, Interface: o.iface, Physical: o.phys, Preset: o.preset}
	if o.preset != "" && !o.mtuSet {
		opts.LinkMTU = 0 // the preset's
	}
	var err error
	if opts.TCP, err = advise.ParseTCPOptions(o.tcpOpts); err != nil {
		return usagef("--tcp-options: %v", err)
	}
	if opts.Family, err = encap.ParseFamily(o.family); err != nil {
		return usagef("--family %v", err)
	}
	if o.preset != "" && !o.familySet {
		opts.Family = 0 // the preset's
	}
	var vendors []string
	if o.vendor != "" {
		for _, v := range strings.Split(o.vendor, ",") {
			v = strings.TrimSpace(strings.ToLower(v))
			ok := false
			for _, known := range advise.Vendors {
				if known == v || strings.HasPrefix(known, v) {
					ok = true
				}
			}
			if !ok {
				return usagef("--vendor %q: want one of %s", v, strings.Join(advise.Vendors, ", "))
			}
			vendors = append(vendors, v)
		}
	}
	r, err := advise.Calc(opts)
	if err != nil {
		return asUsage(err)
	}
	if o.json {
		return writeJSON(env.Stdout, r)
	}
	return r.WriteText(env.Stdout, vendors)
}

func writeCatalog(env *Env, asJSON bool) error {
	cat := encap.Catalog()
	if asJSON {
		return writeJSON(env.Stdout, cat)
	}
	w := env.Stdout
	fmt.Fprintln(w, "Layers, from the wire inwards in a spec; bytes are what each takes from a 1500-byte link")
	fmt.Fprintln(w, "(the minimum where padding varies; '-' where the argument needs another).")
	for _, d := range cat {
		name := d.Name
		if len(d.Aliases) > 0 {
			name += " (" + strings.Join(d.Aliases, ", ") + ")"
		}
		fmt.Fprintf(w, "\n%-28s %5d  [%s]\n", name, d.Bytes, d.RFC)
		fmt.Fprintf(w, "  %s\n", d.Summary)
		for _, a := range d.Args {
			arg := a.Name
			if a.Value != "" {
				arg += "=N"
			}
			bytes := fmt.Sprint(a.Bytes)
			if a.Bytes < 0 {
				bytes = "-"
			}
			doc := a.Doc
			if a.Value != "" {
				doc += " " + strings.TrimPrefix(a.Value, "N ")
			}
			fmt.Fprintf(w, "    %-24s %5s  %s\n", arg, bytes, doc)
		}
	}
	return nil
}

// writePresets prints the preset table: each setup, its stack, and the
// figure its vendor publishes beside mtukit's.
func writePresets(env *Env, asJSON bool) error {
	ps := encap.Presets()
	type row struct {
		encap.Preset
		Computed int `json:"computed"`
	}
	rows := make([]row, len(ps))
	for i, p := range ps {
		got, err := p.Computed()
		if err != nil {
			return err
		}
		rows[i] = row{p, got}
	}
	if asJSON {
		return writeJSON(env.Stdout, rows)
	}
	w := env.Stdout
	fmt.Fprintln(w, "Presets: mtukit calc --preset NAME (tput takes --preset too). Each is a stack on a link, with the")
	fmt.Fprintln(w, "figure its vendor publishes; where mtukit's differs, the note says why.")
	for _, r := range rows {
		fmt.Fprintf(w, "\n%-26s %s\n", r.Name, r.Title)
		fmt.Fprintf(w, "  stack %s on a %d-byte link (%s)\n", r.Stack, r.LinkMTU, r.Family)
		verdict := "mtukit agrees"
		if r.Computed != r.Published.Value {
			verdict = fmt.Sprintf("mtukit: %d", r.Computed)
		}
		fmt.Fprintf(w, "  published %s %d; %s\n", r.Published.Quantity, r.Published.Value, verdict)
		if r.Note != "" {
			fmt.Fprintf(w, "  note: %s\n", r.Note)
		}
		fmt.Fprintf(w, "  source: %s <%s>\n", r.Source.Title, r.Source.URL)
	}
	return nil
}
