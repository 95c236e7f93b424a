package capture

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"
)

func needTcpdump(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		if os.Getenv("MTUKIT_LAB") == "1" {
			t.Fatal("tcpdump is not installed and MTUKIT_LAB=1 requires it")
		}
		t.Skip("tcpdump is not installed (apt-get install tcpdump)")
	}
}

// frames reads every frame of a capture with pcapgo.
func frames(t *testing.T, data []byte) (layers.LinkType, [][]byte) {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		b, _, err := r.ReadPacketData()
		if err == io.EOF {
			return r.LinkType(), out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
}

// TestCompileFilterMatchesTcpdump: the program CompileFilter returns,
// run by golang.org/x/net/bpf's interpreter over every frame of real
// captures (Ethernet and raw IP, VLAN and tunnels among them), keeps
// exactly the frames tcpdump itself keeps when it reads the file with the
// same filter.
func TestCompileFilterMatchesTcpdump(t *testing.T) {
	needTcpdump(t)
	files := []string{"zeek__tcp_retransmit-fast009.pcap", "zeek__icmp_icmp6-toobig.pcap", "zeek__ipv4_fragmented-4.pcap",
		"zeek__icmp_dot1q.pcap", "zeek__tunnels_gre-sample.pcap", "tcpdump__bigtcp-ipv6.pcap"}
	exprs := []string{"tcp", "icmp or icmp6", "tcp port 80", "ip[6:2] & 0x3fff != 0", "ip6", "tcp[tcpflags] & tcp-syn != 0", "vlan and icmp", "not tcp"}
	total := 0
	for _, name := range files {
		path := filepath.Join("testdata", "real", name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		link, fr := frames(t, data)
		for _, expr := range exprs {
			prog, err := CompileFilter(expr, link)
			if err != nil {
				t.Fatalf("%s %q: %v", name, expr, err)
			}
			insns, ok := bpf.Disassemble(prog)
			if !ok {
				t.Fatalf("%q: not all decoded", expr)
			}
			vm, err := bpf.NewVM(insns)
			if err != nil {
				t.Fatalf("%q: %v", expr, err)
			}
			var mine [][]byte
			for _, f := range fr {
				n, err := vm.Run(f)
				if err != nil {
					t.Fatalf("%q: %v", expr, err)
				}
				if n > 0 {
					mine = append(mine, f)
				}
			}
			out, err := exec.Command("tcpdump", "-r", path, "-w", "-", expr).Output()
			if err != nil {
				t.Fatalf("tcpdump -r %s %q: %v", name, expr, err)
			}
			_, theirs := frames(t, out)
			if !slices.EqualFunc(mine, theirs, bytes.Equal) {
				t.Errorf("%s %q: the program keeps %d frames, tcpdump %d", name, expr, len(mine), len(theirs))
			}
			total += len(theirs)
		}
	}
	if total == 0 {
		t.Error("no filter kept any frame: the comparison proves nothing")
	}
}

func TestCompileFilterErrors(t *testing.T) {
	needTcpdump(t)
	for _, tc := range []struct{ expr, want string }{
		{"tcp port", "syntax error"},
		{"bogus(", "syntax error"},
		{"port 99999", "port 99999"},
	} {
		_, err := CompileFilter(tc.expr, layers.LinkTypeEthernet)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "filter ") {
			t.Errorf("%q: %v, want one line with %q", tc.expr, err, tc.want)
		}
	}
}

func TestParseBPF(t *testing.T) {
	good := "4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n"
	p, err := ParseBPF(good)
	if err != nil || len(p) != 4 || p[1] != (bpf.RawInstruction{Op: 21, Jt: 0, Jf: 1, K: 2048}) {
		t.Fatalf("%v %v", p, err)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "first line"},
		{"count short", "3\n6 0 0 0\n", "says it has 3"},
		{"zero", "0\n", "says it has 0"},
		{"fields", "1\n6 0 0\n", "is not \"code jt jf k\""},
		{"jt range", "1\n21 256 0 0\n", "out of range"},
		{"not a number", "1\n6 0 0 x\n", "invalid syntax"},
		{"unknown op", "1\n65535 0 0 0\n", "not a classic BPF instruction"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseBPF(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want %q", err, tc.want)
			}
		})
	}
}

// FuzzParseBPF: any text is a program or a one-line error, never a panic.
func FuzzParseBPF(f *testing.F) {
	f.Add("4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n") // tcpdump -ddd ip
	f.Add("1\n6 0 0 0\n")                                       // reject all
	f.Add("2\n32 0 0 4294967295\n22 0 0 0\n")                   // a k at its limit, ret a
	f.Add("")                                                   // nothing
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseBPF(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error on two lines: %q", err)
			}
			return
		}
		if len(p) == 0 || len(p) > maxBPF {
			t.Errorf("program of %d instructions", len(p))
		}
	})
}
