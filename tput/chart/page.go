package chart

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/mtukit/mtukit/tput"
)

// Series names, in drawing order. The page's legend (HTML, outside the
// chart) uses the same names as classes: c-goodput, c-window, c-loss,
// c-link, c-expected.
var pageSeries = []struct {
	class, name string
	get         func(in Input, i int) tput.Rate
}{
	{"c-goodput", "achievable goodput", func(in Input, i int) tput.Rate { return in.Rows[i].Goodput }},
	{"c-expected", "expected goodput (uncertain MTU)", func(in Input, i int) tput.Rate {
		if in.Expected == nil {
			return 0
		}
		return in.Expected[i]
	}},
	{"c-window", "window limit", func(in Input, i int) tput.Rate { return in.Rows[i].Window }},
	{"c-loss", "loss limit", func(in Input, i int) tput.Rate { return in.Rows[i].Loss }},
	{"c-link", "link limit", func(in Input, i int) tput.Rate { return in.Rows[i].Link }},
}

// Legend is one entry of the page's legend: the series drawn, by class.
type Legend struct {
	Class, Name string
}

// Page draws the chart for a web page: plain SVG with classes and no
// style (a stylesheet colours it, light or dark), sized width x height user
// units, with no legend inside (Page returns the entries to show beside
// it, so a legend never covers a line). The achievable goodput is a wide
// band under the limits, so the limit that binds stays visible on top of
// it. The y axis is logarithmic with at least three labelled ticks; when
// the values span less than a decade it is linear.
func Page(w io.Writer, in Input, width, height float64) ([]Legend, error) {
	if len(in.Rows) == 0 {
		return nil, fmt.Errorf("nothing to plot")
	}
	const left, right, top, bottom = 58.0, 12.0, 22.0, 38.0
	pw, ph := width-left-right, height-top-bottom
	ymin, ymax := math.Inf(1), 0.0
	for _, s := range pageSeries {
		for i := range in.Rows {
			if v := s.get(in, i); usable(v) {
				ymin, ymax = math.Min(ymin, v.Mbps()), math.Max(ymax, v.Mbps())
			}
		}
	}
	if math.IsInf(ymin, 1) {
		ymin, ymax = 0.1, 1
	}
	ax := yAxisFor(ymin, ymax)
	xmin, xmax := float64(in.Rows[0].MSS), float64(in.Rows[len(in.Rows)-1].MSS)
	if xmax <= xmin {
		xmin, xmax = xmin-10, xmax+10
	}
	X := func(v float64) float64 { return left + (v-xmin)/(xmax-xmin)*pw }
	Y := func(v float64) float64 { return top + ph - ax.frac(v)*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="tchart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, width, height, esc(in.Title))
	fmt.Fprintf(&b, `<rect class="plot-area" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, left, top, pw, ph)
	for _, t := range ax.ticks {
		y := Y(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, left, left+pw, y, y)
		fmt.Fprintf(&b, `<text class="ytick" x="%.1f" y="%.1f">%s</text>`, left-6, y+4, fmtRate(t))
	}
	for _, t := range niceTicks(xmin, xmax, int(math.Max(3, pw/90))) {
		if t < xmin || t > xmax {
			continue
		}
		x := X(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, x, x, top, top+ph)
		fmt.Fprintf(&b, `<text class="xtick" x="%.1f" y="%.1f">%.0f</text>`, x, top+ph+16, t)
	}
	fmt.Fprintf(&b, `<text class="axis-label" x="%.1f" y="%.1f">MSS (bytes)</text>`, left+pw, height-4)
	fmt.Fprintf(&b, `<text class="axis-label start" x="2" y="%.1f">Mbit/s%s</text>`, 12.0, map[bool]string{true: " (log)", false: ""}[ax.log])
	var legend []Legend
	for _, s := range pageSeries {
		var pts []string
		var ys []string
		for i, r := range in.Rows {
			if v := s.get(in, i); usable(v) {
				y := fmt.Sprintf("%.1f", Y(v.Mbps()))
				// A flat run needs only its ends.
				if n := len(ys); n >= 2 && ys[n-1] == y && ys[n-2] == y {
					pts, ys = pts[:n-1], ys[:n-1]
				}
				pts, ys = append(pts, fmt.Sprintf("%.1f,%s", X(float64(r.MSS)), y)), append(ys, y)
			}
		}
		if len(pts) == 0 {
			continue
		}
		legend = append(legend, Legend{Class: s.class, Name: s.name})
		fmt.Fprintf(&b, `<polyline class="series %s" points="%s"><title>%s</title></polyline>`, s.class, strings.Join(pts, " "), s.name)
	}
	if in.Best > 0 && float64(in.Best) >= xmin && float64(in.Best) <= xmax {
		x := X(float64(in.Best))
		anchor := "mid"
		switch {
		case x > left+pw-60:
			anchor = "end"
		case x < left+60:
			anchor = "start"
		}
		fmt.Fprintf(&b, `<line class="best" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, x, x, top, top+ph)
		fmt.Fprintf(&b, `<text class="best-label %s" x="%.1f" y="%.1f">recommended MSS %d</text>`, anchor, x, top-7, in.Best)
		legend = append(legend, Legend{Class: "c-best", Name: fmt.Sprintf("recommended MSS %d", in.Best)})
	}
	b.WriteString(`</svg>`)
	_, err := io.WriteString(w, b.String())
	return legend, err
}

