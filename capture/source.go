package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// readBuffer is the read-ahead for capture files: large enough that reading
// costs one system call per many packets.
const readBuffer = 256 << 10

// source yields the frames of a capture file.
type source interface {
	// next returns the next frame (valid until the following call), its
	// capture info, link type and capture point.
	next() (data []byte, ci gopacket.CaptureInfo, link layers.LinkType, point uint64, err error)
	// format names the file format.
	format() string
}

// Magic numbers of the formats read.
var (
	magicPcapng = []byte{0x0a, 0x0d, 0x0d, 0x0a}
	magicGzip   = []byte{0x1f, 0x8b}
)

// openSource detects the format of r (pcap, pcapng, either gzip-compressed)
// and returns a source for it.
func openSource(r io.Reader) (source, error) {
	br := bufio.NewReaderSize(r, readBuffer)
	head, err := br.Peek(4)
	if err != nil {
		if len(head) == 0 {
			return nil, errors.New("empty file: not a pcap or pcapng capture")
		}
		return nil, fmt.Errorf("file too short (%d bytes) for a pcap or pcapng header", len(head))
	}
	if bytes.HasPrefix(head, magicGzip) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return openSource(zr)
	}
	if bytes.Equal(head, magicPcapng) {
		r, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, fmt.Errorf("pcapng header: %s", lowerFirst(err.Error()))
		}
		return &ngSource{r: r}, nil
	}
	switch m := [4]byte(head); m {
	case [4]byte{0xd4, 0xc3, 0xb2, 0xa1}, [4]byte{0xa1, 0xb2, 0xc3, 0xd4},
		[4]byte{0x4d, 0x3c, 0xb2, 0xa1}, [4]byte{0xa1, 0xb2, 0x3c, 0x4d}:
	default:
		return nil, fmt.Errorf("not a pcap or pcapng file (starts with %x)", head)
	}
	// pcapgo wraps a *bufio.Reader of at least 4 KB as it is, so it reads
	// through our 1 MB buffer.
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("pcap header: %s", lowerFirst(err.Error()))
	}
	return &pcapSource{r: pr, link: pr.LinkType()}, nil
}

type pcapSource struct {
	r    *pcapgo.Reader
	link layers.LinkType
}

func (s *pcapSource) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, uint64, error) {
	data, ci, err := s.r.ZeroCopyReadPacketData()
	return data, ci, s.link, 0, err
}

func (s *pcapSource) format() string { return "pcap" }

type ngSource struct {
	r *pcapgo.NgReader
}

func (s *ngSource) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, uint64, error) {
	data, ci, err := s.r.ZeroCopyReadPacketData()
	if err != nil {
		return nil, ci, 0, 0, err
	}
	iface, err := s.r.Interface(ci.InterfaceIndex)
	if err != nil {
		return nil, ci, 0, 0, err
	}
	return data, ci, iface.LinkType, uint64(ci.InterfaceIndex+1) << 48, nil
}

func (s *ngSource) format() string { return "pcapng" }

// readError words an error from the pcapgo readers for a person: which
// packet, and what is wrong with it.
func readError(num int64, err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("packet %d: file ends in the middle of the record (truncated capture)", num)
	}
	return fmt.Errorf("packet %d: %s", num, lowerFirst(err.Error()))
}
