package advise

import (
	"fmt"
	"strings"

	"github.com/mtukit/mtukit/encap"
)

// Arithmetic is the tunnel MTU and the MSS written out as subtractions from
// the link MTU, one term per layer (wire inwards), so a person can check
// each step: "1500 - 8 (pppoe) - 54 (esp(aes-gcm-16) at this size) - 24
// (gre) = 1414; 1414 - 40 = 1374 (IPv4 MSS), 1414 - 60 = 1354 (IPv6 MSS)".
// The terms are the layers' own MTU steps (Layers[i].Room - Layers[i].MTU),
// so they sum to LinkMTU - TunnelMTU.
type Arithmetic struct {
	Terms []Term `json:"terms"`
	Text  string `json:"text"`
}

// Term is what one layer takes from the room it is given.
type Term struct {
	Layer int    `json:"layer"` // index in Report.Layers
	Spec  string `json:"spec"`
	Bytes int    `json:"bytes"`
	// Note qualifies the term: "at this size" for a layer that pads (its
	// share depends on the packet size, here a tunnel-MTU packet), "outside
	// the MTU" for framing that rides outside the IP MTU (0 bytes).
	Note string `json:"note,omitempty"`
}

// arithmetic writes out how the report's numbers follow from the link MTU.
func arithmetic(st *encap.Stack, r *Report) Arithmetic {
	a := Arithmetic{Terms: []Term{}}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d", r.LinkMTU)
	for i, l := range r.Layers {
		t := Term{Layer: i, Spec: l.Spec, Bytes: l.Room - l.MTU}
		switch {
		case i < len(st.Layers) && st.Layers[i].NoCount:
			t.Note = "outside the MTU"
		case i < len(st.Layers) && (st.Layers[i].Block > 1 || st.Layers[i].PadCap):
			t.Note = "at this size"
		}
		a.Terms = append(a.Terms, t)
		if t.Note != "" {
			fmt.Fprintf(&sb, " - %d (%s %s)", t.Bytes, t.Spec, t.Note)
		} else {
			fmt.Fprintf(&sb, " - %d (%s)", t.Bytes, t.Spec)
		}
	}
	if len(r.Layers) == 0 {
		sb.WriteString(" (no layers)")
	}
	fmt.Fprintf(&sb, " = %d; %d - 40 = %d (IPv4 MSS)", r.TunnelMTU, r.TunnelMTU, r.MSS.IPv4)
	if r.MSS.IPv6 > 0 {
		fmt.Fprintf(&sb, ", %d - 60 = %d (IPv6 MSS)", r.TunnelMTU, r.MSS.IPv6)
	}
	a.Text = sb.String()
	return a
}
