package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/capture"
	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/mss"
)

type clampOptions struct {
	in, out, rule, synMSS, family string
	mssVal, mtu                   int
	insert, json, explain         bool
	inPlace, fifo                 bool
}

func init() {
	register(func(env *Env) *cobra.Command {
		o := &clampOptions{}
		c := &cobra.Command{
			Use:   "clamp",
			Short: "Rewrite the MSS of SYNs in a pcap/pcapng file as a clamping router does",
			Long: `clamp rewrites the MSS option of every TCP SYN and SYN-ACK in a capture exactly as a
Linux router clamping with iptables TCPMSS (--rule tcpmss, the default) or nftables
"tcp option maxseg size set" (--rule nft) would: lowered to the target, never raised,
TCP checksum updated incrementally (RFC 1624). With --insert, a SYN without an MSS
option gets one, as the TCPMSS target does (min(target, 536 / 1220), only when the
SYN carries no data and has room for it).

The target is --mss N, or --mtu N for MTU-40 (IPv4) and MTU-60 (IPv6) per packet,
like --clamp-mss-to-pmtu. The output keeps the input's format (pcap or pcapng),
link types, timestamps and every packet it does not rewrite byte for byte. Packets
it cannot parse are counted and passed through untouched; nothing is dropped.
pcap is written little-endian at the input's resolution; pcapng keeps interfaces,
section and packet options, writes timestamps at nanosecond resolution (the same
instants) and does not copy name-resolution, statistics or secrets blocks.
Tunnelled TCP (GRE, VXLAN...) is not entered: a router clamps the inner SYNs on the
tunnel interface.

--out is replaced only when it is a regular file (or not there yet), through a
temporary file renamed over it when complete; a device, directory, symbolic link or
socket is refused, and so is the input file itself unless --in-place. --out - writes
the capture to stdout (the report then goes to stderr); --fifo writes into an existing
named pipe. --in - reads stdin.

--explain prints what the rule does to a SYN with --syn-mss N (or "none"), and why.`,
			Example: `  mtukit clamp --in syn.pcap --out clamped.pcap --mss 1360
  mtukit clamp --in trace.pcapng --out fixed.pcapng --mtu 1400 --insert --json
  mtukit clamp --explain --syn-mss 1460 --mtu 1400
  mtukit clamp --explain --syn-mss none --mss 1360 --insert --family ipv6`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runClamp(env, o, cmd.Flags().Changed("mss"), cmd.Flags().Changed("mtu"))
			},
		}
		f := c.Flags()
		f.StringVar(&o.in, "in", "", "input capture (pcap or pcapng; - reads stdin)")
		f.StringVar(&o.out, "out", "", "output capture: a regular file, written to a temporary file and renamed when complete; - writes to stdout (the report goes to stderr)")
		f.BoolVar(&o.inPlace, "in-place", false, "allow --out to be the input file (or omit --out): replace it when complete")
		f.BoolVar(&o.fifo, "fifo", false, "--out is an existing named pipe: write into it as the packets come")
		f.IntVar(&o.mssVal, "mss", 0, "clamp to this MSS (1..65535)")
		f.IntVar(&o.mtu, "mtu", 0, "clamp to MTU-40 (IPv4) / MTU-60 (IPv6), like --clamp-mss-to-pmtu")
		f.BoolVar(&o.insert, "insert", false, "add an MSS option to SYNs without one, as iptables TCPMSS does")
		f.StringVar(&o.rule, "rule", "tcpmss", "clamping semantics: tcpmss (iptables) or nft")
		f.BoolVar(&o.json, "json", false, "print the report as JSON")
		f.BoolVar(&o.explain, "explain", false, "explain what the rule does to a SYN with --syn-mss")
		f.StringVar(&o.synMSS, "syn-mss", "", `with --explain: the SYN's MSS option, or "none"`)
		f.StringVar(&o.family, "family", "both", "with --explain: ipv4, ipv6 or both")
		return c
	})
}

