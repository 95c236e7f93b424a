package netlab

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs f on an OS thread that has joined the host's network namespace,
// then puts the thread back in its original namespace. Sockets f opens stay
// in the host's namespace after Do returns, so tests can dial and listen
// from Go. f runs on another goroutine than the caller: it must not call
// t.Fatal, and goroutines it starts run outside the namespace. f must be
// bounded in time (use deadlines on sockets). A panic in f is returned as an
// error. If the thread cannot be restored, it is never reused: the goroutine
// exits still locked to it and the runtime terminates the thread.
func (h *Host) Do(f func() error) error {
	return doInNetns(h.NamespacePath(), f)
}

func doInNetns(path string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Unlocked only after a successful restore (below).
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netlab: open current netns: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netlab: open netns %s: %w", path, err)
			return
		}
		err = unix.Setns(target, unix.CLONE_NEWNET)
		unix.Close(target)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netlab: setns %s: %w", path, err)
			return
		}
		ferr := callSafely(f)
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// Stay locked: this thread is in the wrong namespace and dies with the goroutine.
			errc <- errors.Join(ferr, fmt.Errorf("netlab: restore netns: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func callSafely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("netlab: panic in Do: %v", r)
		}
	}()
	return f()
}
