package cli

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/mtukit/mtukit/capture"
	"github.com/mtukit/mtukit/mss"
)

// Real captures (attribution in ../../mss/testdata/pcaps/MANIFEST.tsv).
const clampPcaps = "../../mss/testdata/pcaps"

type capPacket struct {
	data []byte
	ci   gopacket.CaptureInfo
	link layers.LinkType
	opts pcapgo.NgPacketOptions
}

type capFile struct {
	format  string
	snaplen uint32
	nanos   bool
	pkts    []capPacket
	intfs   []pcapgo.NgInterface
}

// readCap reads a whole pcap or pcapng file with gopacket's readers.
func readCap(t testing.TB, path string) capFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cf capFile
	if bytes.HasPrefix(b, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		cf.format = "pcapng"
		r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			data, ci, opts, err := r.ReadPacketDataWithOptions()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			intf, _ := r.Interface(ci.InterfaceIndex)
			cf.pkts = append(cf.pkts, capPacket{data: data, ci: ci, link: intf.LinkType, opts: opts})
		}
		for i := 0; i < r.NInterfaces(); i++ {
			intf, _ := r.Interface(i)
			cf.intfs = append(cf.intfs, intf)
		}
		return cf
	}
	cf.format = "pcap"
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	cf.snaplen, cf.nanos = r.Snaplen(), r.Resolution() == gopacket.TimestampResolutionNanosecond
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		cf.pkts = append(cf.pkts, capPacket{data: data, ci: ci, link: r.LinkType()})
	}
	return cf
}

func clampJSON(t *testing.T, args ...string) capture.ClampReport {
	t.Helper()
	out, errs, code := run(t, append([]string{"clamp", "--json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("clamp %v: exit %d: %s", args, code, errs)
	}
	var rep capture.ClampReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return rep
}

// tsharkFrame is what tshark (an independent dissector) says about one
// frame, with TCP and IPv4 checksum validation on.
type tsharkFrame struct {
	n                int
	badTCP, badIP    bool
	syn, rst, tunnel bool
	mss              []int // every MSS option tshark decodes in the frame
}

// tshark dissects file once. It skips the test without tshark.
func tshark(t *testing.T, file string) []tsharkFrame {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: the checksum oracle is missing")
	}
	cmd := exec.Command("tshark", "-n", "-r", file, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
		"-T", "fields", "-E", "occurrence=f", "-E", "aggregator=/",
		"-e", "frame.number", "-e", "tcp.checksum.status", "-e", "ip.checksum.status",
		"-e", "tcp.flags.syn", "-e", "tcp.flags.reset", "-e", "frame.protocols", "-e", "tcp.options.mss_val")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", file, err, stderr.String())
	}
	var frames []tsharkFrame
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			t.Fatalf("tshark line %q", line)
		}
		var fr tsharkFrame
		fr.n, _ = strconv.Atoi(f[0])
		fr.badTCP, fr.badIP = f[1] == "0", f[2] == "0"
		fr.syn, fr.rst = f[3] == "1" || f[3] == "True", f[4] == "1" || f[4] == "True"
		protos := f[5]
		fr.tunnel = strings.Count(protos, ":ip:")+strings.Count(protos, ":ipv6:") > 1 || strings.Contains(protos, "gre") || strings.Contains(protos, "udp:")
		for _, m := range strings.Split(f[6], ",") {
			if v, err := strconv.Atoi(m); err == nil {
				fr.mss = append(fr.mss, v)
			}
		}
		frames = append(frames, fr)
	}
	return frames
}

