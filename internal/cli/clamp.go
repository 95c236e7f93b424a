package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/mss"
)

type clampOptions struct {
	in, out, rule, synMSS, family string
	mssVal, mtu                   int
	insert, json, explain         bool
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
		f.StringVar(&o.in, "in", "", "input capture (pcap or pcapng)")
		f.StringVar(&o.out, "out", "", "output capture; written to a temporary file and renamed when complete")
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

// clampReport is what `mtukit clamp` prints, as text or JSON.
type clampReport struct {
	In         string `json:"in"`
	Out        string `json:"out"`
	Format     string `json:"format"`
	Target     string `json:"target"`
	TargetIPv4 int    `json:"target_mss_ipv4"`
	TargetIPv6 int    `json:"target_mss_ipv6"`
	Rule       string `json:"rule"`
	Insert     bool   `json:"insert"`

	PacketsIn  int `json:"packets_in"`
	PacketsOut int `json:"packets_out"`
	SYNSeen    int `json:"syn_seen"`
	Clamped    int `json:"clamped"`
	Inserted   int `json:"inserted"`
	Unchanged  int `json:"unchanged"`
	Unparsed   int `json:"unparsed"`
	// NotSYN counts the packets that are not TCP SYNs (passed through):
	// packets_in = syn_seen + unparsed + not_syn.
	NotSYN int `json:"not_syn"`
	// UnchangedReasons breaks unchanged SYNs down by reason.
	UnchangedReasons map[string]int `json:"unchanged_reasons,omitempty"`
	// UnparsedPackets are the 1-based indices (as tshark numbers frames)
	// of the first unparsed packets, with the reason.
	UnparsedPackets []clampUnparsed `json:"unparsed_packets,omitempty"`
	// UnsupportedLinkTypes are link types whose packets were all passed
	// through as unparsed.
	UnsupportedLinkTypes []string `json:"unsupported_link_types,omitempty"`
}

type clampUnparsed struct {
	Packet int    `json:"packet"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

const maxUnparsedListed = 20

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
	if o.in == "" || o.out == "" {
		return usagef("--in and --out are required (or --explain)")
	}
	rep, err := clampFile(o.in, o.out, &c)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(env.Stdout, rep)
	}
	return writeClampText(env.Stdout, rep)
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

func writeClampText(w io.Writer, r *clampReport) error {
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

// clampFile rewrites in to out through a temporary file in out's directory,
// renamed over out only when everything was written.
func clampFile(in, out string, c *mss.Clamper) (*clampReport, error) {
	src, err := os.Open(in)
	if err != nil {
		return nil, asUsage(fmt.Errorf("--in: %w", err))
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	rep, err := clampStream(src, tmp, c)
	if err != nil {
		var ie *inputError
		if errors.As(err, &ie) {
			return nil, asUsage(fmt.Errorf("%s: %w", in, err))
		}
		return nil, fmt.Errorf("%s: %w", out, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	done = true
	rep.In, rep.Out = in, out
	return rep, nil
}

// inputError is a problem with the input capture (bad input: exit 2).
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

func inputErrorf(format string, a ...any) error {
	return &inputError{fmt.Errorf(format, a...)}
}

// readErr turns a reader's error for packet n into a clear one.
func readErr(n int, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return inputErrorf("packet %d: file ends inside the packet (truncated capture)", n)
	}
	msg := err.Error()
	if msg != "" {
		msg = strings.ToLower(msg[:1]) + msg[1:]
	}
	return inputErrorf("packet %d: corrupt record: %s", n, msg)
}

// clampStream reads a pcap or pcapng stream, clamps its SYNs and writes
// the same format to w.
func clampStream(r io.Reader, w io.Writer, c *mss.Clamper) (*clampReport, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, inputErrorf("not a capture file: %d bytes", len(magic))
	}
	rep := &clampReport{
		Target: c.Target.String(), TargetIPv4: int(c.Target.MSS(encap.IPv4)), TargetIPv6: int(c.Target.MSS(encap.IPv6)),
		Rule: c.Rule.String(), Insert: c.Insert, UnchangedReasons: map[string]int{},
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	switch {
	case bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}):
		rep.Format = "pcapng"
		err = clampPcapng(br, bw, c, rep)
	case isPcapMagic(magic):
		rep.Format = "pcap"
		err = clampPcap(br, bw, c, rep)
	default:
		return nil, inputErrorf("not a pcap or pcapng file (magic %x)", magic)
	}
	if err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if len(rep.UnchangedReasons) == 0 {
		rep.UnchangedReasons = nil
	}
	return rep, nil
}

func isPcapMagic(m []byte) bool {
	for _, v := range [][]byte{{0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, {0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d}} {
		if bytes.Equal(m, v) {
			return true
		}
	}
	return false
}

// packetClamper clamps one packet at a time into a reused buffer with room
// for an inserted option, and counts.
type packetClamper struct {
	c   *mss.Clamper
	rep *clampReport
	buf []byte
	bad map[layers.LinkType]bool
}

func (pc *packetClamper) clamp(n int, data []byte, ci *gopacket.CaptureInfo, link layers.LinkType) []byte {
	pc.rep.PacketsIn++
	fr, ok := mss.LinkFraming(int(link))
	if !ok {
		pc.unparsed(n, "unsupported-link-type", "link type "+link.String()+" is not supported")
		if !pc.bad[link] {
			pc.bad[link] = true
			pc.rep.UnsupportedLinkTypes = append(pc.rep.UnsupportedLinkTypes, fmt.Sprintf("%d (%s)", int(link), link))
		}
		return data
	}
	if cap(pc.buf) < len(data)+4 {
		pc.buf = make([]byte, 0, len(data)+4+256)
	}
	buf := append(pc.buf[:0], data...)
	out, res := pc.c.Clamp(buf, fr)
	switch res.Action {
	case mss.ActionPass:
		pc.rep.NotSYN++
		return data
	case mss.ActionUnparsed:
		pc.unparsed(n, res.Reason.String(), res.Reason.Detail())
		return data
	case mss.ActionUnchanged:
		pc.rep.SYNSeen++
		pc.rep.Unchanged++
		pc.rep.UnchangedReasons[res.Reason.String()]++
		return data
	case mss.ActionClamped:
		pc.rep.SYNSeen++
		pc.rep.Clamped++
	case mss.ActionInserted:
		pc.rep.SYNSeen++
		pc.rep.Inserted++
		grow := len(out) - len(data)
		ci.CaptureLength += grow
		ci.Length += grow
	}
	return out
}

func (pc *packetClamper) unparsed(n int, why, detail string) {
	pc.rep.Unparsed++
	if len(pc.rep.UnparsedPackets) < maxUnparsedListed {
		pc.rep.UnparsedPackets = append(pc.rep.UnparsedPackets, clampUnparsed{Packet: n, Reason: why, Detail: detail})
	}
}

func clampPcap(r io.Reader, w io.Writer, c *mss.Clamper, rep *clampReport) error {
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return inputErrorf("pcap header: %v", err)
	}
	var pw *pcapgo.Writer
	if pr.Resolution() == gopacket.TimestampResolutionNanosecond {
		pw = pcapgo.NewWriterNanos(w)
	} else {
		pw = pcapgo.NewWriter(w)
	}
	link := pr.LinkType()
	if err := pw.WriteFileHeader(pr.Snaplen(), link); err != nil {
		return err
	}
	pc := &packetClamper{c: c, rep: rep, bad: map[layers.LinkType]bool{}}
	for n := 1; ; n++ {
		data, ci, err := pr.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return readErr(n, err)
		}
		out := pc.clamp(n, data, &ci, link)
		if err := pw.WritePacket(ci, out); err != nil {
			return err
		}
		rep.PacketsOut++
	}
	return nil
}

func clampPcapng(r io.Reader, w io.Writer, c *mss.Clamper, rep *clampReport) error {
	nr, err := pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{})
	if err != nil {
		return inputErrorf("pcapng section header: %v", lower(err))
	}
	var nw *pcapgo.NgWriter
	have := 0 // interfaces written so far
	pc := &packetClamper{c: c, rep: rep, bad: map[layers.LinkType]bool{}}
	for n := 1; ; n++ {
		data, ci, opts, err := nr.ZeroCopyReadPacketDataWithOptions()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return readErr(n, err)
		}
		intf, err := nr.Interface(ci.InterfaceIndex)
		if err != nil {
			return readErr(n, err)
		}
		if nw == nil {
			first, _ := nr.Interface(0)
			nw, err = pcapgo.NewNgWriterInterface(w, first, pcapgo.NgWriterOptions{SectionInfo: nr.SectionInfo()})
			if err != nil {
				return err
			}
			have = 1
		}
		// Interfaces are added in the input's order, so indices match.
		for ; have <= ci.InterfaceIndex; have++ {
			next, err := nr.Interface(have)
			if err != nil {
				return readErr(n, err)
			}
			if _, err := nw.AddInterface(next); err != nil {
				return err
			}
		}
		out := pc.clamp(n, data, &ci, intf.LinkType)
		if err := nw.WritePacketWithOptions(ci, out, opts); err != nil {
			return err
		}
		rep.PacketsOut++
	}
	if nw == nil { // no packets: still write the section and the interfaces
		first, err := nr.Interface(0)
		if err != nil {
			first = pcapgo.DefaultNgInterface
		}
		if nw, err = pcapgo.NewNgWriterInterface(w, first, pcapgo.NgWriterOptions{SectionInfo: nr.SectionInfo()}); err != nil {
			return err
		}
		for k := 1; k < nr.NInterfaces(); k++ {
			next, _ := nr.Interface(k)
			if _, err := nw.AddInterface(next); err != nil {
				return err
			}
		}
	}
	return nw.Flush()
}

func lower(err error) string {
	s := err.Error()
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
