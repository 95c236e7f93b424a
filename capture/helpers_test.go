package capture

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// lastFrame returns the bytes of the last frame the scenario wrote.
func lastFrame(t *testing.T, s *scenario) []byte {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(s.buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var last []byte
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return last
		}
		if err != nil {
			t.Fatal(err)
		}
		last = data
	}
}

type ngPacket struct {
	iface int
	link  layers.LinkType
	data  []byte
}

// pcapngOf writes Ethernet frames (or other link types) into a pcapng
// with one interface per distinct iface index.
func pcapngOf(t *testing.T, ps []ngPacket) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	first := layers.LinkTypeEthernet
	if len(ps) > 0 && ps[0].link != 0 {
		first = ps[0].link
	}
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "if0", LinkType: first, SnapLength: 262144}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	have := 1
	ts := time.Unix(1700000000, 0)
	for _, p := range ps {
		for have <= p.iface {
			lt := layers.LinkTypeEthernet
			if p.link != 0 {
				lt = p.link
			}
			if _, err := w.AddInterface(pcapgo.NgInterface{Name: "if" + itoa(have), LinkType: lt, SnapLength: 262144}); err != nil {
				t.Fatal(err)
			}
			have++
		}
		ts = ts.Add(time.Millisecond)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(p.data), Length: len(p.data), InterfaceIndex: p.iface}, p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return &buf
}
