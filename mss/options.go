package mss

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
)

// Kind is a TCP option kind (IANA registry "TCP Option Kind Numbers").
type Kind uint8

// The option kinds the codec knows by name and checks the length of.
const (
	KindEOL      Kind = 0   // End of Option List (RFC 9293 §3.2), 1 byte
	KindNOP      Kind = 1   // No-Operation (RFC 9293 §3.2), 1 byte
	KindMSS      Kind = 2   // Maximum Segment Size (RFC 9293 §3.2), length 4, SYN only
	KindWS       Kind = 3   // Window Scale (RFC 7323 §2.2), length 3, SYN only
	KindSACKPerm Kind = 4   // SACK-Permitted (RFC 2018 §2), length 2, SYN only
	KindSACK     Kind = 5   // SACK (RFC 2018 §3), length 2+8n, n = 1..4
	KindTS       Kind = 8   // Timestamps (RFC 7323 §3.2), length 10
	KindMD5      Kind = 19  // TCP MD5 signature (RFC 2385), length 18
	KindAO       Kind = 29  // TCP Authentication Option (RFC 5925 §2.2), length >= 4
	KindMPTCP    Kind = 30  // Multipath TCP (RFC 8684 §3), length >= 3
	KindTFO      Kind = 34  // TCP Fast Open cookie (RFC 7413 §4.1.1), length 2 or 6..18 even
	KindExp1     Kind = 253 // RFC 3692-style experiment (RFC 4727, RFC 6994), length >= 4
	KindExp2     Kind = 254 // as KindExp1
)

var kindNames = [...]string{
	KindEOL: "eol", KindNOP: "nop", KindMSS: "mss", KindWS: "wscale", KindSACKPerm: "sack-perm",
	KindSACK: "sack", KindTS: "timestamps", KindMD5: "md5", KindAO: "tcp-ao", KindMPTCP: "mptcp",
	KindTFO: "tfo", KindExp1: "exp1", KindExp2: "exp2",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind-" + strconv.Itoa(int(k))
}

// validLen reports whether n is a length the option's specification allows.
// Unknown kinds accept any length of at least 2 (RFC 9293 §3.2: the length
// byte counts kind and length).
func (k Kind) validLen(n int) bool {
	switch k {
	case KindEOL, KindNOP:
		return n == 1
	case KindMSS:
		return n == 4
	case KindWS:
		return n == 3
	case KindSACKPerm:
		return n == 2
	case KindSACK:
		return n >= 10 && n <= 34 && (n-2)%8 == 0
	case KindTS:
		return n == 10
	case KindMD5:
		return n == 18
	case KindAO, KindExp1, KindExp2:
		return n >= 4
	case KindMPTCP:
		return n >= 3
	case KindTFO:
		return n == 2 || (n >= 6 && n <= 18 && n%2 == 0)
	}
	return n >= 2
}

// synOnly reports whether RFCs allow the option on SYN segments only.
func (k Kind) synOnly() bool { return k == KindMSS || k == KindWS || k == KindSACKPerm }

// Anomaly is a set of things wrong with a segment's options. The walker
// records them and carries on where it safely can.
type Anomaly uint16

const (
	// AnomalyTruncated: the last byte of the option space is a kind that
	// needs a length byte.
	AnomalyTruncated Anomaly = 1 << iota
	// AnomalyBadLength: a length byte below 2. The walk cannot continue
	// (RFC 9293 §3.2; Linux tcp_parse_options stops at such "silly" options).
	AnomalyBadLength
	// AnomalyPastDataOffset: an option's length runs past the data offset,
	// into the payload. The walk stops.
	AnomalyPastDataOffset
	// AnomalyKindLength: a known kind with a length its RFC forbids (an MSS
	// option of length 5, a timestamps option of length 8...). The option
	// is reported but must be ignored (RFC 9293 §3.7.1 for MSS).
	AnomalyKindLength
	// AnomalyMSSNotSYN: an MSS option on a segment without SYN (RFC 9293
	// §3.2: "MUST only be sent in the initial connection request").
	AnomalyMSSNotSYN
	// AnomalySYNOnly: window scale or SACK-permitted on a non-SYN segment
	// (RFC 7323 §2.2, RFC 2018 §2).
	AnomalySYNOnly
	// AnomalyDuplicateMSS: more than one MSS option. The Linux TCPMSS target
	// lowers only the first one, while Linux receivers keep the last: a
	// second MSS option can bypass a clamp.
	AnomalyDuplicateMSS
	// AnomalyDuplicate: another kind (not NOP, SACK or experimental) seen twice.
	AnomalyDuplicate
	// AnomalyAfterEOL: non-zero bytes follow End of Option List. Receivers
	// stop at EOL and never see them; the Linux TCPMSS target does not stop
	// and would rewrite an MSS option there.
	AnomalyAfterEOL
	// AnomalyMSSZero: an MSS option with value 0, which Linux ignores (and so
	// does Summary).
	AnomalyMSSZero
	// AnomalyWScaleRange: a window scale shift above 14; receivers use 14
	// (RFC 7323 §2.3).
	AnomalyWScaleRange
)

