package advise

import (
	"strings"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/mss"
)

// Blueprint is a full-size TCP segment at the tunnel MTU laid out header by
// header, outermost first, with byte offsets from the start of the packet
// that counts against the link MTU (framing outside the MTU has offset -1).
type Blueprint struct {
	Family string           `json:"family"`
	Inner  int              `json:"inner"`
	Wire   int              `json:"wire"`
	Fields []BlueprintField `json:"fields"`
}

// BlueprintField is one region of the packet.
type BlueprintField struct {
	Offset int    `json:"offset"`
	Bytes  int    `json:"bytes"`
	Name   string `json:"name"`
	Layer  string `json:"layer,omitempty"`
	// Role is one of: outside (framing outside the MTU), encap (a header
	// the stack adds), ip and tcp (the inner headers), options (TCP
	// options), payload, padding, trailer.
	Role string `json:"role"`
}

func blueprint(st *encap.Stack, t int, opts Options) (Blueprint, error) {
	f := segmentFamily(st, t, opts)
	fields, err := st.Breakdown(t, opts.LinkMTU)
	if err != nil {
		return Blueprint{}, err
	}
	b := Blueprint{Family: f.String(), Inner: t}
	off := 0
	add := func(bytes int, name, layer, role string) {
		if bytes <= 0 {
			return
		}
		o := off
		if role == "outside" {
			o = -1
		} else {
			off += bytes
		}
		b.Fields = append(b.Fields, BlueprintField{Offset: o, Bytes: bytes, Name: name, Layer: layer, Role: role})
	}
	// The inner packet, as a full-size TCP segment. A transport-mode layer
	// splits it after its IP header (encap.Breakdown), so the segment's
	// regions are handed out across however many payload fields there are.
	ip := "IPv4 header"
	if f == encap.IPv6 {
		ip = "IPv6 header"
	}
	type region struct {
		bytes      int
		name, role string
	}
	seg := []region{
		{f.HeaderLen(), ip, "ip"},
		{mss.TCPHeaderLen, "TCP header", "tcp"},
		{optionBytes(opts.TCP), "TCP options (" + optionsText(opts.TCP) + ")", "options"},
		{t - f.HeaderLen() - mss.TCPHeaderLen - optionBytes(opts.TCP), "TCP payload", "payload"},
	}
	inTrailer := false
	for _, x := range fields {
		switch {
		case x.Payload:
			for n := x.Bytes; n > 0 && len(seg) > 0; {
				r := &seg[0]
				k := min(n, r.bytes)
				add(k, r.name, "", r.role)
				n, r.bytes = n-k, r.bytes-k
				if r.bytes <= 0 {
					seg = seg[1:]
				}
			}
			inTrailer = len(seg) == 0 // headers after the inner IP header are not trailers
		case x.Outside:
			add(x.Bytes, x.Name, x.Layer, "outside")
		case inTrailer && strings.Contains(strings.ToLower(x.Name), "padding"):
			add(x.Bytes, x.Name, x.Layer, "padding")
		case inTrailer:
			add(x.Bytes, x.Name, x.Layer, "trailer")
		default:
			add(x.Bytes, x.Name, x.Layer, "encap")
		}
	}
	b.Wire = off
	return b, nil
}
