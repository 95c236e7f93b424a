package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/capture"
)

// check validates the flags that depend on each other.
func (o *analyzeOptions) check(cmd *cobra.Command, args []string) error {
	switch o.stream {
	case "auto", "always", "never":
	default:
		return usagef("--stream %q: want auto, always or never", o.stream)
	}
	if o.live != "" {
		if len(args) > 0 {
			return usagef("--live %s reads the interface: no FILE (%s) with it", o.live, args[0])
		}
		if o.duration < 0 {
			return usagef("--duration %v: want a positive duration", o.duration)
		}
		return nil
	}
	if len(args) == 0 {
		return usagef("accepts 1 arg(s), received 0: a capture FILE, - for stdin, or --live IF")
	}
	for _, name := range []string{"filter", "duration"} {
		if cmd.Flags().Changed(name) {
			return usagef("--%s goes with --live", name)
		}
	}
	return nil
}

// isPipe reports whether r is a pipe, socket or terminal rather than a
// regular file: a capture that arrives as it is taken.
func isPipe(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && !st.Mode().IsRegular()
}

// streamPrinter prints a stream's findings as they come and its report at
// the end, as text or JSON lines.
type streamPrinter struct {
	env   *Env
	json  bool
	quiet bool             // --stream never: the report alone, as for a file
	worst capture.Severity // worst finding handed out
	n     int
	err   error
}

func (p *streamPrinter) event(e capture.Event) {
	if p.n == 0 || e.Finding.Severity > p.worst {
		p.worst = e.Finding.Severity
	}
	p.n++
	if p.err != nil || p.quiet {
		return
	}
	if p.json {
		b, err := json.Marshal(e)
		if err == nil {
			_, err = p.env.Stdout.Write(append(b, '\n'))
		}
		p.err = err
		return
	}
	p.err = e.WriteText(p.env.Stdout)
}

// report prints the final report: text, or one JSON line {"report": ...}.
func (p *streamPrinter) report(rep *capture.Report, flows bool) error {
	if p.err != nil {
		return p.err
	}
	if !flows {
		rep.FlowTable = nil
		rep.FlowsOmitted = 0
	}
	if p.quiet {
		if p.json {
			return writeJSON(p.env.Stdout, rep)
		}
		return rep.WriteText(p.env.Stdout, flows)
	}
	if p.json {
		b, err := json.Marshal(struct {
			Report *capture.Report `json:"report"`
		}{rep})
		if err != nil {
			return err
		}
		_, err = p.env.Stdout.Write(append(b, '\n'))
		return err
	}
	if p.n > 0 {
		fmt.Fprintln(p.env.Stdout, "--- report of everything seen ---")
	}
	return rep.WriteText(p.env.Stdout, flows)
}

// verdict is the --fail-on error over the report and what was handed out
// early (a black hole told live stays a reason to fail even if the flow
// later recovered).
func (p *streamPrinter) verdict(threshold capture.Severity, rep *capture.Report) error {
	if err := failed(threshold, rep.Findings); err != nil {
		return err
	}
	if p.n > 0 && p.worst >= threshold {
		return fmt.Errorf("findings at or above %s were reported while the capture ran (--fail-on)", threshold)
	}
	return nil
}

// stdinGrace is how long a stream from a pipe goes on after Ctrl-C: the
// writer (tcpdump) got the signal too and flushes and closes its end.
const stdinGrace = 2 * time.Second

// runAnalyzeStream analyzes a capture as it arrives (stdin from a pipe,
// or any input with --stream always), printing findings as they complete.
// A pipe is read through one that can be closed: a read from stdin cannot
// be interrupted, and after Ctrl-C the report must still come out.
func runAnalyzeStream(env *Env, o *analyzeOptions, failOn capture.Severity, in io.Reader, name string, pipe bool) error {
	p := &streamPrinter{env: env, json: o.json}
	s := capture.NewStream(capture.StreamOptions{Options: capture.Options{Name: name, MaxFlows: o.maxFlows}}, p.event)
	var stopped atomic.Bool
	if pipe {
		pr, pw := io.Pipe()
		go func(src io.Reader) {
			_, err := io.Copy(pw, src)
			pw.CloseWithError(err) // nil: EOF
		}(in)
		if ctx := env.Ctx; ctx != nil {
			go func() {
				<-ctx.Done()
				time.Sleep(stdinGrace)
				stopped.Store(true)
				pw.CloseWithError(io.EOF)
			}()
		}
		in = pr
	}
	err := s.ReadCapture(in, nil)
	if stopped.Load() {
		err = nil // cut by Ctrl-C: the report covers what came
	}
	rep := s.Report()
	if rep.Packets == 0 && err != nil {
		return asUsage(fmt.Errorf("%s: %w", name, err))
	}
	if err != nil {
		rep.Partial, rep.Error = true, err.Error()
	}
	if werr := p.report(rep, o.flows); werr != nil {
		return werr
	}
	if err != nil {
		return asUsage(fmt.Errorf("%s: %w (the report covers the packets before it)", name, err))
	}
	return p.verdict(failOn, rep)
}

// runAnalyzeLive analyzes a live interface until Ctrl-C or --duration.
func runAnalyzeLive(env *Env, o *analyzeOptions) error {
	if o.maxFlows < 1 {
		return usagef("--max-flows %d: want at least 1", o.maxFlows)
	}
	failOn, err := parseFailOn(o.failOn)
	if err != nil {
		return err
	}
	live, err := capture.OpenLive(o.live, capture.LiveOptions{Filter: o.filter})
	if err != nil {
		return asUsage(err)
	}
	defer live.Close()
	p := &streamPrinter{env: env, json: o.json, quiet: o.stream == "never"}
	s := capture.NewStream(capture.StreamOptions{Options: capture.Options{Name: o.live, MaxFlows: o.maxFlows}}, p.event)
	fmt.Fprintf(env.Stderr, "mtukit: analyzing %s live (%s)%s; Ctrl-C for the report\n", o.live, live.LinkType(), filterNote(o.filter))
	runErr := live.Run(env.Ctx, s, o.duration, nil)
	rep := s.Report()
	if st, err := live.Stats(); err == nil && st.Dropped > 0 {
		fmt.Fprintf(env.Stderr, "mtukit: the kernel dropped %d of %d packets (the analysis is behind the link): the report misses them\n", st.Dropped, st.Received+st.Dropped)
	}
	if runErr != nil {
		rep.Partial, rep.Error = true, runErr.Error()
	}
	if err := p.report(rep, o.flows); err != nil {
		return err
	}
	if runErr != nil {
		return runErr
	}
	return p.verdict(failOn, rep)
}

func filterNote(f string) string {
	if f == "" {
		return ""
	}
	return fmt.Sprintf(", filter %q", f)
}
