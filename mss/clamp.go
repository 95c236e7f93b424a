package mss

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/mtukit/mtukit/encap"
)

// Target is the MSS a clamp lowers SYNs to: a fixed value (iptables
// --set-mss, nft "maxseg size set N") or one derived from an MTU per
// address family (iptables --clamp-mss-to-pmtu, nft "size set rt mtu").
type Target struct {
	n     int
	isMTU bool
}

// MSSTarget clamps to a fixed MSS, 1 to 65535.
func MSSTarget(mss int) (Target, error) {
	if mss < 1 || mss > 65535 {
		return Target{}, fmt.Errorf("mss %d out of range 1-65535", mss)
	}
	return Target{n: mss}, nil
}

// MTUTarget clamps to ForMTU(mtu, family) of each packet: MTU-40 for IPv4
// and MTU-60 for IPv6, as --clamp-mss-to-pmtu does with the route MTU. The
// MTU must hold the fixed headers of both families (at least 68, the IPv4
// minimum); MSS values above 65535 are capped at 65535.
func MTUTarget(mtu int) (Target, error) {
	if mtu < encap.IPv4.MinMTU() {
		return Target{}, fmt.Errorf("mtu %d below the ipv4 minimum of %d", mtu, encap.IPv4.MinMTU())
	}
	return Target{n: mtu, isMTU: true}, nil
}

// MSS is the value the target clamps packets of family f to.
func (t Target) MSS(f encap.Family) uint16 {
	if !t.isMTU {
		return uint16(t.n)
	}
	m := ForMTU(t.n, f)
	if m > 65535 {
		m = 65535
	}
	return uint16(m)
}

// MTU returns the MTU of an MTU target.
func (t Target) MTU() (int, bool) { return t.n, t.isMTU }

// IsZero reports whether t is the zero Target (no target set).
func (t Target) IsZero() bool { return t.n == 0 }

func (t Target) String() string {
	if t.isMTU {
		return "mtu " + strconv.Itoa(t.n)
	}
	return "mss " + strconv.Itoa(t.n)
}

// Rule selects whose clamping semantics to follow; they differ only on
// malformed MSS options and in that only the iptables target inserts.
type Rule uint8

const (
	// RuleTCPMSS is the Linux iptables/ip6tables TCPMSS target
	// (net/netfilter/xt_TCPMSS.c): it rewrites the first option of kind 2
	// and length 4 found by its walk, skipping MSS options of other lengths,
	// and can insert an MSS option (Clamper.Insert).
	RuleTCPMSS Rule = iota
	// RuleNFT is nftables "tcp option maxseg size set"
	// (net/netfilter/nft_exthdr.c): the first option of kind 2 decides; it
	// is rewritten when its length is 4 or more (bytes 2-3), and the SYN is
	// left alone when that option is shorter. It never inserts.
	RuleNFT
)

func (r Rule) String() string {
	if r == RuleNFT {
		return "nft"
	}
	return "tcpmss"
}

// Action is what the clamper did with a packet.
type Action uint8

const (
	// ActionPass: not a TCP SYN (non-IP, non-TCP, later fragments, segments
	// without SYN or with RST); untouched.
	ActionPass Action = iota
	// ActionUnparsed: the headers are truncated or malformed; untouched.
	ActionUnparsed
	// ActionUnchanged: a SYN left as it was (Result.Reason says why).
	ActionUnchanged
	// ActionClamped: the MSS option was lowered to the target.
	ActionClamped
	// ActionInserted: an MSS option was added (Clamper.Insert).
	ActionInserted
)

var actionNames = [...]string{"pass", "unparsed", "unchanged", "clamped", "inserted"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action?"
}

// Reason explains an Action.
type Reason uint8

