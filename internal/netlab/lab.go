package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// DefaultTimeout bounds every command a lab runs unless Lab.Timeout says otherwise.
const DefaultTimeout = 20 * time.Second

// nsPrefix starts every namespace name netlab creates; sweepStale relies on it.
const nsPrefix = "nlab-"

// nsDir is where ip netns keeps its named namespaces.
const nsDir = "/run/netns"

var (
	labCounter atomic.Uint64
	sweepOnce  sync.Once
)

// Lab is a set of hosts (network namespaces) and links that belong to one test.
// Create it with New; t.Cleanup tears it down.
type Lab struct {
	// Timeout bounds each command the lab runs (DefaultTimeout when zero).
	Timeout time.Duration

	t      testing.TB
	prefix string

	mu     sync.Mutex
	hosts  []*Host
	procs  []*Proc
	closed bool
}

// New creates an empty lab whose namespaces are named uniquely for this
// process, lab and run, and registers t.Cleanup to stop the lab's processes
// and delete its namespaces, whether the test passes or fails. Call Require
// first.
func New(t testing.TB) *Lab {
	t.Helper()
	sweepOnce.Do(sweepStale)
	l := &Lab{
		t:      t,
		prefix: fmt.Sprintf("%s%d-%d-%04x-", nsPrefix, os.Getpid(), labCounter.Add(1), rand.Uint32()&0xffff),
	}
	t.Cleanup(l.close)
	return l
}

// Prefix is the prefix of every namespace name in this lab.
func (l *Lab) Prefix() string { return l.prefix }

// Namespaces lists the names of the lab's namespaces, in creation order.
func (l *Lab) Namespaces() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var names []string
	for _, h := range l.hosts {
		names = append(names, h.ns)
	}
	return names
}

func (l *Lab) timeout() time.Duration {
	if l.Timeout > 0 {
		return l.Timeout
	}
	return DefaultTimeout
}

// close stops processes, then deletes namespaces (which destroys their links).
// It reports problems with t.Errorf so a leak fails the test that caused it.
func (l *Lab) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	procs, hosts := l.procs, l.hosts
	l.mu.Unlock()

	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Stop()
	}
	for i := len(hosts) - 1; i >= 0; i-- {
		// Not l.run: a test may have shortened l.Timeout for its own commands.
		if _, err := runCmd(context.Background(), max(l.timeout(), DefaultTimeout), nil, "ip", "netns", "delete", hosts[i].ns); err != nil {
			l.t.Errorf("netlab cleanup: %v", err)
		}
	}
}

// CmdError is the error of a command that failed: it names the command and
// carries its output.
type CmdError struct {
	Argv   []string
	Stdout string
	Stderr string
	Err    error // from exec: *exec.ExitError, context.DeadlineExceeded...
}

func (e *CmdError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = strings.TrimSpace(e.Stdout)
	}
	if len(msg) > 2000 {
		msg = msg[:2000] + "..."
	}
	if msg != "" {
		return fmt.Sprintf("%s: %v: %s", strings.Join(e.Argv, " "), e.Err, msg)
	}
	return fmt.Sprintf("%s: %v", strings.Join(e.Argv, " "), e.Err)
}

func (e *CmdError) Unwrap() error { return e.Err }

// ExitCode is the command's exit status, or -1 when it did not exit normally.
func (e *CmdError) ExitCode() int {
	var ee *exec.ExitError
	if errors.As(e.Err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// run runs argv in the caller's namespace with the lab's timeout.
func (l *Lab) run(ctx context.Context, argv ...string) (string, error) {
	return runCmd(ctx, l.timeout(), nil, argv...)
}

func runCmd(ctx context.Context, timeout time.Duration, stdin []byte, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = groupAttr()
	cmd.Cancel = func() error { return killGroup(cmd.Process, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (after %v): %v", ctxErr, timeout, err)
		}
		return stdout.String(), &CmdError{Argv: argv, Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
	}
	return stdout.String(), nil
}

var staleName = regexp.MustCompile(`^` + nsPrefix + `(\d+)-`)

// sweepStale deletes namespaces left by netlab processes that no longer
// exist (a test binary killed by a timeout cannot run its cleanups). A
// namespace whose pid is alive, even if reused by another program, is left alone.
func sweepStale() {
	entries, err := os.ReadDir(nsDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		m := staleName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if !gone(pid) {
			continue
		}
		_, _ = runCmd(context.Background(), DefaultTimeout, nil, "ip", "netns", "delete", e.Name())
	}
}
