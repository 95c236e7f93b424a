package mss

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Real captures copied from /work/shared/pcaps; testdata/pcaps/MANIFEST.tsv
// names each file's source repository, path and licence.
const pcapDir = "testdata/pcaps"

type capturedPacket struct {
	index int // 1-based, as tshark numbers frames
	data  []byte
	link  layers.LinkType
}

// readCapture reads every packet of a pcap or pcapng file in testdata/pcaps.
func readCapture(t testing.TB, name string) []capturedPacket {
	t.Helper()
	f, err := os.Open(filepath.Join(pcapDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	var link func() layers.LinkType
	if strings.HasSuffix(name, ".pcapng") {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		src, link = r, r.LinkType
	} else {
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		src, link = r, r.LinkType
	}
	var out []capturedPacket
	for i := 1; ; i++ {
		data, _, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s packet %d: %v", name, i, err)
		}
		out = append(out, capturedPacket{index: i, data: append([]byte(nil), data...), link: link()})
	}
	return out
}

// testPcaps lists the capture files in testdata/pcaps.
func testPcaps(t testing.TB) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(pcapDir, "*.pcap*"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no captures in %s: %v", pcapDir, err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

// gopacketTCP decodes a captured packet with gopacket (an independent
// decoder) and returns its outermost TCP layer, or nil.
func gopacketTCP(p capturedPacket) *layers.TCP {
	pkt := gopacket.NewPacket(p.data, p.link, gopacket.DecodeOptions{NoCopy: true, Lazy: false})
	for _, l := range pkt.Layers() {
		if tcp, ok := l.(*layers.TCP); ok {
			return tcp
		}
		switch l.LayerType() {
		case layers.LayerTypeGRE, layers.LayerTypeUDP, layers.LayerTypeIPSecESP:
			return nil // tunnelled TCP is not ours to see
		}
		if ip, ok := l.(*layers.IPv4); ok && ip.Protocol != layers.IPProtocolTCP {
			return nil
		}
	}
	return nil
}
