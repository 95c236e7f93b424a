package netlab

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Capture is a running tcpdump writing a pcap file.
type Capture struct {
	// Path is the pcap file.
	Path string

	h    *Host
	proc *Proc
}

// Capture starts tcpdump -U --immediate-mode (each packet handed over by the
// kernel at once and written at once; without immediate mode libpcap holds
// packets up to a second and a stop loses them) on iface inside the host,
// writing to file (a new file in t.TempDir() when empty) with a BPF filter
// (may be empty), and returns once tcpdump says it is listening, so nothing
// sent afterwards is missed. Stop it to flush and close the file. It fails
// the test on error.
func (h *Host) Capture(iface, filter, file string) *Capture {
	h.lab.t.Helper()
	if file == "" {
		file = filepath.Join(h.lab.t.TempDir(), h.name+"-"+iface+".pcap")
	}
	argv := []string{"tcpdump", "-U", "--immediate-mode", "-n", "-Z", "root", "-i", iface, "-w", file}
	if f := strings.TrimSpace(filter); f != "" {
		argv = append(argv, f)
	}
	w := &lineWatch{substr: "listening on", seen: make(chan struct{})}
	p, err := h.start(w, argv...)
	if err != nil {
		h.lab.t.Fatalf("netlab %s: capture: %v", h.name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.waitFor(ctx); err != nil {
		p.Stop()
		h.lab.t.Fatalf("netlab %s: capture: %v", h.name, err)
	}
	return &Capture{Path: file, h: h, proc: p}
}

// Stop waits briefly for packets already on their way to reach tcpdump,
// then stops it with SIGINT (which makes it flush and close the file) and
// returns the number of packets it reports captured.
func (c *Capture) Stop() (int, error) {
	time.Sleep(100 * time.Millisecond)
	err := c.proc.stop(syscall.SIGINT)
	if err != nil {
		return 0, fmt.Errorf("capture %s: %w", c.Path, err)
	}
	return capturedCount(c.proc.Stderr()), nil
}

// capturedCount parses tcpdump's "N packets captured" line ("1 packet
// captured" in the singular; -1 when absent).
func capturedCount(stderr string) int {
	for _, line := range strings.Split(stderr, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && (f[1] == "packets" || f[1] == "packet") && f[2] == "captured" {
			if n, err := strconv.Atoi(f[0]); err == nil {
				return n
			}
		}
	}
	return -1
}
