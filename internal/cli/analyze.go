package cli

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/capture"
)

type analyzeOptions struct {
	json, flows bool
	maxFlows    int
	progress    string
}

// progressMin is the input size above which a terminal gets a progress bar.
const progressMin = 64 << 20

func init() {
	register(func(env *Env) *cobra.Command {
		o := &analyzeOptions{}
		c := &cobra.Command{
			Use:   "analyze FILE",
			Short: "Find MTU and MSS trouble in a pcap or pcapng capture",
			Long: `analyze reads a capture (pcap or pcapng, gzip allowed, "-" for stdin) and
reports what is wrong with MTU and MSS, worst first, each finding with a stable
code, the flow, the evidence packets (tshark frame numbers) and a fix:

` + capture.CodesHelp() + `

The summary gives the path MTU the capture implies and the MSS to clamp to.`,
			Example: `  mtukit analyze trace.pcap
  mtukit analyze trace.pcapng --flows
  tcpdump -i eth0 -w - | mtukit analyze -
  mtukit analyze trace.pcap.gz --json`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error { return runAnalyze(env, o, args[0]) },
		}
		f := c.Flags()
		f.BoolVar(&o.json, "json", false, "print the report as JSON")
		f.BoolVar(&o.flows, "flows", false, "also list the TCP flows (MSS, options, largest segment, DF, retransmissions)")
		f.IntVar(&o.maxFlows, "max-flows", 50000, "flows tracked at once; the least recently active are finished beyond it")
		f.StringVar(&o.progress, "progress", "auto", "progress bar on stderr: auto (a terminal and a file over 64 MiB), always, never")
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
	var in io.Reader
	var size int64
	name := path
	if path == "-" {
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
	return nil
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