const (
	ReasonNone         Reason = iota
	ReasonNotIP               // not IPv4 or IPv6 (ARP, LLDP, PPPoE discovery, LCP, encrypted MACsec, unknown framing)
	ReasonNotTCP              // IP, but the upper layer is not TCP (tunnels are not entered)
	ReasonFragment            // a later fragment: no TCP header in it
	ReasonNotSYN              // TCP without SYN, or with RST (the --tcp-flags SYN,RST SYN match)
	ReasonShort               // the buffer ends inside a header
	ReasonBadHeader           // a header length or version that cannot be right
	ReasonNotAbove            // the MSS option is already at or below the target: never raised
	ReasonNoMSS               // no MSS option and insertion is off (or the rule never inserts)
	ReasonMalformedMSS        // RuleNFT: the first kind-2 option is shorter than 4 bytes
	ReasonPayload             // no MSS option, but the SYN carries data: the kernel does not insert
	ReasonHeaderFull          // no MSS option, but the header is already 60 bytes
	ReasonFragmented          // no MSS option, but more fragments follow: the length cannot change
	ReasonNotWhole            // no MSS option, but the buffer does not hold the whole IP packet
	ReasonNoRoom              // no MSS option, and the buffer has no capacity for 4 more bytes
	ReasonLowered             // ActionClamped
	ReasonAdded               // ActionInserted
	ReasonProtected           // a SYN inside MACsec with integrity only: a rewrite would break the ICV (ActionUnchanged)
)

var reasonNames = [...]string{
	"", "not-ip", "not-tcp", "fragment", "not-syn", "truncated", "bad-header", "mss-not-above-target",
	"no-mss-option", "malformed-mss", "syn-with-data", "tcp-header-full", "fragmented", "not-whole-packet",
	"no-room", "lowered", "added", "integrity-protected",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason?"
}

var reasonDetails = [...]string{
	"", "not IPv4 or IPv6", "not TCP (tunnels are not entered)", "a later fragment", "not a SYN, or a SYN with RST",
	"the capture ends inside the IP or TCP header", "a header length or version that cannot be right",
	"the MSS is already at or below the target, and a clamp never raises it",
	"no MSS option, and none is inserted", "nft: the first MSS option is shorter than 4 bytes",
	"no MSS option, but the SYN carries data", "no MSS option, but the TCP header is already 60 bytes",
	"no MSS option, but more fragments follow", "no MSS option, but the capture does not hold the whole packet",
	"no MSS option, and no room in the buffer", "MSS lowered to the target", "MSS option added",
	"inside MACsec (integrity only): a rewrite would break its ICV",
}

// Detail is a sentence for r, for reports.
func (r Reason) Detail() string {
	if int(r) < len(reasonDetails) {
		return reasonDetails[r]
	}
	return r.String()
}

// Result reports what Clamp did to one packet.
type Result struct {
	Action Action
	Reason Reason
	Family encap.Family // 0 when no IP header was found
	OldMSS uint16       // the SYN's MSS option before (0: none found)
	NewMSS uint16       // after (equal to OldMSS unless clamped or inserted)
	Target uint16       // the target for this packet's family
}

// Clamper rewrites the MSS option of TCP SYN and SYN-ACK segments in place,
// exactly as a Linux router clamping with iptables TCPMSS or nftables does:
//
//   - only segments with SYN set and RST clear (the "--tcp-flags SYN,RST
//     SYN" match of every clamp recipe), and only the first fragment;
//   - the MSS option is lowered to the target when it is larger, never
//     raised (both kernels: "increase can cause connection to stall");
//   - the TCP checksum is updated incrementally (RFC 1624 eqn. 3), for the
//     IPv6 pseudo-header too, and is exactly what a full recomputation
//     gives when it was right before; a wrong one stays wrong by the same
//     amount, as in the kernel. An MSS option at an odd offset changes two
//     checksum words, and both are updated. Linux 6.18 (xt_TCPMSS and
//     nft_exthdr) updates one word as if the value were aligned and emits a
//     wrong TCP checksum there: the lab test in internal/cli shows it, and it
//     is the one case where mtukit's bytes differ from the kernel's.
//   - every other byte stays as it was.
//
// With Insert (RuleTCPMSS only) a SYN without an MSS option gets one, as
// xt_TCPMSS does (iptables-legacy, and iptables-nft, which loads the same
// target through nft_compat; native nft never inserts): only when the segment carries no data, its header is
// below 60 bytes, the buffer holds the whole (unfragmented) packet and has
// 4 bytes of spare capacity. The option is put first, before the existing
// options, which move up by 4; its value is min(target, 536) for IPv4 and
// min(target, 1220) for IPv6, because a peer that saw no MSS assumes those
// defaults and inserting a larger value would raise its MSS. The data
// offset, the IPv4 total length and header checksum or the IPv6 payload
// length, and a PPPoE length field grow by 4 with it.
type Clamper struct {
	Target Target
	Rule   Rule
	Insert bool
}

