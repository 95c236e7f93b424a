package mss

import (
	"errors"
	"fmt"

	"github.com/mtukit/mtukit/encap"
)

// Default send MSS values, assumed when a peer's SYN carries no MSS option
// (RFC 9293 §3.7.1, MUST-15): 576 - 40 for IPv4, 1280 - 60 for IPv6.
const (
	DefaultIPv4 = 536
	DefaultIPv6 = 1220
)

// NoLimit is the MSS value that, from an IPv6 peer, means "no limit from
// me": the sender is bounded only by the path MTU found by Path MTU
// Discovery (RFC 2675 §5.2: "an MSS value of 65,535 is to be treated as
// infinity"). From an IPv4 peer it is an ordinary, large number.
const NoLimit = 65535

// DefaultSendMSS is the send MSS a TCP assumes when the peer's SYN carried
// no usable MSS option (RFC 9293 §3.7.1).
func DefaultSendMSS(f encap.Family) int {
	if f == encap.IPv6 {
		return DefaultIPv6
	}
	return DefaultIPv4
}

// SegmentOptions are the TCP options a sender puts on each data segment.
type SegmentOptions struct {
	Timestamps bool // RFC 7323: 10 bytes, 12 with the two NOPs senders align it with
	SACKBlocks int  // RFC 2018: 2+8n bytes, 4+8n aligned; 0..4
	MD5        bool // RFC 2385: 18 bytes, 20 aligned
	AOMACLen   int  // RFC 5925: 4+MAC bytes, aligned to 4; 0 when TCP-AO is not used
}

// ErrOptionSpace means the options do not fit in the 40 bytes of TCP option
// space.
var ErrOptionSpace = errors.New("tcp options exceed the 40-byte option space")

// Bytes is the option space the options take on every segment, each option
// aligned to 4 bytes with NOPs as Linux and BSD stacks lay them out.
func (o SegmentOptions) Bytes() (int, error) {
	if o.SACKBlocks < 0 || o.SACKBlocks > 4 || o.AOMACLen < 0 {
		return 0, fmt.Errorf("bad segment options: %d SACK blocks, TCP-AO MAC of %d bytes", o.SACKBlocks, o.AOMACLen)
	}
	n := 0
	if o.Timestamps {
		n += 12
	}
	if o.SACKBlocks > 0 {
		n += 4 + 8*o.SACKBlocks
	}
	if o.MD5 {
		n += 20
	}
	if o.AOMACLen > 0 {
		n += (4 + o.AOMACLen + 3) &^ 3
	}
	if n > 40 {
		return n, ErrOptionSpace
	}
	return n, nil
}

// SendInput is what one end of a connection knows when it computes its
// effective send MSS. MSS is per direction: each end reads the other's SYN.
type SendInput struct {
	Family encap.Family
	// PeerMSS is the MSS option of the peer's SYN (Summary.MSS): 0 when the
	// SYN carried none, or only a malformed one, which RFC 9293 §3.7.1 says
	// to ignore. Only SYN segments carry it.
	PeerMSS uint16
	// MTU is the IP MTU the segments leave on (EMTU_S, or the path MTU once
	// PMTUD has learnt it). MMS_S is MTU less the fixed IP header.
	MTU int
	// TCPOptionBytes is the TCP option space on each data segment
	// (SegmentOptions.Bytes: 12 with timestamps).
	TCPOptionBytes int
	// IPOptionBytes is the size of IPv4 options or IPv6 extension headers on
	// each packet.
	IPOptionBytes int
}

// Send is the effective send MSS and how it was reached.
type Send struct {
	SendMSS   int  // the peer's MSS, or the default
	Defaulted bool // no usable MSS option: 536 / 1220 assumed
	NoLimit   bool // an IPv6 peer sent 65535: only the MTU bounds the segment
	MMSS      int  // MMS_S: MTU less the fixed IP header
	// BoundBy says which side of the min() won: "peer" (its MSS) or "mtu"
	// (the local MTU); "peer" on a tie.
	BoundBy string
	// Effective is Eff.snd.MSS: the most payload bytes one segment carries.
	Effective int
}

// EffectiveSendMSS is RFC 9293 §3.7.1:
//
//	Eff.snd.MSS = min(SendMSS+20, MMS_S) - TCPhdrsize - IPoptionsize
//
// where SendMSS is the peer's MSS option or the default (536 IPv4, 1220
// IPv6), MMS_S is the MTU less the fixed IP header (20 / 40), TCPhdrsize is
// 20 plus the TCP options on the segment, and IPoptionsize the IP options.
// As RFC 6691 §2 puts it: the advertised MSS counts only fixed headers, so
// the sender subtracts the options it actually sends (MSS 1460 with
// timestamps carries 1448). An IPv6 SendMSS of 65535 is infinity (RFC 2675
// §5.2): the MTU alone bounds the segment.
func EffectiveSendMSS(in SendInput) (Send, error) {
	f := in.Family
	if f != encap.IPv4 && f != encap.IPv6 {
		return Send{}, fmt.Errorf("unknown address family %d", f)
	}
	if in.MTU < f.MinMTU() {
		return Send{}, fmt.Errorf("%s MTU %d is below the minimum of %d", f, in.MTU, f.MinMTU())
	}
	if f == encap.IPv4 && in.MTU > 65535 {
		return Send{}, fmt.Errorf("ipv4 MTU %d is above 65535", in.MTU)
	}
	if in.TCPOptionBytes < 0 || in.TCPOptionBytes > 40 {
		return Send{}, fmt.Errorf("%d bytes of tcp options: the option space is 0 to 40", in.TCPOptionBytes)
	}
	if in.IPOptionBytes < 0 || (f == encap.IPv4 && in.IPOptionBytes > 40) {
		return Send{}, fmt.Errorf("%d bytes of ip options out of range", in.IPOptionBytes)
	}
	s := Send{SendMSS: int(in.PeerMSS), MMSS: in.MTU - f.HeaderLen()}
	if in.PeerMSS == 0 {
		s.SendMSS, s.Defaulted = DefaultSendMSS(f), true
	}
	s.NoLimit = f == encap.IPv6 && in.PeerMSS == NoLimit
	seg := s.SendMSS + TCPHeaderLen
	s.BoundBy = "peer"
	if s.NoLimit || s.MMSS < seg {
		seg, s.BoundBy = s.MMSS, "mtu"
	}
	s.Effective = seg - TCPHeaderLen - in.TCPOptionBytes - in.IPOptionBytes
	if s.Effective <= 0 {
		return s, fmt.Errorf("no room for payload: %d-byte segments less %d bytes of headers and options", seg, TCPHeaderLen+in.TCPOptionBytes+in.IPOptionBytes)
	}
	return s, nil
}
