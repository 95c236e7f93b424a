//go:build linux

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestClampOutDevice: issue 14 item 7. A device node under --out is refused
// and stays a device (before, clamp renamed a regular file over it: as root,
// --out /dev/null destroyed /dev/null). The node is made in a temporary
// directory, never /dev.
func TestClampOutDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mknod needs root")
	}
	in := filepath.Join(clampPcaps, "zeek__tcp_options.pcap")
	null := filepath.Join(t.TempDir(), "null")
	if err := unix.Mknod(null, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Skipf("mknod: %v", err)
	}
	_, errs, code := run(t, "clamp", "--in", in, "--out", null, "--mss", "1200")
	want := "--out " + null + " is a character device, not a regular file"
	if code != ExitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, want) {
		t.Fatalf("exit %d, stderr %q; want %q", code, errs, want)
	}
	if fi, err := os.Lstat(null); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("device replaced: %v %v", fi.Mode(), err)
	}
}

// TestClampOutFIFO: a named pipe is written into only with --fifo, and gets
// what a file gets; without it, it is refused and nothing opens it.
func TestClampOutFIFO(t *testing.T) {
	in := filepath.Join(clampPcaps, "zeek__tcp_options.pcap")
	want := clampRef(t, in)
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run(t, "clamp", "--in", in, "--out", fifo, "--mss", "1200")
	if code != ExitUsage || !strings.Contains(errs, "is a named pipe: give --fifo") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	got := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- b
	}()
	_, errs, code = run(t, "clamp", "--in", in, "--out", fifo, "--mss", "1200", "--fifo")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if b := <-got; string(b) != string(want) {
		t.Fatalf("%d bytes through the pipe, want %d", len(b), len(want))
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatal("pipe replaced")
	}
}
