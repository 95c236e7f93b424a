package capture

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/mss"
)

// ClampReport is what a clamp rewrite did (mtukit clamp prints it as text or
// JSON).
type ClampReport struct {
	In         string `json:"in"`
	Out        string `json:"out"`
	Format     string `json:"format"`
	Target     string `json:"target"`
	TargetIPv4 int    `json:"target_mss_ipv4"`
	TargetIPv6 int    `json:"target_mss_ipv6"`
	Rule       string `json:"rule"`
	Insert     bool   `json:"insert"`

	PacketsIn  int `json:"packets_in"`
	PacketsOut int `json:"packets_out"`
	SYNSeen    int `json:"syn_seen"`
	Clamped    int `json:"clamped"`
	Inserted   int `json:"inserted"`
	Unchanged  int `json:"unchanged"`
	Unparsed   int `json:"unparsed"`
	// NotSYN counts the packets that are not TCP SYNs (passed through):
	// packets_in = syn_seen + unparsed + not_syn.
	NotSYN int `json:"not_syn"`
	// UnchangedReasons breaks unchanged SYNs down by reason.
	UnchangedReasons map[string]int `json:"unchanged_reasons,omitempty"`
	// UnparsedPackets are the 1-based indices (as tshark numbers frames)
	// of the first unparsed packets, with the reason.
	UnparsedPackets []ClampUnparsed `json:"unparsed_packets,omitempty"`
	// UnsupportedLinkTypes are link types whose packets were all passed
	// through as unparsed.
	UnsupportedLinkTypes []string `json:"unsupported_link_types,omitempty"`
}