func runClamp(env *Env, o *clampOptions, mssSet, mtuSet bool) error {
	c := mss.Clamper{Insert: o.insert}
	switch strings.ToLower(o.rule) {
	case "tcpmss", "iptables", "xt":
		c.Rule = mss.RuleTCPMSS
	case "nft", "nftables":
		c.Rule = mss.RuleNFT
		if o.insert {
			return usagef("--insert: nftables never inserts an MSS option; use --rule tcpmss")
		}
	default:
		return usagef("--rule %q: want tcpmss or nft", o.rule)
	}
	var err error
	switch {
	case mssSet && mtuSet:
		return usagef("give either --mss or --mtu, not both")
	case mssSet:
		if c.Target, err = mss.MSSTarget(o.mssVal); err != nil {
			return usagef("--mss: %v", err)
		}
	case mtuSet:
		if c.Target, err = mss.MTUTarget(o.mtu); err != nil {
			return usagef("--mtu: %v", err)
		}
	default:
		return usagef("a target is needed: --mss N or --mtu N")
	}
	if o.explain {
		if o.in != "" || o.out != "" {
			return usagef("--explain takes no --in or --out")
		}
		return runClampExplain(env, o, c)
	}
	if o.synMSS != "" || o.family != "both" {
		return usagef("--syn-mss and --family go with --explain")
	}
	if o.inPlace && o.out == "" {
		o.out = o.in
	}
	if o.in == "" || o.out == "" {
		return usagef("--in and --out are required (or --explain)")
	}
	if o.inPlace && (o.in == "-" || o.out == "-" || o.fifo) {
		return usagef("--in-place replaces a file: not with -, or --fifo")
	}
	rep, err := clampFile(env, o, &c)
	if err != nil {
		return err
	}
	w := env.Stdout
	if o.out == "-" { // stdout has the capture
		w = env.Stderr
	}
	if o.json {
		return writeJSON(w, rep)
	}
	return writeClampText(w, rep)
}

