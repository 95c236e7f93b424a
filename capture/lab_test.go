//go:build linux

package capture

import (
	"bytes"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mtukit/mtukit/internal/netlab"
)

// labOut keeps the lab's captures: go test ./capture -run TestLab -labout DIR
// rebuilds the traces of every scenario (the generator is this file).
var labOut = flag.String("labout", "", "copy the pcaps the lab tests capture into this directory")

// path is the lab topology of every scenario:
//
//	client 10.0.1.1 ---- 10.0.1.2 router 10.0.2.1 ---- 10.0.2.2 server
//
// The client's and the server's own links are 1500 bytes, so both announce
// MSS 1460; the narrow hop is the router's interface toward the client
// (narrow bytes) or toward the server (serverMTU), as a scenario asks.
type path struct {
	lab         *netlab.Lab
	c, r, s     *netlab.Host
	cr, rs      *netlab.Link
	server, cli netip.Addr
	narrowToCli int
	narrowToSrv int
}

func newPath(t *testing.T, toClient, toServer int, keepOffloads bool) *path {
	t.Helper()
	netlab.Require(t, "tcpdump", "nft", "ping")
	lab := netlab.New(t)
	p := &path{lab: lab, c: lab.Host("client"), r: lab.Host("router"), s: lab.Host("server"),
		server: netip.MustParseAddr("10.0.2.2"), cli: netip.MustParseAddr("10.0.1.1"), narrowToCli: toClient, narrowToSrv: toServer}
	p.cr = lab.Link(p.c, p.r, netlab.LinkOpts{AddrA: "10.0.1.1/24", AddrB: "10.0.1.2/24", Addr6A: "fd00:1::1/64", Addr6B: "fd00:1::2/64"})
	p.rs = lab.Link(p.r, p.s, netlab.LinkOpts{AddrA: "10.0.2.1/24", AddrB: "10.0.2.2/24", Addr6A: "fd00:2::1/64", Addr6B: "fd00:2::2/64", KeepOffloads: keepOffloads})
	p.r.Forwarding(true)
	p.c.Route("default", "10.0.1.2")
	p.s.Route("default", "10.0.2.1")
	p.c.Route("default", "fd00:1::2")
	p.s.Route("default", "fd00:2::1")
	if toClient > 0 {
		p.r.SetMTU(p.cr.IfB, toClient) // asymmetric: the client's own side stays 1500
	}
	if toServer > 0 {
		p.r.SetMTU(p.rs.IfA, toServer)
		p.s.SetMTU(p.rs.IfB, toServer)
	}
	// classic PMTUD, no probing of its own: what the capture must explain
	p.s.Sysctl("net.ipv4.tcp_mtu_probing", "0")
	return p
}

// download runs a download over a real TCP connection: the client sends a
// 100-byte request, the server a 200-byte header (which any path carries)
// and then body bytes; the client reads for at most wait.
func (p *path) download(t *testing.T, body int, wait time.Duration) (got int) {
	return p.downloadFrom(t, p.server, body, wait)
}

func (p *path) downloadFrom(t *testing.T, server netip.Addr, body int, wait time.Duration) (got int) {
	t.Helper()
	return netlab.Download(t, p.c, p.s, server, body, wait, 0)
}