// TestClampCaptures rewrites real captures and checks the output against
// the input and against tshark, an independent dissector: same format,
// snap length, link types, timestamps and packet count; every packet the
// report does not count as rewritten is byte-identical; the rewritten SYNs
// carry the target MSS; tshark finds exactly the same bad TCP and IPv4
// checksums as in the input (the captures taken before checksum offload
// keep theirs; none are added); and no SYN keeps an MSS above the target
// except those reported unparsed.
func TestClampCaptures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(clampPcaps, "*.pcap*"))
	if err != nil || len(files) < 10 {
		t.Fatalf("captures: %v %v", files, err)
	}
	for _, in := range files {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel() // tshark's start-up dominates
			out := filepath.Join(t.TempDir(), "out"+filepath.Ext(in))
			rep := clampJSON(t, "--in", in, "--out", out, "--mss", "1200", "--insert")
			a, b := readCap(t, in), readCap(t, out)
			if a.format != b.format || a.snaplen != b.snaplen || a.nanos != b.nanos || len(a.pkts) != len(b.pkts) {
				t.Fatalf("format %s/%s snaplen %d/%d nanos %v/%v packets %d/%d", a.format, b.format, a.snaplen, b.snaplen, a.nanos, b.nanos, len(a.pkts), len(b.pkts))
			}
			if len(a.intfs) != len(b.intfs) {
				t.Fatalf("%d interfaces in, %d out", len(a.intfs), len(b.intfs))
			}
			for i := range a.intfs {
				if a.intfs[i].LinkType != b.intfs[i].LinkType || a.intfs[i].Name != b.intfs[i].Name {
					t.Fatalf("interface %d: %+v became %+v", i, a.intfs[i], b.intfs[i])
				}
			}
			if rep.PacketsIn != len(a.pkts) || rep.PacketsOut != len(b.pkts) ||
				rep.PacketsIn != rep.SYNSeen+rep.Unparsed+rep.NotSYN || rep.SYNSeen != rep.Clamped+rep.Inserted+rep.Unchanged {
				t.Fatalf("report does not add up: %+v", rep)
			}
			changed := 0
			for i := range a.pkts {
				pa, pb := a.pkts[i], b.pkts[i]
				if !pa.ci.Timestamp.Equal(pb.ci.Timestamp) || pa.ci.InterfaceIndex != pb.ci.InterfaceIndex || pa.link != pb.link {
					t.Fatalf("packet %d: capture info %+v became %+v", i+1, pa.ci, pb.ci)
				}
				if diff := cmp.Diff(pa.opts, pb.opts); diff != "" {
					t.Fatalf("packet %d: options changed: %s", i+1, diff)
				}
				if bytes.Equal(pa.data, pb.data) {
					continue
				}
				changed++
				grow := len(pb.data) - len(pa.data)
				if (grow != 0 && grow != 4) || pb.ci.CaptureLength != pa.ci.CaptureLength+grow || pb.ci.Length != pa.ci.Length+grow {
					t.Fatalf("packet %d: lengths %d/%d became %d/%d", i+1, pa.ci.CaptureLength, pa.ci.Length, pb.ci.CaptureLength, pb.ci.Length)
				}
			}
			if changed != rep.Clamped+rep.Inserted {
				t.Fatalf("%d packets differ, report says %d clamped + %d inserted", changed, rep.Clamped, rep.Inserted)
			}
			ta, tb := tshark(t, in), tshark(t, out)
			if len(ta) != len(a.pkts) || len(tb) != len(b.pkts) {
				t.Fatalf("tshark saw %d and %d frames", len(ta), len(tb))
			}
			var unparsed []int
			for _, u := range rep.UnparsedPackets {
				unparsed = append(unparsed, u.Packet)
			}
			at := 0
			for i := range ta {
				fa, fb := ta[i], tb[i]
				if fa.badTCP != fb.badTCP || fa.badIP != fb.badIP {
					t.Errorf("frame %d: bad tcp/ip checksum %v/%v before, %v/%v after", fa.n, fa.badTCP, fa.badIP, fb.badTCP, fb.badIP)
				}
				if !fb.syn || fb.rst || fb.tunnel || slices.Contains(unparsed, fb.n) {
					continue
				}
				// A SYN without MSS may stay so (data, fragments, full header).
				if len(fb.mss) > 0 && fb.mss[0] > 1200 {
					t.Errorf("frame %d: SYN leaves with MSS %v (before %v)", fb.n, fb.mss, fa.mss)
				}
				if len(fb.mss) > 0 && fb.mss[0] == 1200 {
					at++
				}
			}
			if at < rep.Clamped {
				t.Fatalf("tshark sees %d SYNs with MSS 1200, report says %d clamped", at, rep.Clamped)
			}
		})
	}
}

// TestClampReportGolden pins the text and JSON reports (paths normalised).
func TestClampReportGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		args []string
	}{
		{"kerberos-tso-mtu1400", "zeek__krb_kerberos_tso.pcapng", []string{"--mtu", "1400"}},
		{"ipv6-atomic-frag-insert", "zeek__ipv6-http-atomic-frag.pcap", []string{"--mss", "1200", "--insert"}},
		{"mss-keyword-nft", "suricata-verify__tcp-mss-keyword_input.pcap", []string{"--mss", "1200", "--rule", "nft"}},
		{"truncated-header", "zeek__tcp_truncated-header.pcap", []string{"--mss", "1000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(clampPcaps, tc.file)
			for _, format := range []string{"txt", "json"} {
				args := append([]string{"clamp", "--in", in, "--out", filepath.Join(dir, "out")}, tc.args...)
				if format == "json" {
					args = append(args, "--json")
				}
				out, errs, code := run(t, args...)
				if code != ExitOK {
					t.Fatalf("exit %d: %s", code, errs)
				}
				out = strings.ReplaceAll(out, dir, "$TMP")
				out = strings.ReplaceAll(out, clampPcaps, "$PCAPS")
				golden(t, "clamp/"+tc.name+"."+format, out)
			}
		})
	}
}

func TestClampExplainGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"1460-mtu1400", []string{"--syn-mss", "1460", "--mtu", "1400"}},
		{"1200-mss1360", []string{"--syn-mss", "1200", "--mss", "1360", "--family", "ipv4"}},
		{"none-insert-ipv6", []string{"--syn-mss", "none", "--mss", "1360", "--insert", "--family", "ipv6"}},
		{"none-nft", []string{"--syn-mss", "none", "--mss", "1360", "--rule", "nft"}},
		{"65535-ipv6", []string{"--syn-mss", "65535", "--mss", "65535", "--family", "ipv6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, format := range []string{"txt", "json"} {
				args := append([]string{"clamp", "--explain"}, tc.args...)
				if format == "json" {
					args = append(args, "--json")
				}
				out, errs, code := run(t, args...)
				if code != ExitOK {
					t.Fatalf("exit %d: %s", code, errs)
				}
				golden(t, "clamp/explain-"+tc.name+"."+format, out)
			}
		})
	}
}

// TestClampBadInput: truncated or corrupt captures give one clear line that
// names the packet, exit 2, and leave nothing under OUT's name: a file that
// was there before is untouched, and no temporary file remains.
func TestClampBadInput(t *testing.T) {
	pcap, err := os.ReadFile(filepath.Join(clampPcaps, "zeek__tcp_options.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	ng, err := os.ReadFile(filepath.Join(clampPcaps, "zeek__tcp_retransmit-timeout.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	// zeek__tcp_options.pcap: 24-byte file header, then records of 16 + 78,
	// 16 + 74, 16 + 70, 16 + 174 bytes (tshark -e frame.cap_len: 78 74 70 174).
	rec3 := 24 + (16 + 78) + (16 + 74)
	corrupt := append([]byte(nil), pcap...)
	// record 3 claims 80 captured bytes where 70 follow: a record longer
	// than its packet is read, as libpcap reads it (docs/analyze.md, "File
	// variants"), so record 4's header is read 10 bytes late and its
	// length is garbage: the file is corrupt from packet 4
	binary.LittleEndian.PutUint32(corrupt[rec3+8:], 80)
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"pcap cut inside packet 3", "packet 3: file ends inside the packet (truncated capture)", pcap[:rec3+16+30]},
		{"pcap cut inside the header of packet 3", "packet 3: file ends inside the packet (truncated capture)", pcap[:rec3+7]},
		{"pcap record length lying", "packet 4: corrupt record: capture length exceeds snap length: 593356771 > 65535", corrupt},
		{"pcapng cut inside packet 2", "packet 2: ", ng[:len(ng)-len(ng)/3]},
		{"pcap header only half there", "pcap header", pcap[:12]},
		{"not a capture", "not a pcap or pcapng file", []byte("hello, world\n")},
		{"empty file", "not a capture file", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in")
			if err := os.WriteFile(in, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out.pcap")
			if err := os.WriteFile(out, []byte("previous"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, errs, code := run(t, "clamp", "--in", in, "--out", out, "--mss", "1200")
			if code != ExitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, in) {
				t.Fatalf("exit %d, stderr %q; want %q naming %s", code, errs, tc.want, in)
			}
			if b, _ := os.ReadFile(out); string(b) != "previous" {
				t.Fatalf("OUT was touched: %q", b)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 2 {
				t.Fatalf("files left behind: %v", ents)
			}
		})
	}
}

// TestClampHugeRecord: issue 14 item 6 from the command line. A pcap with
// snap length 0xFFFFFFFF and one 600 MiB record (a sparse file) is bad
// input, refused with analyze's bound (exit 2, one line naming the packet),
// not read into memory; OUT is not written.
func TestClampHugeRecord(t *testing.T) {
	const huge = 600 << 20
	hdr := make([]byte, 24+16)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 0xffffffff)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	binary.LittleEndian.PutUint32(hdr[24+8:], huge)
	binary.LittleEndian.PutUint32(hdr[24+12:], huge)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "huge.pcap"), filepath.Join(dir, "out.pcap")
	if err := os.WriteFile(in, hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(in, int64(len(hdr))+huge); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run(t, "clamp", "--in", in, "--out", out, "--mss", "1200")
	want := "packet 1: corrupt record: capture length 629145600 over the 67108864 accepted"
	if code != ExitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, want) {
		t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, errs, want)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("OUT written: %v", err)
	}
	_, errs, code = run(t, "analyze", in)
	if code != ExitUsage || !strings.Contains(errs, "capture length 629145600 over the 67108864 accepted") {
		t.Fatalf("analyze: exit %d, stderr %q; want the same bound", code, errs)
	}
}

