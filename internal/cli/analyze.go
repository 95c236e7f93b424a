package cli

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/capture"
)

type analyzeOptions struct {
	json, flows bool
	maxFlows    int
	progress    string
	failOn      string
	live        string        // --live IF
	filter      string        // --filter EXPR (with --live)
	duration    time.Duration // --duration D (with --live)
	stream      string        // --stream auto|always|never
}

// progressMin is the input size above which a terminal gets a progress bar.
const progressMin = 64 << 20

func init() {
	register(func(env *Env) *cobra.Command {
		o := &analyzeOptions{}
		c := &cobra.Command{
			Use:   "analyze FILE|--live IF",
			Short: "Find MTU and MSS trouble in a pcap or pcapng capture",
			Long: `analyze reads a capture (pcap or pcapng, gzip allowed, "-" for stdin) and
reports what is wrong with MTU and MSS, worst first, each finding with a stable
code, the flow, the evidence packets (tshark frame numbers) and a fix:

` + capture.CodesHelp() + `

The summary gives the path MTU the capture implies and the MSS to clamp to.

Live input: --live IF reads an interface (Linux, root or CAP_NET_RAW) until
Ctrl-C or --duration, --filter takes a tcpdump expression (compiled by tcpdump);
"-" reads a capture as tcpdump writes it to a pipe. Both print each finding as
soon as its evidence is complete (a black hole once its third full-size
transmission stays unacknowledged; other findings when their flow closes or
idles), then the report of everything seen. With --json, one JSON object per
line: {"time":...,"finding":{...}} for each, {"report":{...}} last.
--stream never turns this off for a pipe (the report alone, as for a file).

Exit status: 0 when the report is printed, 2 for bad input (flags, a file that
is not a capture, one that breaks off: the report of what came before is still
printed), and with --fail-on warning|error, 1 when a finding of that severity
or worse is present (the report is printed all the same; live, a finding
printed early counts too; --fail-on never, the default, never exits 1 for a
finding).`,
			Example: `  mtukit analyze trace.pcap
  mtukit analyze trace.pcapng --flows
  tcpdump -i eth0 -w - | mtukit analyze -
  mtukit analyze --live eth0 --filter 'tcp or icmp or icmp6' --duration 10m
  mtukit analyze trace.pcap.gz --json
  mtukit analyze --fail-on error trace.pcap || echo "MTU trouble"`,
			Args: cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := o.check(cmd, args); err != nil {
					return err
				}
				if o.live != "" {
					return runAnalyzeLive(env, o)
				}
				return runAnalyze(env, o, args[0])
			},
		}
		f := c.Flags()
		f.BoolVar(&o.json, "json", false, "print the report as JSON")
		f.BoolVar(&o.flows, "flows", false, "also list the TCP flows (MSS, options, largest segment, DF, retransmissions)")
		f.IntVar(&o.maxFlows, "max-flows", 50000, "flows tracked at once; the least recently active are finished beyond it")
		f.StringVar(&o.progress, "progress", "auto", "progress bar on stderr: auto (a terminal and a file over 64 MiB), always, never")
		f.StringVar(&o.failOn, "fail-on", "never", "exit 1 when a finding of this severity or worse is present: warning, error, never")
		f.StringVar(&o.live, "live", "", "read the live interface IF instead of a file (Linux)")
		f.StringVar(&o.filter, "filter", "", "with --live: capture filter, tcpdump syntax (compiled by tcpdump)")
		f.DurationVar(&o.duration, "duration", 0, "with --live: stop after this long (default: at Ctrl-C)")
		f.StringVar(&o.stream, "stream", "auto", "print findings as they complete: auto (--live, or - from a pipe), always (files too), never")
		return c
	})
}

func runAnalyze(env *Env, o *analyzeOptions, path string) error {
	// A batch run whose live memory is bounded (--max-flows caps the flow
	// table): a GC target of 400% spares the collector's first cycles,
	// which on a short run mostly scan gopacket's 2.6 MB tables. GOGC in
	// the environment wins.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	if o.maxFlows < 1 {
		return usagef("--max-flows %d: want at least 1", o.maxFlows)
	}
	switch o.progress {
	case "auto", "always", "never":
	default:
		return usagef("--progress %q: want auto, always or never", o.progress)
	}
	failOn, err := parseFailOn(o.failOn)
	if err != nil {
		return err
	}
	var in io.Reader
	var size int64
	name := path
	if path == "-" {
		if o.stream == "always" || o.stream == "auto" && isPipe(env.Stdin) {
			return runAnalyzeStream(env, o, failOn, env.Stdin, "stdin", true)
		}
		in, name = env.Stdin, "stdin"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return usagef("%v", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			if st.IsDir() {
				return usagef("%s is a directory, not a capture", path)
			}
			size = st.Size()
		}
		in = f
		if o.stream == "always" {
			return runAnalyzeStream(env, o, failOn, f, path, false)
		}
	}
	opt := capture.Options{Name: name, MaxFlows: o.maxFlows}
	bar := o.progress == "always" || (o.progress == "auto" && size >= progressMin && isTerminal(env.Stderr))
	if bar {
		opt.Progress = func(done int64) { drawProgress(env.Stderr, name, done, size) }
	}
	rep, err := capture.Analyze(in, opt)
	if bar {
		fmt.Fprint(env.Stderr, "\r\033[K")
	}
	if rep.Packets == 0 && err != nil {
		return asUsage(fmt.Errorf("%s: %w", name, err)) // nothing to report: just the error
	}
	if !o.flows {
		rep.FlowTable = nil
		rep.FlowsOmitted = 0
	}
	if o.json {
		if werr := writeJSON(env.Stdout, rep); werr != nil {
			return werr
		}
	} else if werr := rep.WriteText(env.Stdout, o.flows); werr != nil {
		return werr
	}
	if err != nil {
		return asUsage(fmt.Errorf("%s: %w (the report covers the packets before it)", name, err))
	}
	return failed(failOn, rep.Findings)
}

// failNever is the --fail-on threshold that no finding reaches.
const failNever = capture.SeverityError + 1

// parseFailOn reads --fail-on: the least severity that makes analyze exit 1.
func parseFailOn(s string) (capture.Severity, error) {
	switch s {
	case "never":
		return failNever, nil
	case "warning":
		return capture.SeverityWarning, nil
	case "error":
		return capture.SeverityError, nil
	}
	return 0, usagef("--fail-on %q: want warning, error or never", s)
}

// failed is the error (exit status 1) when a finding reaches the
// --fail-on threshold: one line naming how many and their codes.
func failed(threshold capture.Severity, fs []capture.Finding) error {
	n := 0
	var codes []string
	for _, f := range fs {
		if f.Severity >= threshold {
			n++
			if !slices.Contains(codes, f.Code) {
				codes = append(codes, f.Code)
			}
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%d finding%s at or above %s (--fail-on): %s", n, plural(n), threshold, strings.Join(codes, ", "))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// isTerminal reports whether w is a character device (a terminal, in
// practice: the progress bar only ever goes to stderr).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func drawProgress(w io.Writer, name string, done, total int64) {
	const width = 30
	if total <= 0 {
		fmt.Fprintf(w, "\r\033[Kanalyzing %s: %d MiB", name, done>>20)
		return
	}
	frac := min(float64(done)/float64(total), 1)
	n := int(frac * width)
	fmt.Fprintf(w, "\r\033[Kanalyzing %s [%s%s] %3.0f%%", name, strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100)
}