// ClampUnparsed is a packet the clamper could not parse.
type ClampUnparsed struct {
	Packet int    `json:"packet"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// maxUnparsedListed bounds ClampReport.UnparsedPackets.
const maxUnparsedListed = 20

// InputError is a problem with the input capture of Clamp (bad input, as
// opposed to a failure to write).
type InputError struct{ err error }

func (e *InputError) Error() string { return e.err.Error() }
func (e *InputError) Unwrap() error { return e.err }

func inputErrorf(format string, a ...any) error {
	return &InputError{fmt.Errorf(format, a...)}
}

// clampReadErr turns a reader's error for packet n into a clear one.
func clampReadErr(n int, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return inputErrorf("packet %d: file ends inside the packet (truncated capture)", n)
	}
	return inputErrorf("packet %d: corrupt record: %s", n, lowerFirst(err.Error()))
}

// Clamp reads a pcap or pcapng stream, clamps the MSS of its SYNs with c
// and writes the same format to w: link types, timestamps and every packet
// it does not rewrite byte for byte. Packets it cannot parse are counted
// and passed through. pcap records are read by the analyzer's reader, with
// its bounds (a record over 64 MiB is refused, never allocated); pcapng by
// pcapgo, which keeps the interface, section and packet options the writer
// copies, behind NgBound, which holds it to the analyzer's bounds on
// blocks and interfaces.
func Clamp(r io.Reader, w io.Writer, c *mss.Clamper) (*ClampReport, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, inputErrorf("not a capture file: %d bytes", len(magic))
	}
	rep := &ClampReport{
		Target: c.Target.String(), TargetIPv4: int(c.Target.MSS(encap.IPv4)), TargetIPv6: int(c.Target.MSS(encap.IPv6)),
		Rule: c.Rule.String(), Insert: c.Insert, UnchangedReasons: map[string]int{},
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	switch {
	case bytes.Equal(magic, magicPcapng):
		rep.Format = "pcapng"
		err = clampPcapng(br, bw, c, rep)
	case isPcapMagic(magic):
		rep.Format = "pcap"
		err = clampPcap(br, bw, c, rep)
	default:
		return nil, inputErrorf("not a pcap or pcapng file (magic %x)", magic)
	}
	if err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if len(rep.UnchangedReasons) == 0 {
		rep.UnchangedReasons = nil
	}
	return rep, nil
}

// packetClamper clamps one packet at a time into a reused buffer with room
// for an inserted option, and counts.
type packetClamper struct {
	c   *mss.Clamper
	rep *ClampReport
	buf []byte
	bad map[layers.LinkType]bool
}

func (pc *packetClamper) clamp(n int, data []byte, ci *gopacket.CaptureInfo, link layers.LinkType) []byte {
	pc.rep.PacketsIn++
	fr, ok := mss.LinkFraming(int(link))
	if !ok {
		pc.unparsed(n, "unsupported-link-type", "link type "+link.String()+" is not supported")
		if !pc.bad[link] {
			pc.bad[link] = true
			pc.rep.UnsupportedLinkTypes = append(pc.rep.UnsupportedLinkTypes, fmt.Sprintf("%d (%s)", int(link), link))
		}
		return data
	}
	if cap(pc.buf) < len(data)+4 {
		pc.buf = make([]byte, 0, len(data)+4+256)
	}
	buf := append(pc.buf[:0], data...)
	out, res := pc.c.Clamp(buf, fr)
	switch res.Action {
	case mss.ActionPass:
		pc.rep.NotSYN++
		return data
	case mss.ActionUnparsed:
		pc.unparsed(n, res.Reason.String(), res.Reason.Detail())
		return data
	case mss.ActionUnchanged:
		pc.rep.SYNSeen++
		pc.rep.Unchanged++
		pc.rep.UnchangedReasons[res.Reason.String()]++
		return data
	case mss.ActionClamped:
		pc.rep.SYNSeen++
		pc.rep.Clamped++
	case mss.ActionInserted:
		pc.rep.SYNSeen++
		pc.rep.Inserted++
		grow := len(out) - len(data)
		ci.CaptureLength += grow
		ci.Length += grow
	}
	return out
}

func (pc *packetClamper) unparsed(n int, why, detail string) {
	pc.rep.Unparsed++
	if len(pc.rep.UnparsedPackets) < maxUnparsedListed {
		pc.rep.UnparsedPackets = append(pc.rep.UnparsedPackets, ClampUnparsed{Packet: n, Reason: why, Detail: detail})
	}
}

// clampPcap rewrites a pcap stream read by the analyzer's pcapReader.
func clampPcap(r io.Reader, w io.Writer, c *mss.Clamper, rep *ClampReport) error {
	cr := &countingReader{r: r}
	pr, err := newPcapReader(newStream(cr), cr)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return inputErrorf("pcap header: file too short")
		}
		return inputErrorf("pcap header: %s", lowerFirst(err.Error()))
	}
	var pw *pcapgo.Writer
	if pr.nanoMul == 1 {
		pw = pcapgo.NewWriterNanos(w)
	} else {
		pw = pcapgo.NewWriter(w)
	}
	if err := pw.WriteFileHeader(uint32(pr.snaplen), pr.link); err != nil {
		return err
	}
	pc := &packetClamper{c: c, rep: rep, bad: map[layers.LinkType]bool{}}
	var rec record
	for n := 1; ; n++ {
		err := pr.next(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return clampReadErr(n, err)
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, rec.nanos), CaptureLength: len(rec.data), Length: rec.wireLen}
		out := pc.clamp(n, rec.data, &ci, pr.link)
		if err := pw.WritePacket(ci, out); err != nil {
			return err
		}
		rep.PacketsOut++
	}
	return nil
}

// clampPcapng rewrites a pcapng stream read by pcapgo.
func clampPcapng(r io.Reader, w io.Writer, c *mss.Clamper, rep *ClampReport) error {
	// without WantMixedLinkType pcapgo drops the packets of every interface whose link type differs from the first
	nr, err := pcapgo.NewNgReader(NewNgBound(r, 0), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		return inputErrorf("pcapng section header: %s", lowerFirst(err.Error()))
	}
	var nw *pcapgo.NgWriter
	have := 0 // interfaces written so far
	pc := &packetClamper{c: c, rep: rep, bad: map[layers.LinkType]bool{}}
	for n := 1; ; n++ {
		data, ci, opts, err := nr.ZeroCopyReadPacketDataWithOptions()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return clampReadErr(n, err)
		}
		intf, err := nr.Interface(ci.InterfaceIndex)
		if err != nil {
			return clampReadErr(n, err)
		}
		if nw == nil {
			first, _ := nr.Interface(0)
			nw, err = pcapgo.NewNgWriterInterface(w, first, pcapgo.NgWriterOptions{SectionInfo: nr.SectionInfo()})
			if err != nil {
				return err
			}
			have = 1
		}
		// Interfaces are added in the input's order, so indices match.
		for ; have <= ci.InterfaceIndex; have++ {
			next, err := nr.Interface(have)
			if err != nil {
				return clampReadErr(n, err)
			}
			if _, err := nw.AddInterface(next); err != nil {
				return err
			}
		}
		out := pc.clamp(n, data, &ci, intf.LinkType)
		if err := nw.WritePacketWithOptions(ci, out, opts); err != nil {
			return err
		}
		rep.PacketsOut++
	}
	if nw == nil { // no packets: still write the section and the interfaces
		first, err := nr.Interface(0)
		if err != nil {
			first = pcapgo.DefaultNgInterface
		}
		if nw, err = pcapgo.NewNgWriterInterface(w, first, pcapgo.NgWriterOptions{SectionInfo: nr.SectionInfo()}); err != nil {
			return err
		}
		for k := 1; k < nr.NInterfaces(); k++ {
			next, _ := nr.Interface(k)
			if _, err := nw.AddInterface(next); err != nil {
				return err
			}
		}
	}
	return nw.Flush()
}
