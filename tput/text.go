package tput

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

func pct(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + "%" }

// WriteText prints the report as `mtukit tput` does.
func (r *Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Path: %s on a %d-byte link: path MTU %d (%s), calc's clamp MSS %d\n", r.Stack, r.LinkMTU, r.PathMTU, r.Family, r.ClampMSS)
	fmt.Fprintf(&b, "Link: %s line rate, %d bytes of framing per frame; TCP options %d bytes per segment\n", r.Rate, r.Framing, r.Options)
	fmt.Fprintf(&b, "TCP: RTT %s, loss %s, window %d bytes (%s)\n", fmtMs(r.RTTms), pct(r.Loss), r.Window, r.WindowHow)
	fmt.Fprintf(&b, "Models: loss limit = %s (Mathis C = %.4f, b = %d, PFTK T0 = %s)\n", modelName(r.Model), r.MathisC, r.AckEvery, fmtMs(r.RTOms))
	scale := "beyond TCP's largest window"
	if r.BDPScale >= 0 {
		scale = fmt.Sprintf("window scale %d or more", r.BDPScale)
	}
	fmt.Fprintf(&b, "BDP at the line rate: %d bytes (%s)\n\n", r.BDP, scale)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "MSS\tpayload\twire B\tefficiency\twindow\tMathis\tPFTK\tlink\tgoodput\tbinding\t"
	if r.Uncertain != nil {
		head += "expected\t"
	}
	fmt.Fprintln(tw, head)
	for i, l := range r.Rows {
		mark := ""
		if l.MSS == r.Best {
			mark = " *"
		}
		fmt.Fprintf(tw, "%d%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", l.MSS, mark, l.Payload, l.Wire, pct(l.Efficiency),
			l.Window, l.Mathis, l.PFTK, l.Link, l.Goodput, l.Binding)
		if r.Uncertain != nil {
			fmt.Fprintf(tw, "%s\t", r.Uncertain.Expected[i])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()

	fmt.Fprintf(&b, "\nRecommended MSS %d: %s goodput", r.Best, r.BestRate)
	if r.Uncertain != nil {
		b.WriteString(" expected")
	}
	fmt.Fprintf(&b, ".\nWhy: %s.\n", r.Reason)
	if u := r.Uncertain; u != nil {
		fmt.Fprintf(&b, "\nPath MTU from %s:", u.Source)
		for i, s := range u.Scenarios {
			if i == 12 {
				fmt.Fprintf(&b, " ... (%d in all)", len(u.Scenarios))
				break
			}
			if s.Label != "" {
				fmt.Fprintf(&b, " %d %s (%.3g)", s.PathMTU, s.Label, s.Prob)
			} else {
				fmt.Fprintf(&b, " %d (%.3g)", s.PathMTU, s.Prob)
			}
		}
		fmt.Fprintf(&b, "\nCost of a too-large MSS: %s", u.Cost.TooBig)
		if u.Cost.TooBig == TooBigBlackHole {
			if u.Cost.Never {
				b.WriteString(" (the sender never detects it: goodput 0)")
			} else {
				fmt.Fprintf(&b, " (stall %s = first T0 (2^k - 1) >= %v, then MSS %d, halved while it does not fit)", fmtMs(u.StallMs), u.Cost.Detect, u.Cost.FallbackMSS)
			}
		}
		fmt.Fprintf(&b, "; %d bytes per connection\n\n", u.Cost.Transfer)
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "choice\tMSS\tP(fits)\texpected goodput\tshortfall vs best\t")
		for _, c := range u.Choices {
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%s\t%s\t\n", c.Label, c.MSS, c.PFit, c.Expected, pct(c.Shortfall))
		}
		fmt.Fprintf(tw, "best\t%d\t%.3f\t%s\t%s\t\n", u.Best.MSS, u.Best.PFit, u.Best.Expected, pct(0))
		tw.Flush()
	}
	if r.PlotFile != "" {
		fmt.Fprintf(&b, "\nPlot written to %s\n", r.PlotFile)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func modelName(m string) string {
	if m == "mathis" {
		return "Mathis et al. 1997"
	}
	return "Padhye et al. 1998 (PFTK full model)"
}

func fmtMs(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + " ms" }
