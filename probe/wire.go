package probe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
)

// The UDP probe protocol between `mtukit probe --method udp` and
// `mtukit responder`. Every message starts with the same 24-byte header:
//
//	0  magic "MTK1"
//	4  type: 1 probe, 2 acknowledgement
//	5  flags: bit 0 set when mac carries a token MAC; bit 1 (ack) set when
//	         the responder can see fragments, so frag is meaningful
//	6  size: probe: the IP packet size the sender made it;
//	         ack:   the IP packet size the responder received
//	8  sequence number (uint32)
//	12 nonce (uint64), chosen by the prober per run
//	20 frag (uint16), ack: the largest IPv4 fragment the probe arrived in
//	         (0: it arrived whole); zero in probes
//	22 reserved (zero)
//	24 mac: 8 bytes of HMAC-SHA256(token, bytes 0..23), or zero without token
//
// A probe is padded with zeros after the 32 bytes up to its size; an
// acknowledgement is exactly 32 bytes, so replies are never larger than a
// request (requests shorter than 32 bytes are dropped).
const (
	wireMagic   = "MTK1"
	wireLen     = 32
	typeProbe   = 1
	typeAck     = 2
	flagMAC     = 1
	flagFrag    = 2
	macLen      = 8
	headerNoMAC = 24
)

// Msg is a decoded probe or acknowledgement.
type Msg struct {
	Type  uint8
	Size  int
	Seq   uint32
	Nonce uint64
	MAC   bool // carried a MAC (checked by Decode when a token is given)
	// FragKnown (ack) says the responder sees fragments; Frag is then the
	// largest fragment the probe arrived in, 0 when it arrived whole.
	FragKnown bool
	Frag      int
}

// Errors of Decode.
var (
	ErrShortMsg = errors.New("message shorter than the 32-byte probe header")
	ErrMagic    = errors.New("message does not start with the MTK1 magic")
	ErrMsgType  = errors.New("unknown message type")
	ErrMAC      = errors.New("token mac missing or wrong")
)

// Encode writes m's header into b[:32] (b must hold 32 bytes), with a MAC
// when token is not empty, and zeroes the rest of b (padding).
func Encode(b []byte, m Msg, token []byte) {
	copy(b[0:4], wireMagic)
	b[4] = m.Type
	b[5] = 0
	binary.BigEndian.PutUint16(b[6:8], uint16(m.Size))
	binary.BigEndian.PutUint32(b[8:12], m.Seq)
	binary.BigEndian.PutUint64(b[12:20], m.Nonce)
	clear(b[20:])
	if m.FragKnown {
		b[5] |= flagFrag
		binary.BigEndian.PutUint16(b[20:22], uint16(m.Frag))
	}
	if len(token) > 0 {
		b[5] |= flagMAC
		mac := hmac.New(sha256.New, token)
		mac.Write(b[:headerNoMAC])
		var sum [sha256.Size]byte
		copy(b[24:32], mac.Sum(sum[:0]))
	}
}

// Decode reads a message. With a token, a message without a valid MAC is
// rejected; without one, the MAC is not checked.
func Decode(b []byte, token []byte) (Msg, error) {
	if len(b) < wireLen {
		return Msg{}, ErrShortMsg
	}
	if string(b[0:4]) != wireMagic {
		return Msg{}, ErrMagic
	}
	m := Msg{
		Type:  b[4],
		Size:  int(binary.BigEndian.Uint16(b[6:8])),
		Seq:   binary.BigEndian.Uint32(b[8:12]),
		Nonce: binary.BigEndian.Uint64(b[12:20]),
		MAC:   b[5]&flagMAC != 0,
	}
	if b[5]&flagFrag != 0 {
		m.FragKnown, m.Frag = true, int(binary.BigEndian.Uint16(b[20:22]))
	}
	if m.Type != typeProbe && m.Type != typeAck {
		return Msg{}, ErrMsgType
	}
	if len(token) > 0 {
		if !m.MAC {
			return Msg{}, ErrMAC
		}
		mac := hmac.New(sha256.New, token)
		mac.Write(b[:headerNoMAC])
		var sum [sha256.Size]byte
		if !hmac.Equal(mac.Sum(sum[:0])[:macLen], b[24:32]) {
			return Msg{}, ErrMAC
		}
	}
	return m, nil
}
