// Package cli is mtukit's command line: one cobra command per file, all
// reachable in-process through Main so tests run the real CLI without a
// subprocess.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/internal/jsonout"
)

// Exit codes. Bad input (flags, specs, files that do not parse) is 2, so a
// script can tell "you asked wrongly" from "the network said no".
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Env is what every command needs from the outside world.
type Env struct {
	Ctx    context.Context
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// commands holds the constructors that each command file registers in its
// init, so adding a command never touches this file.
var commands []func(*Env) *cobra.Command

func register(f func(*Env) *cobra.Command) { commands = append(commands, f) }

// UsageError marks an error caused by the user's input; Main prints it on
// one line and exits with ExitUsage.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usagef builds a UsageError.
func usagef(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// asUsage wraps err as a UsageError (nil stays nil).
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return err
	}
	return &UsageError{Err: err}
}

// NewRoot builds the command tree for env.
func NewRoot(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "mtukit",
		Short: "Exact MTU and MSS for any tunnel stack, probing, capture forensics",
		Long: `mtukit ends MTU and MSS trouble: it computes the exact tunnel MTU and MSS clamp
for any stack of encapsulations, rewrites SYNs the way a clamping router does,
simulates and runs path MTU searches that survive ICMP black holes, explains
captures, and serves it all as a web page and JSON API.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.Version = versionLine()
	root.SetVersionTemplate("mtukit {{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	for _, f := range commands {
		c := f(env)
		c.SetFlagErrorFunc(flagError)
		root.AddCommand(c)
	}
	registerCompletions(root)
	return root
}

// flagSynonyms are flag names people type from other tools, and the flag
// mtukit calls the same thing.
var flagSynonyms = map[string]string{
	"addr": "listen", "address": "listen", "bind": "listen", "port": "listen",
	"input": "in", "output": "out",
	"proto": "method", "protocol": "method", "strategies": "strategy", "stacks": "stack",
	"underlay": "mtu", "link-mtu": "mtu", "af": "family",
}

// flagError turns pflag's errors into one line that names the flag in
// words: an unknown flag with the one the user probably meant, a value
// that does not parse with what the flag wants.
func flagError(cmd *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	if errors.As(err, &ne) && ne.GetSpecifiedName() != "" {
		name := ne.GetSpecifiedName()
		var names []string
		cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
		cmd.InheritedFlags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
		if s, ok := flagSynonyms[name]; ok && slices.Contains(names, s) {
			return usagef("unknown flag --%s for %s (did you mean --%s?)", name, cmd.CommandPath(), s)
		}
		if s := encap.Suggest(name, names, 1); s != "" {
			return usagef("unknown flag --%s for %s (did you mean --%s?)", name, cmd.CommandPath(), s)
		}
		return usagef("unknown flag --%s for %s (see %s --help)", name, cmd.CommandPath(), cmd.CommandPath())
	}
	var ie *pflag.InvalidValueError
	if errors.As(err, &ie) && ie.GetFlag() != nil {
		f := ie.GetFlag()
		want := map[string]string{
			"int": "a whole number", "uint64": "a whole number", "float64": "a number",
			"duration": "a duration such as 50ms or 1.5s", "bool": "true or false",
		}[f.Value.Type()]
		if want == "" {
			want = "a " + f.Value.Type()
		}
		return usagef("--%s %q: want %s", f.Name, ie.GetValue(), want)
	}
	return asUsage(err)
}

// Main runs mtukit with args and returns the process exit code. Errors are
// printed as one line on stderr, never as a stack trace.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "mtukit: internal error: %v\n", r)
			code = ExitFailure
		}
	}()
	env := &Env{Ctx: ctx, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	root := NewRoot(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	msg := strings.ReplaceAll(flagMessage(err), "\n", " ")
	fmt.Fprintf(stderr, "mtukit: %s\n", msg)
	var ue *UsageError
	var pe *encap.ParamError
	if errors.As(err, &ue) || errors.As(err, &pe) || isCobraUsage(err) {
		return ExitUsage
	}
	return ExitFailure
}

// flagMessage is err's text, with a domain package's ParamError naming
// its parameter as the flag ("loss 2: ..." is "--loss 2: ...").
func flagMessage(err error) string {
	var pe *encap.ParamError
	if errors.As(err, &pe) && err.Error() == pe.Msg && pe.Param != "" && strings.HasPrefix(pe.Msg, pe.Param) {
		return "--" + pe.Msg
	}
	return err.Error()
}

// isCobraUsage recognises cobra's own argument errors, which it does not type.
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// writeJSON prints v as indented JSON followed by a newline: the one JSON
// encoding every command and the web API share.
func writeJSON(w io.Writer, v any) error {
	b, err := jsonout.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
