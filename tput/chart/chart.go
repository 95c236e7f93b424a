// Package chart draws package tput's goodput-against-MSS curves as an SVG
// with gonum/plot: the window, loss and link limits, the achievable goodput
// (their minimum) and, when the path MTU is uncertain, the expected goodput.
package chart

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/mtukit/mtukit/tput"
)

// Input is what the chart shows.
type Input struct {
	Title string
	Rows  []tput.Limits // one per MSS, in increasing order
	// Expected, when not nil, is the expected goodput per MSS (same order).
	Expected []tput.Rate
	// Best marks the recommended MSS with a vertical line (0: none).
	Best int
}

// SVG writes the chart as SVG to w.
func SVG(w io.Writer, in Input) error {
	if len(in.Rows) == 0 {
		return fmt.Errorf("nothing to plot")
	}
	p := plot.New()
	p.Title.Text = in.Title
	p.X.Label.Text = "MSS (bytes)"
	p.Y.Label.Text = "goodput (Mbit/s, log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true

	ymax, ymin := 0.0, math.Inf(1)
	series := []struct {
		name  string
		get   func(i int) tput.Rate
		col   color.RGBA
		width vg.Length
		dash  []vg.Length
	}{
		{"window limit", func(i int) tput.Rate { return in.Rows[i].Window }, color.RGBA{R: 31, G: 119, B: 180, A: 255}, 1.5, []vg.Length{vg.Points(6), vg.Points(3)}},
		{"loss limit", func(i int) tput.Rate { return in.Rows[i].Loss }, color.RGBA{R: 214, G: 39, B: 40, A: 255}, 1.5, []vg.Length{vg.Points(2), vg.Points(2)}},
		{"link limit", func(i int) tput.Rate { return in.Rows[i].Link }, color.RGBA{R: 44, G: 160, B: 44, A: 255}, 1.5, []vg.Length{vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}},
		{"achievable goodput", func(i int) tput.Rate { return in.Rows[i].Goodput }, color.RGBA{A: 255}, 2.5, nil},
	}
	if in.Expected != nil {
		series = append(series, struct {
			name  string
			get   func(i int) tput.Rate
			col   color.RGBA
			width vg.Length
			dash  []vg.Length
		}{"expected goodput (uncertain MTU)", func(i int) tput.Rate { return in.Expected[i] }, color.RGBA{R: 148, G: 103, B: 189, A: 255}, 2.5, nil})
	}
	for _, s := range series {
		var pts plotter.XYs
		for i, r := range in.Rows {
			v := s.get(i)
			if v.IsUnlimited() || math.IsNaN(float64(v)) || v <= 0 {
				continue
			}
			pts = append(pts, plotter.XY{X: float64(r.MSS), Y: v.Mbps()})
			ymax = math.Max(ymax, v.Mbps())
			ymin = math.Min(ymin, v.Mbps())
		}
		name := s.name
		if len(pts) == 0 {
			name += ": none"
			pts = nil
		}
		if pts == nil {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color, l.Width, l.Dashes = s.col, vg.Points(float64(s.width)), s.dash
		p.Add(l)
		p.Legend.Add(name, l)
	}
	if in.Best > 0 {
		if math.IsInf(ymin, 1) {
			ymin, ymax = 0.1, 1
		}
		l, err := plotter.NewLine(plotter.XYs{{X: float64(in.Best), Y: ymin / 2}, {X: float64(in.Best), Y: ymax}})
		if err != nil {
			return err
		}
		l.Color, l.Dashes = color.RGBA{R: 127, G: 127, B: 127, A: 255}, []vg.Length{vg.Points(1), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("recommended MSS %d", in.Best), l)
	}
	if math.IsInf(ymin, 1) {
		ymin, ymax = 0.1, 1
	}
	// A log axis, so that a 2 Gbit/s window limit and a 10 Mbit/s loss
	// limit are both readable; headroom above for the legend.
	p.Y.Min = ymin / 2
	p.Y.Max = ymax * math.Pow(ymax/p.Y.Min, 0.6)
	p.Legend.ThumbnailWidth = vg.Points(30)
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), -vg.Points(8)
	wt, err := p.WriterTo(9*vg.Inch, 5.5*vg.Inch, "svg")
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}
