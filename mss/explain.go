package mss

import (
	"encoding/binary"
	"fmt"

	"github.com/mtukit/mtukit/encap"
)

// Explanation says what a clamp does to a SYN with a given MSS option, and
// why, with the RFC behind each step. It is computed by running the
// Clamper on a SYN built for the purpose, so it cannot disagree with it.
type Explanation struct {
	Family string `json:"family"`
	// SYNMSS is the SYN's MSS option; 0 when it has none.
	SYNMSS int    `json:"syn_mss"`
	Target int    `json:"target_mss"`
	Rule   string `json:"rule"`
	Action string `json:"action"` // clamped, inserted, unchanged
	Reason string `json:"reason"`
	// ResultMSS is the MSS option the SYN leaves with; 0 when none.
	ResultMSS int `json:"result_mss"`
	// SendMSS is what the SYN's receiver will use as its send MSS: the
	// option, or the default when there is none (RFC 9293 §3.7.1).
	SendMSS int `json:"send_mss"`
	// NoLimit: an IPv6 MSS of 65535 leaves the receiver bounded by PMTUD only.
	NoLimit bool `json:"no_limit"`
	// Largest segment payload and IP packet the receiver sends (no options;
	// with timestamps the payload is 12 bytes less, the packet the same).
	MaxPayload   int `json:"max_payload"`
	MaxPayloadTS int `json:"max_payload_with_timestamps"`
	MaxPacket    int `json:"max_ip_packet"`
	// Steps is the reasoning, one sentence each.
	Steps []string `json:"steps"`
}

// Explain runs clamper c on a SYN of family f whose MSS option is synMSS
// (0: no MSS option) and explains the outcome.
func Explain(f encap.Family, synMSS int, c Clamper) (Explanation, error) {
	if err := c.Check(); err != nil {
		return Explanation{}, err
	}
	if synMSS < 0 || synMSS > 65535 {
		return Explanation{}, fmt.Errorf("syn mss %d out of range 0-65535", synMSS)
	}
	target := int(c.Target.MSS(f))
	e := Explanation{Family: f.String(), SYNMSS: synMSS, Target: target, Rule: c.Rule.String()}
	hdr := f.HeaderLen() + TCPHeaderLen

	// The SYN: IP header, TCP header, the MSS option when there is one.
	var opts []byte
	if synMSS > 0 {
		opts = AppendMSS(nil, uint16(synMSS))
	}
	pkt := make([]byte, f.HeaderLen(), hdr+len(opts)+4)
	if f == encap.IPv6 {
		pkt[0] = 0x60
		binary.BigEndian.PutUint16(pkt[4:], uint16(TCPHeaderLen+len(opts)))
		pkt[6] = protoTCP
	} else {
		pkt[0] = 0x45
		binary.BigEndian.PutUint16(pkt[2:], uint16(hdr+len(opts)))
		pkt[9] = protoTCP
	}
	seg := make([]byte, TCPHeaderLen)
	seg[12] = byte((TCPHeaderLen+len(opts))/4) << 4
	seg[13] = FlagSYN
	pkt = append(append(pkt, seg...), opts...)
	out, res := c.Clamp(pkt, FrameIP)
	e.Action, e.Reason = res.Action.String(), res.Reason.String()
	if s, err := Summarize(out[f.HeaderLen():]); err == nil {
		e.ResultMSS = int(s.MSS)
	}

	if mtu, ok := c.Target.MTU(); ok {
		e.Steps = append(e.Steps, fmt.Sprintf("Target: MTU %d - %d (the fixed %s and TCP headers only; options are the sender's to subtract, RFC 6691 §2) = MSS %d.",
			mtu, hdr, f, target))
	} else {
		e.Steps = append(e.Steps, fmt.Sprintf("Target: MSS %d, which fits %s packets of %d bytes (MSS + %d, RFC 6691 §2).", target, f, target+hdr, hdr))
	}
	switch res.Reason {
	case ReasonLowered:
		e.Steps = append(e.Steps, fmt.Sprintf("The SYN's MSS %d is above the target: the option is rewritten to %d and the TCP checksum updated incrementally (RFC 1624); nothing else in the packet changes.", synMSS, target))
	case ReasonNotAbove:
		e.Steps = append(e.Steps, fmt.Sprintf("The SYN's MSS %d is not above the target %d: it is left alone. A clamp only lowers (Linux xt_TCPMSS and nft both refuse to raise: a larger MSS than the host chose can stall the connection).", synMSS, target))
	case ReasonAdded:
		e.Steps = append(e.Steps, fmt.Sprintf("The SYN has no MSS option. With insertion on (iptables TCPMSS), one is added in front of the options with min(target, %d) = %d: without it the receiver would assume the default %d (RFC 9293 §3.7.1), and an inserted value must not raise that.",
			DefaultSendMSS(f), e.ResultMSS, DefaultSendMSS(f)))
	case ReasonNoMSS:
		e.Steps = append(e.Steps, fmt.Sprintf("The SYN has no MSS option and none is inserted (nft never inserts; iptables TCPMSS does only with insertion): the receiver assumes the default %d (RFC 9293 §3.7.1, MUST-15).", DefaultSendMSS(f)))
	}

	send, err := EffectiveSendMSS(SendInput{Family: f, PeerMSS: uint16(e.ResultMSS), MTU: 65535})
	if err != nil {
		return e, err
	}
	e.SendMSS, e.NoLimit = send.SendMSS, send.NoLimit
	if send.NoLimit {
		e.Steps = append(e.Steps, "An IPv6 MSS of 65535 means no limit (RFC 2675 §5.2): the receiver's segments are bounded only by the path MTU it discovers, so a PMTUD black hole stays a black hole.")
		return e, nil
	}
	e.MaxPayload = send.SendMSS
	e.MaxPayloadTS = send.SendMSS - 12
	e.MaxPacket = send.SendMSS + hdr
	e.Steps = append(e.Steps, fmt.Sprintf("The receiver of this SYN sends at most %d payload bytes per segment (RFC 9293 §3.7.1: min(SendMSS+20, MMS_S) less its TCP options), %d with timestamps: %s packets of at most %d bytes, and less still if its own MTU is smaller.",
		e.MaxPayload, e.MaxPayloadTS, f, e.MaxPacket))
	e.Steps = append(e.Steps, "MSS is per direction and read only from SYNs: the SYN-ACK must pass the clamp too, and nothing limits UDP, QUIC or ICMP.")
	return e, nil
}
