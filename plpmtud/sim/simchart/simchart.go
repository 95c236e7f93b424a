// Package simchart draws the simulator's results as an SVG with
// gonum/plot: the distribution function of the number of probes a search
// needs, and the histogram of the path MTU it discovers, one curve per
// simulated configuration.
package simchart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/mtukit/mtukit/plpmtud/sim"
)

// Series is one curve: a label and the result it shows.
type Series struct {
	Label  string
	Result *sim.Result
}

// maxSeries bounds the curves on one chart; more are unreadable.
const maxSeries = 16

// SVG writes the two charts, one above the other, to w.
func SVG(w io.Writer, title string, ss []Series) error {
	if len(ss) == 0 {
		return errors.New("nothing to plot")
	}
	if len(ss) > maxSeries {
		return fmt.Errorf("%d curves to plot; at most %d (choose fewer strategies, steps or tunnels)", len(ss), maxSeries)
	}
	cdf := plot.New()
	cdf.Title.Text = title + ": probes to converge"
	cdf.X.Label.Text = "probes"
	cdf.Y.Label.Text = "P(search done within x probes)"
	cdf.Y.Min, cdf.Y.Max = 0, 1
	cdf.Add(plotter.NewGrid())
	cdf.Legend.Top = false
	cdf.Legend.Left = false

	hist := plot.New()
	hist.Title.Text = "discovered path MTU"
	hist.X.Label.Text = "discovered MTU (bytes)"
	hist.Y.Label.Text = "probability"
	hist.Add(plotter.NewGrid())

	lo, hi := math.MaxInt, 0
	for _, s := range ss {
		for _, p := range s.Result.Discovered() {
			lo, hi = min(lo, p.PMTU), max(hi, p.PMTU)
		}
	}
	bin := max(1, (hi-lo+1+59)/60)
	for i, s := range ss {
		col := plotutil.Color(i)
		dash := plotutil.Dashes(i / 7)

		c := s.Result.CDF()
		pts := make(plotter.XYs, 0, len(c)+1)
		pts = append(pts, plotter.XY{X: 0, Y: 0})
		for k, v := range c {
			pts = append(pts, plotter.XY{X: float64(k), Y: v})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.StepStyle = plotter.PostStep
		l.Color, l.Width, l.Dashes = col, vg.Points(1.5), dash
		cdf.Add(l)
		cdf.Legend.Add(s.Label, l)

		bins := make([]float64, (hi-lo)/bin+1)
		for _, p := range s.Result.Discovered() {
			bins[(p.PMTU-lo)/bin] += p.P
		}
		hp := make(plotter.XYs, len(bins))
		for j, v := range bins {
			hp[j] = plotter.XY{X: float64(lo + j*bin + bin/2), Y: v}
		}
		hl, err := plotter.NewLine(hp)
		if err != nil {
			return err
		}
		hl.StepStyle = plotter.MidStep
		hl.Color, hl.Width, hl.Dashes = col, vg.Points(1.5), dash
		hist.Add(hl)
	}
	hist.X.Min, hist.X.Max = float64(lo-bin), float64(hi+bin)

	const width, height = 20 * vg.Centimeter, 24 * vg.Centimeter
	c := vgsvg.New(width, height)
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Centimeter, PadTop: vg.Millimeter * 5, PadBottom: vg.Millimeter * 5, PadLeft: vg.Millimeter * 5, PadRight: vg.Millimeter * 5}
	canvases := plot.Align([][]*plot.Plot{{cdf}, {hist}}, tiles, dc)
	cdf.Draw(canvases[0][0])
	hist.Draw(canvases[1][0])
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