var anomalyNames = []string{
	"truncated", "bad-length", "past-data-offset", "kind-length", "mss-not-syn",
	"syn-only-option", "duplicate-mss", "duplicate-option", "data-after-eol", "mss-zero",
	"wscale-over-14",
}

// String lists the anomalies by name, comma separated ("" when none).
func (a Anomaly) String() string {
	var parts []string
	for i, n := range anomalyNames {
		if a&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, ",")
}

// Names returns the anomalies by name (nil when none).
func (a Anomaly) Names() []string {
	var parts []string
	for i, n := range anomalyNames {
		if a&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return parts
}

// Errors of TCP header parsing. They are values, so returning one does not
// allocate.
var (
	ErrShortSegment = errors.New("tcp segment shorter than the 20-byte fixed header")
	ErrDataOffset   = errors.New("tcp data offset below 5 words")
	ErrShortHeader  = errors.New("tcp segment shorter than its data offset")
)

// TCP header flags (RFC 9293 §3.1), as in byte 13 of the header.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagPSH = 0x08
	FlagACK = 0x10
	FlagURG = 0x20
	FlagECE = 0x40
	FlagCWR = 0x80
)

// HeaderLen returns the TCP header length given by the data offset of seg,
// checking that seg holds that much.
func HeaderLen(seg []byte) (int, error) {
	if len(seg) < TCPHeaderLen {
		return 0, ErrShortSegment
	}
	n := int(seg[12]>>4) * 4
	if n < TCPHeaderLen {
		return 0, ErrDataOffset
	}
	if n > len(seg) {
		return 0, ErrShortHeader
	}
	return n, nil
}

// Option is one option of a TCP header. Data aliases the header.
type Option struct {
	Kind   Kind
	Offset int    // of the kind byte, from the start of the TCP header
	Len    int    // the length byte; 1 for EOL and NOP
	Data   []byte // the bytes after kind and length (nil for EOL and NOP)
}

// WellFormed reports whether the option's length is one its RFC allows.
func (o Option) WellFormed() bool { return o.Kind.validLen(o.Len) }

// MSS returns the value of a well-formed MSS option.
func (o Option) MSS() (uint16, bool) {
	if o.Kind != KindMSS || o.Len != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint16(o.Data), true
}

// Walker walks the options of one TCP header without allocating. The zero
// value walks nothing; Reset points it at a segment. Walking follows RFC
// 9293 §3.2 as receivers do: it stops at End of Option List, at a length
// byte below 2 and at an option that runs past the data offset; everything
// odd is recorded in Anomalies.
//
//	var w mss.Walker
//	if err := w.Reset(seg); err != nil { ... }
//	for o, ok := w.Next(); ok; o, ok = w.Next() { ... }
type Walker struct {
	hdr  []byte
	off  int
	syn  bool
	done bool
	anom Anomaly
	seen [4]uint64 // kinds seen, for duplicates
}

// Reset starts a walk over the options of seg, a TCP segment whose first
// byte is the TCP header (payload may follow and is ignored).
func (w *Walker) Reset(seg []byte) error {
	n, err := HeaderLen(seg)
	*w = Walker{}
	if err != nil {
		w.done = true
		return err
	}
	w.hdr = seg[:n]
	w.off = TCPHeaderLen
	w.syn = seg[13]&FlagSYN != 0
	return nil
}