func TestClampUsageErrors(t *testing.T) {
	in := filepath.Join(clampPcaps, "zeek__tcp_options.pcap")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{"--in", in, "--out", "x"}, "a target is needed"},
		{"both targets", []string{"--in", in, "--out", "x", "--mss", "1", "--mtu", "1400"}, "either --mss or --mtu"},
		{"mss 0", []string{"--in", in, "--out", "x", "--mss", "0"}, "--mss: mss 0 out of range"},
		{"mss 65536", []string{"--in", in, "--out", "x", "--mss", "65536"}, "out of range 1-65535"},
		{"mtu 60", []string{"--in", in, "--out", "x", "--mtu", "60"}, "--mtu: mtu 60 below"},
		{"nft cannot insert", []string{"--in", in, "--out", "x", "--mss", "1200", "--rule", "nft", "--insert"}, "nftables never inserts"},
		{"unknown rule", []string{"--in", in, "--out", "x", "--mss", "1200", "--rule", "pf"}, `--rule "pf"`},
		{"no out", []string{"--in", in, "--mss", "1200"}, "--in and --out are required"},
		{"missing input", []string{"--in", "/nonexistent/x.pcap", "--out", "x", "--mss", "1200"}, "--in /nonexistent/x.pcap: no such file or directory"},
		{"explain without syn mss", []string{"--explain", "--mss", "1200"}, "--explain needs --syn-mss"},
		{"explain bad syn mss", []string{"--explain", "--mss", "1200", "--syn-mss", "70000"}, `--syn-mss "70000"`},
		{"explain with files", []string{"--explain", "--mss", "1200", "--syn-mss", "1460", "--in", in}, "--explain takes no --in"},
		{"syn mss without explain", []string{"--in", in, "--out", "x", "--mss", "1200", "--syn-mss", "1460"}, "go with --explain"},
		{"bad family", []string{"--explain", "--mss", "1200", "--syn-mss", "1460", "--family", "ipx"}, `--family "ipx"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := run(t, append([]string{"clamp"}, tc.args...)...)
			if code != ExitUsage || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
				t.Fatalf("exit %d stderr %q, want %q", code, errs, tc.want)
			}
		})
	}
}

// synthPcap builds a pcap of n Ethernet/IPv4 packets: every 20th a SYN with
// MSS 1460 and Linux's options, the others 1448-byte data segments.
func synthPcap(tb testing.TB, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		tb.Fatal(err)
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
	t0 := time.Unix(1700000000, 0)
	for i := 0; i < n; i++ {
		tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: uint32(i), Window: 502}
		var payload []byte
		if i%20 == 0 {
			tcp.SYN = true
			tcp.Options = []layers.TCPOption{
				{OptionType: layers.TCPOptionKindMSS, OptionData: []byte{0x05, 0xb4}},
				{OptionType: layers.TCPOptionKindSACKPermitted},
				{OptionType: layers.TCPOptionKindTimestamps, OptionData: make([]byte, 8)},
				{OptionType: layers.TCPOptionKindNop},
				{OptionType: layers.TCPOptionKindWindowScale, OptionData: []byte{7}},
			}
		} else {
			tcp.ACK = true
			payload = make([]byte, 1448)
		}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		sb := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
			tb.Fatal(err)
		}
		data := sb.Bytes()
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			tb.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestClampSynthetic(t *testing.T) {
	c := mss.Clamper{Target: mustTarget(t, 1360)}
	rep, err := capture.Clamp(bytes.NewReader(synthPcap(t, 400)), io.Discard, &c)
	if err != nil {
		t.Fatal(err)
	}
	if rep.PacketsIn != 400 || rep.Clamped != 20 || rep.NotSYN != 380 {
		t.Fatalf("%+v", rep)
	}
}

func mustTarget(tb testing.TB, n int) mss.Target {
	tg, err := mss.MSSTarget(n)
	if err != nil {
		tb.Fatal(err)
	}
	return tg
}

// BenchmarkClampRewrite measures the pcap rewrite in packets per second,
// reading and writing in memory:
//
//	go test ./internal/cli -run '^$' -bench ClampRewrite -benchtime=2s
func BenchmarkClampRewrite(b *testing.B) {
	krb, err := os.ReadFile(filepath.Join(clampPcaps, "zeek__krb_kerberos_tso.pcapng"))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		data []byte
		pkts int
	}{
		{"synthetic-pcap-5pct-SYN", synthPcap(b, 10000), 10000},
		{"kerberos-tso-pcapng", krb, 314},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := mss.Clamper{Target: mustTarget(b, 1360), Insert: true}
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.data)))
			for b.Loop() {
				if _, err := capture.Clamp(bytes.NewReader(bc.data), io.Discard, &c); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(bc.pkts)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}
