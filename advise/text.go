package advise

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText prints the report for a person. vendors limits the
// configuration shown (nil: all).
func (r *Report) WriteText(w io.Writer, vendors []string) error {
	stack := r.Stack
	if stack == "" {
		stack = "(plain link)"
	}
	p := &printer{w: w}
	p.f("mtukit calc: %s on a %d-byte link\n\n", stack, r.LinkMTU)
	if pc := r.Preset; pc != nil {
		p.f("preset %s: %s\n", pc.Name, pc.Title)
		verdict := "mtukit agrees"
		if pc.Computed != pc.Published.Value {
			verdict = fmt.Sprintf("mtukit computes %d: %s", pc.Computed, pc.Note)
		}
		p.f("  published %s %d (%s); %s\n  source: %s <%s>\n\n", pc.Published.Quantity, pc.Published.Value, pc.Published.Says, verdict, pc.Source.Title, pc.Source.URL)
	}
	tw := tabwriter.NewWriter(p, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  tunnel MTU\t%d\tlargest inner IP packet\n", r.TunnelMTU)
	fmt.Fprintf(tw, "  MSS IPv4\t%d\t%d - 40: clamp to this\n", r.MSS.IPv4, r.TunnelMTU)
	if r.MSS.IPv6 > 0 {
		fmt.Fprintf(tw, "  MSS IPv6\t%d\t%d - 60\n", r.MSS.IPv6, r.TunnelMTU)
	} else {
		fmt.Fprintf(tw, "  MSS IPv6\t-\ttunnel MTU below 1280\n")
	}
	// The value is the payload with the chosen options (payload_per_segment
	// in the JSON); the MSS itself carries no options.
	var pay string
	switch r.Payload.Options {
	case "":
		pay = fmt.Sprintf("without TCP options; %d with timestamps", r.Payload.IPv4Timestamps)
	case "ts":
		pay = fmt.Sprintf("with timestamps; %d without options", r.MSS.IPv4)
	default:
		pay = fmt.Sprintf("with %s; %d without options, %d with timestamps only", r.Payload.Options, r.MSS.IPv4, r.Payload.IPv4Timestamps)
	}
	fmt.Fprintf(tw, "  payload/segment\t%d\t%s (IPv4)\n", r.Payload.IPv4, pay)
	oh := fmt.Sprintf("%d", r.Overhead.Min)
	if r.Overhead.Max != r.Overhead.Min {
		oh = fmt.Sprintf("%d..%d", r.Overhead.Min, r.Overhead.Max)
	}
	fmt.Fprintf(tw, "  overhead\t%s\tbytes; a tunnel-MTU packet is %d on the link (%d spare)\n", oh, r.Overhead.AtMTU, r.Overhead.Slack)
	if r.Overhead.For1500 > 0 && r.Overhead.For1500 != 1500 {
		fmt.Fprintf(tw, "  underlay for 1500\t%d\tlink MTU that carries 1500-byte inner packets\n", r.Overhead.For1500)
	}
	fmt.Fprintf(tw, "  status\t%s\t%s\n", r.Status, r.StatusReason)
	tw.Flush()
	p.f("\nArithmetic\n  %s\n", r.Arithmetic.Text)
	e := r.Efficiency
	p.f("\nEfficiency of a full-size %s segment (%d bytes on the link)\n", e.Family, e.WireBytes)
	p.f("  %s\n", bar(e, 60))
	p.f("  payload %.1f%% (%d)   IP+TCP headers %.1f%% (%d)   encapsulation %.1f%% (%d)\n",
		100*e.Payload, e.PayloadBytes, 100*e.Headers, e.HeaderBytes, 100*e.Encapsulation, e.EncapBytes)
	if len(r.Layers) > 0 {
		p.f("\nLayers, from the wire inwards\n")
		tw = tabwriter.NewWriter(p, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  layer\tkind\troom\tinner MTU\ttakes\tsource\n")
		for _, l := range r.Layers {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\t%s\n", l.Spec, l.Kind, l.Room, l.MTU, l.Room-l.MTU, l.RFC)
		}
		tw.Flush()
	}
	if len(r.Warnings) > 0 {
		p.f("\nWarnings\n")
		for _, wn := range r.Warnings {
			p.f("  [%s] %s\n", wn.Code, wn.Message)
		}
	}
	p.f("\nSegmentation blueprint: a full-size %s TCP segment, %d bytes on the link\n", r.Blueprint.Family, r.Blueprint.Wire)
	p.f("  %s\n\n", diagram(r.Blueprint.Fields))
	writeFields(p, r.Blueprint.Fields)
	if r.Packet != nil {
		fit := "fits"
		if !r.Packet.Fits {
			fit = fmt.Sprintf("does NOT fit: %d bytes over", r.Packet.Wire-r.LinkMTU)
		}
		p.f("\nA %d-byte inner packet is %d bytes on the link: %s\n", r.Packet.Inner, r.Packet.Wire, fit)
		tw = tabwriter.NewWriter(p, 0, 0, 2, ' ', tabwriter.AlignRight)
		for _, f := range r.Packet.Fields {
			note := ""
			if f.Outside {
				note = " (outside the MTU)"
			}
			fmt.Fprintf(tw, "  %d\t  %s%s\t\n", f.Bytes, f.Name, note)
		}
		tw.Flush()
	}
	p.f("\nConfiguration\n")
	for _, c := range r.Clamp {
		if !selected(c.Vendor, vendors) {
			continue
		}
		p.f("\n  # %s\n", c.Title)
		for _, l := range c.Lines {
			p.f("  %s\n", l)
		}
		if c.Note != "" {
			p.f("  # %s\n", c.Note)
		}
	}
	return p.err
}

func selected(v string, vendors []string) bool {
	if len(vendors) == 0 {
		return true
	}
	for _, x := range vendors {
		if x == v || strings.HasPrefix(v, x+"-") || strings.HasPrefix(v, x) {
			return true
		}
	}
	return false
}

func writeFields(p *printer, fields []BlueprintField) {
	tw := tabwriter.NewWriter(p, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  offset\tbytes\tfield\tlayer\n")
	for _, f := range fields {
		off := fmt.Sprint(f.Offset)
		if f.Offset < 0 {
			off = "-"
		}
		name := f.Name
		if f.Role == "outside" {
			name += " (outside the MTU)"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\n", off, f.Bytes, name, f.Layer)
	}
	tw.Flush()
}

// diagram is the blueprint on one line, one box per layer header,
// trailer and inner header: | pppoe 8 | esp 36 | gre 24 | IPv4 20 | ...
func diagram(fields []BlueprintField) string {
	var boxes []string
	lastKey := ""
	for _, f := range fields {
		label, key := f.Layer, f.Layer+"/"+f.Role
		switch f.Role {
		case "ip", "tcp", "options", "payload":
			label, key = map[string]string{"ip": strings.Fields(f.Name)[0], "tcp": "TCP", "options": "options", "payload": "payload"}[f.Role], f.Role
		case "padding", "trailer":
			label, key = f.Layer+" trailer", f.Layer+"/trailer"
		case "outside":
			label = f.Layer + " (outside MTU)"
		}
		if key == lastKey {
			var n int
			last := boxes[len(boxes)-1]
			i := strings.LastIndexByte(last, ' ')
			fmt.Sscan(last[i+1:], &n)
			boxes[len(boxes)-1] = fmt.Sprintf("%s %d", last[:i], n+f.Bytes)
			continue
		}
		boxes = append(boxes, fmt.Sprintf("%s %d", label, f.Bytes))
		lastKey = key
	}
	return "| " + strings.Join(boxes, " | ") + " |"
}

// bar draws the efficiency split as characters: # payload, = headers, x encapsulation.
func bar(e Efficiency, width int) string {
	a := int(e.Payload*float64(width) + 0.5)
	b := int(e.Headers*float64(width) + 0.5)
	if b == 0 && e.HeaderBytes > 0 {
		b = 1
	}
	c := max(width-a-b, 0)
	if e.EncapBytes == 0 {
		a, c = width-b, 0
	} else if c == 0 {
		a, c = a-1, 1
	}
	return "[" + strings.Repeat("#", a) + strings.Repeat("=", b) + strings.Repeat("x", c) + "]  # payload  = IP+TCP  x encapsulation"
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.w.Write(b)
	p.err = err
	return n, err
}

func (p *printer) f(format string, a ...any) { fmt.Fprintf(p, format, a...) }