func runClampExplain(env *Env, o *clampOptions, c mss.Clamper) error {
	if o.synMSS == "" {
		return usagef("--explain needs --syn-mss N (or none)")
	}
	syn := 0
	if !strings.EqualFold(o.synMSS, "none") {
		n, err := strconv.Atoi(o.synMSS)
		if err != nil || n < 1 || n > 65535 {
			return usagef("--syn-mss %q: want 1..65535 or none", o.synMSS)
		}
		syn = n
	}
	var fams []encap.Family
	switch strings.ToLower(o.family) {
	case "both":
		fams = []encap.Family{encap.IPv4, encap.IPv6}
	case "ipv4", "4":
		fams = []encap.Family{encap.IPv4}
	case "ipv6", "6":
		fams = []encap.Family{encap.IPv6}
	default:
		return usagef("--family %q: want ipv4, ipv6 or both", o.family)
	}
	var out []mss.Explanation
	for _, f := range fams {
		e, err := mss.Explain(f, syn, c)
		if err != nil {
			return usagef("%v", err)
		}
		out = append(out, e)
	}
	if o.json {
		return writeJSON(env.Stdout, out)
	}
	w := env.Stdout
	for i, e := range out {
		if i > 0 {
			fmt.Fprintln(w)
		}
		synDesc := "no MSS option"
		if e.SYNMSS > 0 {
			synDesc = fmt.Sprintf("MSS %d", e.SYNMSS)
		}
		res := "no MSS option"
		if e.ResultMSS > 0 {
			res = fmt.Sprintf("MSS %d", e.ResultMSS)
		}
		fmt.Fprintf(w, "%s SYN with %s, %s, rule %s: %s -> %s\n", e.Family, synDesc, c.Target, e.Rule, e.Action, res)
		for _, s := range e.Steps {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	return nil
}

func writeClampText(w io.Writer, r *capture.ClampReport) error {
	ins := "off"
	if r.Insert {
		ins = "on"
	}
	fmt.Fprintf(w, "%s -> %s (%s)\n", r.In, r.Out, r.Format)
	fmt.Fprintf(w, "target: %s = MSS %d for ipv4, %d for ipv6; rule %s; insert %s\n", r.Target, r.TargetIPv4, r.TargetIPv6, r.Rule, ins)
	for _, row := range []struct {
		k string
		v int
	}{
		{"packets_in", r.PacketsIn}, {"packets_out", r.PacketsOut}, {"syn_seen", r.SYNSeen},
		{"clamped", r.Clamped}, {"inserted", r.Inserted}, {"unchanged", r.Unchanged},
		{"unparsed", r.Unparsed}, {"not_syn", r.NotSYN},
	} {
		fmt.Fprintf(w, "%-12s %d\n", row.k, row.v)
	}
	keys := make([]string, 0, len(r.UnchangedReasons))
	for k := range r.UnchangedReasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  unchanged (%s): %d\n", k, r.UnchangedReasons[k])
	}
	for _, u := range r.UnparsedPackets {
		fmt.Fprintf(w, "  unparsed packet %d: %s\n", u.Packet, u.Detail)
	}
	if r.Unparsed > len(r.UnparsedPackets) {
		fmt.Fprintf(w, "  (%d more unparsed packets)\n", r.Unparsed-len(r.UnparsedPackets))
	}
	for _, l := range r.UnsupportedLinkTypes {
		fmt.Fprintf(w, "  link type %s is not supported: its packets were passed through\n", l)
	}
	return nil
}

// clampTarget is where clamp writes, checked before anything is read:
// stdout ("-"), a named pipe (with --fifo), or a regular file (or a name
// not yet taken), replaced through a temporary file only when complete.
// Anything else (a device node, a directory, a socket, a symbolic link) is
// refused: as root, renaming over /dev/null would destroy it (issue 14
// item 7).
func clampTarget(o *clampOptions) (pipe bool, err error) {
	if o.out == "-" {
		return false, nil
	}
	fi, err := os.Lstat(o.out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(o.out)
		if di, err := os.Stat(dir); err != nil || !di.IsDir() {
			return false, usagef("--out %s: directory %s does not exist", o.out, dir)
		}
		if o.fifo {
			return false, usagef("--out %s: --fifo writes into an existing named pipe (mkfifo it first)", o.out)
		}
		return false, nil
	case err != nil:
		return false, usagef("--out %s: %v", o.out, pathErr(err))
	}
	mode := fi.Mode()
	switch {
	case mode.Type() == fs.ModeNamedPipe && o.fifo:
		return true, nil
	case mode.Type() == fs.ModeNamedPipe:
		return false, usagef("--out %s is a named pipe: give --fifo to write into it", o.out)
	case o.fifo:
		return false, usagef("--out %s: --fifo wants a named pipe, not %s", o.out, fileKind(mode))
	case !mode.IsRegular():
		return false, usagef("--out %s is %s, not a regular file: clamp replaces only regular files (--out - writes to stdout)", o.out, fileKind(mode))
	}
	if o.in == "-" {
		return false, nil
	}
	in, err := os.Stat(o.in)
	if err == nil && os.SameFile(in, fi) && !o.inPlace {
		return false, usagef("--out %s is the input file: give --in-place to replace it", o.out)
	}
	return false, nil
}

// fileKind names a file type for an error.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// pathErr is err without the path of a *PathError or *LinkError: the
// caller names the user's path, never the temporary file's (issue 14 item 9).
func pathErr(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// clampFile rewrites o.in to o.out: stdout for "-", straight into a named
// pipe with --fifo, otherwise through a temporary file in out's directory,
// renamed over out only when everything was written.
func clampFile(env *Env, o *clampOptions, c *mss.Clamper) (*capture.ClampReport, error) {
	pipe, err := clampTarget(o)
	if err != nil {
		return nil, err
	}
	in, out := o.in, o.out
	var src io.Reader = env.Stdin
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return nil, usagef("--in %s: %v", in, pathErr(err))
		}
		defer f.Close()
		src = f
	}
	inputErr := func(err error) error {
		var ie *capture.InputError
		if errors.As(err, &ie) {
			return asUsage(fmt.Errorf("%s: %w", in, err))
		}
		return fmt.Errorf("--out %s: %v", out, pathErr(err))
	}
	if out == "-" || pipe {
		var dst io.Writer = env.Stdout
		if pipe {
			f, err := os.OpenFile(out, os.O_WRONLY, 0)
			if err != nil {
				return nil, fmt.Errorf("--out %s: %v", out, pathErr(err))
			}
			defer f.Close()
			dst = f
		}
		rep, err := capture.Clamp(src, dst, c)
		if err != nil {
			return nil, inputErr(err)
		}
		rep.In, rep.Out = in, out
		return rep, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("--out %s: %v", out, pathErr(err))
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	rep, err := capture.Clamp(src, tmp, c)
	if err != nil {
		return nil, inputErr(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return nil, fmt.Errorf("--out %s: %v", out, pathErr(err))
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("--out %s: %v", out, pathErr(err))
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, fmt.Errorf("--out %s: %v", out, pathErr(err))
	}
	done = true
	rep.In, rep.Out = in, out
	return rep, nil
}