// analyzeLab stops the capture, keeps it when asked, and analyzes it.
func analyzeLab(t *testing.T, cap *netlab.Capture, name string) *Report {
	t.Helper()
	if _, err := cap.Stop(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(cap.Path)
	if err != nil {
		t.Fatal(err)
	}
	if *labOut != "" {
		if err := os.WriteFile(filepath.Join(*labOut, name+".pcap"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Analyze(bytes.NewReader(b), Options{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	diffTshark(t, name, b) // issue 13 §2: every lab capture against tshark
	return r
}

// wantCodes checks that the report has exactly these finding codes (any
// order, with repeats).
func wantCodes(t *testing.T, r *Report, want ...string) {
	t.Helper()
	got := codes(r)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v\n%s", got, want, text(r))
	}
}

// TestLabBlackhole: a download through a router whose next link is 1400
// bytes and which drops its own ICMP fragmentation-needed (ICMPv6
// packet-too-big). The server's 1500-byte segments vanish; its 200-byte
// header got through.
func TestLabBlackhole(t *testing.T) {
	for _, tc := range []struct {
		fam    string
		server string
		hdr    int // IP + TCP with timestamps
	}{{"ipv4", "10.0.2.2", 20 + 32}, {"ipv6", "fd00:2::2", 40 + 32}} {
		t.Run(tc.fam, func(t *testing.T) {
			p := newPath(t, 1400, 0, false)
			p.r.DropPTB()
			cap := p.s.Capture(p.rs.IfB, "tcp or icmp or icmp6", "")
			got := p.downloadFrom(t, netip.MustParseAddr(tc.server), 64<<10, 3500*time.Millisecond)
			r := analyzeLab(t, cap, "lab-blackhole-"+tc.fam)
			if got != 0 {
				t.Errorf("the client received %d body bytes through a black hole", got)
			}
			wantCodes(t, r, CodeBlackhole)
			f := find(r, CodeBlackhole)
			if f == nil {
				return
			}
			if !strings.Contains(f.Flow, tc.server) || strings.Index(f.Flow, tc.server) > 1 || f.Count < 3 {
				t.Errorf("flow %q count %d: want the server's segments sent at least 3 times", f.Flow, f.Count)
			}
			// the kernel's own numbers: the server's link is 1500, so its
			// full-size packets are 1500 bytes, and the 200-byte header
			// with timestamps made a 252-byte (IPv6: 272-byte) packet
			if r.Summary.PathMTUMax != 1499 || r.Summary.PathMTUMin != 200+tc.hdr {
				t.Errorf("path MTU bounds %d..%d, want %d..1499", r.Summary.PathMTUMin, r.Summary.PathMTUMax, 200+tc.hdr)
			}
		})
	}
}

// TestLabPTB: the same path with ICMP delivered: the server learns the
// 1400-byte path MTU and its segments shrink; the download completes.
func TestLabPTB(t *testing.T) {
	for _, tc := range []struct{ fam, server string }{{"ipv4", "10.0.2.2"}, {"ipv6", "fd00:2::2"}} {
		t.Run(tc.fam, func(t *testing.T) {
			p := newPath(t, 1400, 0, false)
			cap := p.s.Capture(p.rs.IfB, "tcp or icmp or icmp6", "")
			body := 64 << 10
			if got := p.downloadFrom(t, netip.MustParseAddr(tc.server), body, 5*time.Second); got != body {
				t.Fatalf("the client received %d of %d bytes", got, body)
			}
			r := analyzeLab(t, cap, "lab-ptb-"+tc.fam)
			wantCodes(t, r, CodePTB)
			f := find(r, CodePTB)
			if f == nil {
				return
			}
			if f.MTU != 1400 || !strings.Contains(f.Detail, "shrank") || strings.Index(f.Flow, tc.server) > 1 {
				t.Errorf("ptb %+v: want MTU 1400, the server shrinking", f)
			}
			if r.Summary.PathMTU != 1400 || r.Summary.ClampIPv4 != 1360 || r.Summary.ClampIPv6 != 1340 {
				t.Errorf("summary path MTU %d clamp %d/%d, want 1400 and 1360/1340", r.Summary.PathMTU, r.Summary.ClampIPv4, r.Summary.ClampIPv6)
			}
		})
	}
}

// TestLabMSSClamp: the router drops its ICMP as in the black hole, but
// clamps the MSS of every SYN to 1360; a capture on the router (-i any)
// sees each SYN before and after the clamp, and the download completes.
func TestLabMSSClamp(t *testing.T) {
	p := newPath(t, 1400, 0, false)
	p.r.DropPTB()
	p.r.NftRule(netlab.Forward, "tcp flags & (syn | rst) == syn tcp option maxseg size set 1360")
	cap := p.r.Capture("any", "tcp or icmp", "")
	body := 64 << 10
	if got := p.download(t, body, 5*time.Second); got != body {
		t.Fatalf("the client received %d of %d bytes through the clamp", got, body)
	}
	r := analyzeLab(t, cap, "lab-mss-clamp")
	// both SYNs are clamped: the client's and the server's
	wantCodes(t, r, CodeMSSClamped, CodeMSSClamped)
	for _, f := range r.Findings {
		if f.MSS != 1360 || f.MTU != 1400 || !strings.Contains(f.Title, "from 1460 to 1360") {
			t.Errorf("finding %+v: want MSS 1460 rewritten to 1360", f)
		}
	}
	if r.Summary.PathMTU != 1400 || r.Summary.ClampIPv4 != 1360 {
		t.Errorf("summary path MTU %d clamp %d, want 1400 (the clamp) and 1360", r.Summary.PathMTU, r.Summary.ClampIPv4)
	}
}

// TestLabFragmentation: pings of 3000 bytes without DF across a router
// whose link to the server is 1400 bytes: the client cuts them to its own
// 1500, the router again to 1400 (fragments of 1396 bytes: 20 + 172*8), the
// server cuts its replies to 1400 itself.
func TestLabFragmentation(t *testing.T) {
	p := newPath(t, 0, 1400, false)
	cap := p.s.Capture(p.rs.IfB, "icmp or udp or (ip[6:2] & 0x3fff != 0)", "")
	if err := p.c.Ping("10.0.2.2", 3, 3000, "-M", "dont", "-i", "0.2"); err != nil {
		t.Fatal(err)
	}
	r := analyzeLab(t, cap, "lab-fragmentation")
	wantCodes(t, r, CodeFragmentation, CodeFragmentation)
	for _, f := range r.Findings {
		if f.MTU != 1396 || !strings.Contains(f.Detail, "1396 to 1403") {
			t.Errorf("finding %s %q: want fragments of 1396 bytes (MTU 1396..1403)", f.Flow, f.Detail)
		}
	}
}

// TestLabOffload: a download captured on a server whose interface keeps
// TSO/GSO: tcpdump sees super-packets larger than the link, which are
// offload artifacts, not MSS violations.
func TestLabOffload(t *testing.T) {
	p := newPath(t, 0, 0, true)
	p.s.MustRun("ethtool", "-K", p.rs.IfB, "tso", "on", "gso", "on", "tx", "on", "sg", "on")
	cap := p.s.Capture(p.rs.IfB, "tcp", "")
	body := 1 << 20
	if got := p.download(t, body, 5*time.Second); got != body {
		t.Fatalf("the client received %d of %d bytes", got, body)
	}
	r := analyzeLab(t, cap, "lab-offload")
	wantCodes(t, r, CodeOffload)
	if f := find(r, CodeOffload); f != nil && (!strings.HasPrefix(f.Flow, "10.0.2.2:") || r.Summary.LargestPacket <= 1500) {
		t.Errorf("offload on %q, largest packet %d: want the server's super-packets", f.Flow, r.Summary.LargestPacket)
	}
}

// TestLabLargeCapture records the large lab-made capture that
// scripts/bench-analyze.sh measures; it runs only when MTUKIT_LABCAP names
// the output file. MTUKIT_LABCAP_MB megabytes (default 400) are downloaded
// over 8 parallel connections through the router, whose link to the server
// is captured whole (offloads off: every frame as it was on the wire).
func TestLabLargeCapture(t *testing.T) {
	out := os.Getenv("MTUKIT_LABCAP")
	if out == "" {
		t.Skip("set MTUKIT_LABCAP=file.pcap to record the benchmark capture")
	}
	mb := 400
	if v := os.Getenv("MTUKIT_LABCAP_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("MTUKIT_LABCAP_MB=%q: want a number of megabytes", v)
		}
		mb = n
	}
	p := newPath(t, 0, 0, false)
	proc := p.r.Start("tcpdump", "-n", "-B", "131072", "-i", p.rs.IfA, "-w", out, "tcp")
	time.Sleep(1500 * time.Millisecond) // tcpdump has no "listening" handshake here: give it time
	const conns = 8
	per := mb << 20 / conns
	pace := 20e6 // bytes/s per connection: 160 MB/s in all
	errs := make(chan error, conns)
	for range conns {
		c, s, err := netlab.TCPPair(p.c, p.s, p.server, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer s.Close()
			buf := make([]byte, 256<<10)
			// Paced (pace bytes/s per connection) so that tcpdump keeps
			// every packet: unpaced, the namespaces move data faster than
			// it writes the file, and it drops most of it.
			start := time.Now()
			for sent := 0; sent < per; sent += len(buf) {
				if _, err := s.Write(buf[:min(len(buf), per-sent)]); err != nil {
					errs <- err
					return
				}
				if ahead := time.Duration(float64(sent)/pace*float64(time.Second)) - time.Since(start); ahead > 0 {
					time.Sleep(ahead)
				}
			}
		}()
		go func() {
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(2 * time.Minute))
			n, err := io.Copy(io.Discard, c)
			if err == nil && n != int64(per) {
				err = io.ErrUnexpectedEOF
			}
			errs <- err
		}()
	}
	for range conns {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if err := proc.Stop(); err != nil {
		t.Log(err)
	}
	proc.Wait(10 * time.Second)
	t.Logf("%s: %s", out, strings.TrimSpace(proc.Stderr()))
	if m := regexp.MustCompile(`(\d+) packets? dropped by kernel`).FindStringSubmatch(proc.Stderr()); m != nil && m[1] != "0" {
		t.Logf("tcpdump dropped %s packets: the capture is shorter than the download", m[1])
	}
}
