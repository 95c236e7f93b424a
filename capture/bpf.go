package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// CompileFilter compiles a capture filter in libpcap's syntax ("tcp port
// 443 or icmp") into a classic BPF program for frames of the link type.
//
// libpcap's compiler is the only complete one, and linking it takes cgo,
// which mtukit does without. So the expression is handed to tcpdump, which
// prints the program libpcap made (`tcpdump -ddd`), for a file of that
// link type: no interface is opened and no privilege is needed. The
// program is then checked with golang.org/x/net/bpf and the kernel checks
// it again when it is attached. Without tcpdump, --filter is refused with
// the way out (capture with tcpdump itself: tcpdump -w - EXPR | mtukit
// analyze -).
func CompileFilter(expr string, link layers.LinkType) ([]bpf.RawInstruction, error) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		return nil, errors.New("a capture filter is compiled by tcpdump, which is not installed (apt-get install tcpdump); or capture with it: tcpdump -i IF -w - 'FILTER' | mtukit analyze -")
	}
	// a pcap file header of the link type, and no packet: tcpdump reads
	// the link type, compiles, prints and exits
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144)
	binary.LittleEndian.PutUint32(hdr[20:], uint32(link))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tcpdump, "-ddd", "-r", "-", "--", expr)
	cmd.Stdin = bytes.NewReader(hdr)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		msg := ""
		for _, l := range strings.Split(stderr.String(), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "reading from file") {
				msg = strings.TrimPrefix(l, "tcpdump: ")
			}
		}
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("filter %q: %s", expr, msg)
	}
	prog, err := ParseBPF(out.String())
	if err != nil {
		return nil, fmt.Errorf("filter %q: tcpdump -ddd printed %w", expr, err)
	}
	return prog, nil
}

// maxBPF is the kernel's limit on a classic BPF program (BPF_MAXINSNS).
const maxBPF = 4096

// ParseBPF reads a classic BPF program in the decimal form `tcpdump
// -ddd` prints: the number of instructions, then one "code jt jf k" line
// each. Every instruction must be one golang.org/x/net/bpf can decode.
func ParseBPF(s string) ([]bpf.RawInstruction, error) {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	n, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil {
		return nil, fmt.Errorf("a program whose first line %q is not its length", lines[0])
	}
	if n < 1 || n > maxBPF || n != len(lines)-1 {
		return nil, fmt.Errorf("a program of %d lines that says it has %d instructions (1 to %d)", len(lines)-1, n, maxBPF)
	}
	prog := make([]bpf.RawInstruction, n)
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 4 {
			return nil, fmt.Errorf("instruction %d: %q is not \"code jt jf k\"", i+1, l)
		}
		var v [4]uint64
		for j, bits := range [4]int{16, 8, 8, 32} {
			if v[j], err = strconv.ParseUint(f[j], 10, bits); err != nil {
				return nil, fmt.Errorf("instruction %d: %q: %v", i+1, l, err)
			}
		}
		prog[i] = bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}
		if _, ok := prog[i].Disassemble().(bpf.RawInstruction); ok {
			return nil, fmt.Errorf("instruction %d: %q is not a classic BPF instruction", i+1, l)
		}
	}
	return prog, nil
}