func usable(v tput.Rate) bool {
	return !v.IsUnlimited() && !math.IsNaN(float64(v)) && v > 0
}

// yAxis maps values to [0, 1] of the plot height.
type yAxis struct {
	log    bool
	lo, hi float64
	ticks  []float64
}

func (a yAxis) frac(v float64) float64 {
	if a.log {
		return (math.Log10(v) - math.Log10(a.lo)) / (math.Log10(a.hi) - math.Log10(a.lo))
	}
	return (v - a.lo) / (a.hi - a.lo)
}

// yAxisFor picks the y axis for values in [lo, hi]: logarithmic (so a
// 2 Gbit/s window limit and a 10 Mbit/s loss limit both read) with ticks at
// 1, 2 and 5 per decade, or every integer multiple when that gives fewer
// than three; linear with nice ticks when the values span under a decade.
func yAxisFor(lo, hi float64) yAxis {
	if hi/lo < 10 {
		span := hi - lo
		if span < hi*0.05 {
			span = hi * 0.1
		}
		t := niceTicks(math.Max(0, lo-span*0.15), hi+span*0.15, 5)
		return yAxis{lo: t[0], hi: t[len(t)-1], ticks: t}
	}
	a := yAxis{log: true, lo: lo / 1.6, hi: hi * 1.6}
	for _, mult := range [][]float64{{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}} {
		a.ticks = a.ticks[:0]
		for e := math.Floor(math.Log10(a.lo)); e <= math.Ceil(math.Log10(a.hi)); e++ {
			for _, m := range mult {
				if v := m * math.Pow(10, e); v >= a.lo && v <= a.hi {
					a.ticks = append(a.ticks, v)
				}
			}
		}
		if len(a.ticks) >= 3 {
			break
		}
	}
	return a
}

// niceTicks are about n round values covering [lo, hi], the first at or
// below lo and the last at or above hi.
func niceTicks(lo, hi float64, n int) []float64 {
	raw := (hi - lo) / float64(max(n-1, 1))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var t []float64
	for v := math.Floor(lo/step) * step; v <= hi+step*1e-9; v += step {
		t = append(t, math.Round(v/step)*step)
	}
	if t[len(t)-1] < hi {
		t = append(t, t[len(t)-1]+step)
	}
	return t
}

func fmtRate(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%g G", v/1000)
	case v >= 1:
		return fmt.Sprintf("%g", v)
	}
	return fmt.Sprintf("%g", v)
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
