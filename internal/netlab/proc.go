package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a background process running in a host's namespace. The lab stops
// it at cleanup.
type Proc struct {
	Argv []string

	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	done   chan struct{}
	err    error // set before done closes

	stopOnce sync.Once
	// lineSeen is signalled by the stderr writer when a watched line appears.
	watch *lineWatch
}

// Start starts argv in the background inside the host's namespace. The
// process is in its own process group, gets SIGKILL if the test binary dies
// (Linux), and is stopped (SIGTERM, then SIGKILL after 2s) at cleanup. It
// fails the test if the command cannot be started.
func (h *Host) Start(argv ...string) *Proc {
	h.lab.t.Helper()
	p, err := h.start(nil, argv...)
	if err != nil {
		h.lab.t.Fatalf("netlab %s: %v", h.name, err)
	}
	return p
}

func (h *Host) start(watch *lineWatch, argv ...string) (*Proc, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("start: empty command")
	}
	full := h.execArgv(argv)
	p := &Proc{Argv: full, done: make(chan struct{}), watch: watch}
	p.cmd = exec.Command(full[0], full[1:]...)
	p.cmd.SysProcAttr = backgroundAttr()
	p.cmd.Stdout = &p.stdout
	if watch != nil {
		p.cmd.Stderr = &watchWriter{buf: &p.stderr, w: watch}
	} else {
		p.cmd.Stderr = &p.stderr
	}
	p.cmd.WaitDelay = 2 * time.Second

	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	if h.lab.closed {
		return nil, fmt.Errorf("start %s: lab already cleaned up", strings.Join(argv, " "))
	}
	if err := p.cmd.Start(); err != nil {
		return nil, &CmdError{Argv: full, Err: err}
	}
	h.lab.procs = append(h.lab.procs, p)
	go func() {
		err := p.cmd.Wait()
		if err != nil {
			err = &CmdError{Argv: full, Stdout: p.stdout.String(), Stderr: p.stderr.String(), Err: err}
		}
		p.err = err
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Stdout returns what the process wrote to stdout so far.
func (p *Proc) Stdout() string { return p.stdout.String() }

// Stderr returns what the process wrote to stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits for the process to exit on its own, at most timeout, and
// returns its error (a *CmdError with its output). It does not kill it.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return fmt.Errorf("%s: still running after %v", strings.Join(p.Argv, " "), timeout)
	}
}

// Stop ends the process: SIGTERM to its process group, SIGKILL if it is
// still alive 2s later. It returns once the process has exited and is safe
// to call more than once. The error is the process's own exit error, nil when
// it was ended by Stop's signal.
func (p *Proc) Stop() error {
	return p.stop(syscall.SIGTERM)
}

func (p *Proc) stop(sig syscall.Signal) error {
	signalled := false
	p.stopOnce.Do(func() {
		if p.Exited() {
			return
		}
		signalled = true
		_ = killGroup(p.cmd.Process, sig)
		select {
		case <-p.done:
		case <-time.After(2 * time.Second):
			_ = killGroup(p.cmd.Process, syscall.SIGKILL)
			<-p.done
		}
	})
	<-p.done
	if signalled {
		var ee *exec.ExitError
		if errors.As(p.err, &ee) && !ee.Exited() {
			return nil // killed by our signal
		}
	}
	return p.err
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lineWatch fires once when the stream contains substr.
type lineWatch struct {
	substr string
	seen   chan struct{}
	once   sync.Once
}

type watchWriter struct {
	buf *syncBuffer
	w   *lineWatch
}

func (ww *watchWriter) Write(p []byte) (int, error) {
	n, err := ww.buf.Write(p)
	if strings.Contains(ww.buf.String(), ww.w.substr) {
		ww.w.once.Do(func() { close(ww.w.seen) })
	}
	return n, err
}

// waitFor waits until the watched text appears, the process exits, or ctx ends.
func (p *Proc) waitFor(ctx context.Context) error {
	select {
	case <-p.watch.seen:
		return nil
	case <-p.done:
		return fmt.Errorf("%s exited before printing %q: %v: %s",
			strings.Join(p.Argv, " "), p.watch.substr, p.err, strings.TrimSpace(p.stderr.String()))
	case <-ctx.Done():
		return fmt.Errorf("%s did not print %q: %w; stderr: %s",
			strings.Join(p.Argv, " "), p.watch.substr, ctx.Err(), strings.TrimSpace(p.stderr.String()))
	}
}