// Next returns the next option, or false when the walk is over.
func (w *Walker) Next() (Option, bool) {
	if w.done || w.off >= len(w.hdr) {
		w.done = true
		return Option{}, false
	}
	h, i := w.hdr, w.off
	k := Kind(h[i])
	switch k {
	case KindEOL:
		w.done = true
		for _, b := range h[i+1:] {
			if b != 0 {
				w.anom |= AnomalyAfterEOL
				break
			}
		}
		return Option{Kind: k, Offset: i, Len: 1}, true
	case KindNOP:
		w.off++
		return Option{Kind: k, Offset: i, Len: 1}, true
	}
	if i+1 >= len(h) {
		w.anom |= AnomalyTruncated
		w.done = true
		return Option{}, false
	}
	l := int(h[i+1])
	if l < 2 {
		w.anom |= AnomalyBadLength
		w.done = true
		return Option{}, false
	}
	if i+l > len(h) {
		w.anom |= AnomalyPastDataOffset
		w.done = true
		return Option{}, false
	}
	o := Option{Kind: k, Offset: i, Len: l, Data: h[i+2 : i+l]}
	w.off = i + l
	if !k.validLen(l) {
		w.anom |= AnomalyKindLength
	}
	if k.synOnly() && !w.syn {
		if k == KindMSS {
			w.anom |= AnomalyMSSNotSYN
		} else {
			w.anom |= AnomalySYNOnly
		}
	}
	if w.seen[k>>6]&(1<<(k&63)) != 0 {
		switch k {
		case KindMSS:
			w.anom |= AnomalyDuplicateMSS
		case KindSACK, KindExp1, KindExp2:
		default:
			w.anom |= AnomalyDuplicate
		}
	}
	w.seen[k>>6] |= 1 << (k & 63)
	if k == KindMSS && l == 4 && o.Data[0] == 0 && o.Data[1] == 0 {
		w.anom |= AnomalyMSSZero
	}
	if k == KindWS && l == 3 && o.Data[0] > 14 {
		w.anom |= AnomalyWScaleRange
	}
	return o, true
}

// Anomalies returns what the walk has found wrong so far; call it after
// Next has returned false for the full set.
func (w *Walker) Anomalies() Anomaly { return w.anom }

// Summary is what a TCP header's options say, decoded without allocation.
type Summary struct {
	SYN bool // the segment has SYN set
	// MSS is the first well-formed, non-zero MSS option's value, or 0 when
	// there is none. A malformed MSS option is ignored (RFC 9293 §3.7.1),
	// so a SYN carrying only a malformed one gets the default send MSS.
	MSS       uint16
	MSSOffset int // of the MSS option's kind byte in the header; 0 when MSS is 0
	WScale    int // shift count; -1 when no (well-formed) window scale option
	SACKPerm  bool
	// SACKBlocks is the number of blocks in the (first well-formed) SACK option.
	SACKBlocks int
	TS         bool // a well-formed timestamps option is present
	TSval      uint32
	TSecr      uint32
	MD5        bool
	AO         bool
	MPTCP      bool
	TFO        bool
	// OptionBytes is the option space the header uses: data offset*4 - 20.
	OptionBytes int
	Anomalies   Anomaly
}

// Summarize decodes the options of the TCP segment seg.
func Summarize(seg []byte) (Summary, error) {
	var w Walker
	s := Summary{WScale: -1}
	if err := w.Reset(seg); err != nil {
		return s, err
	}
	s.SYN = w.syn
	s.OptionBytes = len(w.hdr) - TCPHeaderLen
	for o, ok := w.Next(); ok; o, ok = w.Next() {
		if !o.WellFormed() {
			continue
		}
		switch o.Kind {
		case KindMSS:
			if v, _ := o.MSS(); v != 0 && s.MSS == 0 {
				s.MSS, s.MSSOffset = v, o.Offset
			}
		case KindWS:
			if s.WScale < 0 {
				s.WScale = int(o.Data[0])
			}
		case KindSACKPerm:
			s.SACKPerm = true
		case KindSACK:
			if s.SACKBlocks == 0 {
				s.SACKBlocks = (o.Len - 2) / 8
			}
		case KindTS:
			if !s.TS {
				s.TS = true
				s.TSval = binary.BigEndian.Uint32(o.Data[0:4])
				s.TSecr = binary.BigEndian.Uint32(o.Data[4:8])
			}
		case KindMD5:
			s.MD5 = true
		case KindAO:
			s.AO = true
		case KindMPTCP:
			s.MPTCP = true
		case KindTFO:
			s.TFO = true
		}
	}
	s.Anomalies = w.Anomalies()
	return s, nil
}

// AppendMSS appends an MSS option (kind 2, length 4) of value v.
func AppendMSS(b []byte, v uint16) []byte {
	return append(b, byte(KindMSS), 4, byte(v>>8), byte(v))
}