// ErrNoTarget is returned by Check for a Clamper without a target.
var ErrNoTarget = errors.New("no clamp target")

// Check reports whether the clamper is usable.
func (c *Clamper) Check() error {
	if c.Target.IsZero() {
		return ErrNoTarget
	}
	if c.Insert && c.Rule != RuleTCPMSS {
		return errors.New("only the iptables TCPMSS rule inserts MSS options")
	}
	return nil
}

// Clamp clamps the packet in buf, framed as fr, in place. It returns buf,
// grown by 4 bytes into its spare capacity when an MSS option was inserted,
// and what it did. It never allocates and never touches a packet it does
// not rewrite.
func (c *Clamper) Clamp(buf []byte, fr Framing) ([]byte, Result) {
	p, why := locate(buf, fr)
	res := Result{Family: p.family, Reason: why}
	switch why {
	case ReasonNone:
	case ReasonShort, ReasonBadHeader:
		res.Action = ActionUnparsed
		return buf, res
	default:
		res.Action = ActionPass
		return buf, res
	}
	seg := buf[p.l4:p.end]
	if seg[13]&(FlagSYN|FlagRST) != FlagSYN {
		res.Action, res.Reason = ActionPass, ReasonNotSYN
		return buf, res
	}
	if p.protected {
		res.Action, res.Reason = ActionUnchanged, ReasonProtected
		return buf, res
	}
	hl := int(seg[12]>>4) * 4
	if hl < TCPHeaderLen || hl > len(seg) {
		res.Action = ActionUnparsed
		res.Reason = ReasonBadHeader
		if p.end == len(buf) && !p.whole {
			res.Reason = ReasonShort
		}
		return buf, res
	}
	target := c.Target.MSS(p.family)
	res.Target = target
	res.Action = ActionUnchanged

	at := c.findMSS(seg[:hl])
	if at == -2 {
		res.Reason = ReasonMalformedMSS
		return buf, res
	}
	if at >= 0 {
		old := binary.BigEndian.Uint16(seg[at+2:])
		res.OldMSS, res.NewMSS = old, old
		if old <= target {
			res.Reason = ReasonNotAbove
			return buf, res
		}
		// The words of the checksum that the two MSS bytes fall in: one
		// when the value is at an even offset, two when it is odd.
		lo := (at + 2) &^ 1
		hi := (at + 5) &^ 1
		var before [4]byte
		copy(before[:], seg[lo:hi])
		binary.BigEndian.PutUint16(seg[at+2:], target)
		ck := binary.BigEndian.Uint16(seg[16:])
		binary.BigEndian.PutUint16(seg[16:], csumUpdateWords(ck, before[:hi-lo], seg[lo:hi]))
		res.Action, res.Reason, res.NewMSS = ActionClamped, ReasonLowered, target
		return buf, res
	}
	if !c.Insert || c.Rule != RuleTCPMSS {
		res.Reason = ReasonNoMSS
		return buf, res
	}
	switch {
	case len(seg) > hl:
		res.Reason = ReasonPayload
	case hl >= 60:
		res.Reason = ReasonHeaderFull
	case p.moreFrag:
		res.Reason = ReasonFragmented
	case !p.whole:
		res.Reason = ReasonNotWhole
	case cap(buf)-len(buf) < 4:
		res.Reason = ReasonNoRoom
	}
	if res.Reason != ReasonNone {
		return buf, res
	}
	return c.insert(buf, p, hl, target, res)
}

