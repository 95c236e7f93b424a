package oracle

import (
	"errors"
	"io"
	"net/netip"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/mtukit/mtukit/encap"
)

// readPcap decodes every packet of a pcap file written by netlab.Capture.
func readPcap(path string) ([]gopacket.Packet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, err
	}
	var pkts []gopacket.Packet
	for len(pkts) < 100000 {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		pkts = append(pkts, gopacket.NewPacket(data, r.LinkType(), gopacket.Default))
	}
	return pkts, nil
}

type synInfo struct {
	fam  encap.Family
	kind string // "SYN" or "SYN-ACK"
	mss  int    // -1 when the option is absent
}

// synMSS lists the MSS option of every SYN and SYN-ACK in a capture.
func synMSS(path string) ([]synInfo, error) {
	pkts, err := readPcap(path)
	if err != nil {
		return nil, err
	}
	var out []synInfo
	for _, p := range pkts {
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil || !tcp.SYN {
			continue
		}
		si := synInfo{fam: encap.IPv4, kind: "SYN", mss: -1}
		if p.Layer(layers.LayerTypeIPv6) != nil {
			si.fam = encap.IPv6
		}
		if tcp.ACK {
			si.kind = "SYN-ACK"
		}
		for _, o := range tcp.Options {
			if o.OptionType == layers.TCPOptionKindMSS && len(o.OptionData) == 2 {
				si.mss = int(o.OptionData[0])<<8 | int(o.OptionData[1])
			}
		}
		out = append(out, si)
	}
	return out, nil
}

// outerLens lists the outer IP packet length (IPv4 total length, IPv6 40 +
// payload length) of every packet in a capture, with its fragment status.
func outerLens(path string) (lens []int, fragments int, err error) {
	pkts, err := readPcap(path)
	if err != nil {
		return nil, 0, err
	}
	for _, p := range pkts {
		// The first network layer is the outer one (a VXLAN packet also
		// decodes to an inner IP layer).
		switch ip := p.NetworkLayer().(type) {
		case *layers.IPv4:
			lens = append(lens, int(ip.Length))
			if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
				fragments++
			}
		case *layers.IPv6:
			lens = append(lens, 40+int(ip.Length))
			if ip.NextHeader == layers.IPProtocolIPv6Fragment {
				fragments++
			}
		}
	}
	return lens, fragments, nil
}

func mustAddr(t interface {
	Helper()
	Fatalf(string, ...any)
}, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatalf("address %q: %v", s, err)
	}
	return a
}