// findMSS returns the offset in hdr (a TCP header) of the MSS option the
// rule rewrites, -1 when there is none, -2 when RuleNFT's first kind-2
// option is too short to hold a value. Both kernel walks advance one byte
// over EOL, NOP and zero lengths and do not stop at EOL.
func (c *Clamper) findMSS(hdr []byte) int {
	if c.Rule == RuleNFT {
		// nft_exthdr_tcp_set_eval: for (i = 20; i < hdrlen - 1; i += optlen)
		for i := TCPHeaderLen; i < len(hdr)-1; {
			k, l := hdr[i], int(hdr[i+1])
			if k == byte(KindMSS) {
				if i+max(l, 1) > len(hdr) || l < 4 {
					return -2
				}
				return i
			}
			if k <= byte(KindNOP) || l == 0 {
				i++
			} else {
				i += l
			}
		}
		return -1
	}
	// tcpmss_mangle_packet: for (i = 20; i <= hdrlen - 4; i += optlen)
	for i := TCPHeaderLen; i <= len(hdr)-4; {
		k, l := hdr[i], int(hdr[i+1])
		if k == byte(KindMSS) && l == 4 {
			return i
		}
		if k <= byte(KindNOP) || l == 0 {
			i++
		} else {
			i += l
		}
	}
	return -1
}

// insert adds an MSS option at the start of the options of the SYN in buf.
func (c *Clamper) insert(buf []byte, p packet, hl int, target uint16, res Result) ([]byte, Result) {
	def := uint16(DefaultSendMSS(p.family))
	v := min(target, def)
	n := len(buf)
	buf = buf[:n+4]
	tcp := p.l4
	// Move the options (and anything after the IP packet, such as Ethernet
	// padding) up by 4 bytes; a shift by an even count leaves their sum alone.
	copy(buf[tcp+TCPHeaderLen+4:], buf[tcp+TCPHeaderLen:n])
	opt := buf[tcp+TCPHeaderLen:]
	opt[0], opt[1] = byte(KindMSS), 4
	binary.BigEndian.PutUint16(opt[2:], v)
	seg := buf[tcp:]
	ck := binary.BigEndian.Uint16(seg[16:])
	// Pseudo-header TCP length (RFC 9293 §3.1; RFC 8200 §8.1 for IPv6).
	ck = csumUpdate(ck, uint16(hl), uint16(hl+4))
	// The new option's two words, in place of nothing (zero).
	ck = csumUpdate(ck, 0, uint16(KindMSS)<<8|4)
	ck = csumUpdate(ck, 0, v)
	// Data offset grows by one word.
	oldWord := binary.BigEndian.Uint16(seg[12:])
	seg[12] += 1 << 4
	ck = csumUpdate(ck, oldWord, binary.BigEndian.Uint16(seg[12:]))
	binary.BigEndian.PutUint16(seg[16:], ck)

	if p.family == encap.IPv4 {
		ip := buf[p.l3:]
		total := binary.BigEndian.Uint16(ip[2:])
		binary.BigEndian.PutUint16(ip[2:], total+4)
		binary.BigEndian.PutUint16(ip[10:], csumUpdate(binary.BigEndian.Uint16(ip[10:]), total, total+4))
	} else {
		ip := buf[p.l3:]
		binary.BigEndian.PutUint16(ip[4:], binary.BigEndian.Uint16(ip[4:])+4)
	}
	if p.pppoeLen >= 0 {
		binary.BigEndian.PutUint16(buf[p.pppoeLen:], binary.BigEndian.Uint16(buf[p.pppoeLen:])+4)
	}
	res.Action, res.Reason, res.NewMSS = ActionInserted, ReasonAdded, v
	return buf, res
}
