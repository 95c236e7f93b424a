package chart

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mtukit/mtukit/tput"
)

// svgDoc is the part of the page chart the structural test reads.
type svgDoc struct {
	ViewBox string `xml:"viewBox,attr"`
	Texts   []struct {
		Class string  `xml:"class,attr"`
		X     float64 `xml:"x,attr"`
		Y     float64 `xml:"y,attr"`
		Text  string  `xml:",chardata"`
	} `xml:"text"`
	Lines []struct {
		Class string `xml:"class,attr"`
		Point string `xml:"points,attr"`
	} `xml:"polyline"`
}

type rect struct{ x, y, w, h float64 }

func plotArea(t *testing.T, b []byte) rect {
	t.Helper()
	// encoding/xml cannot bind width/height to the same struct tags above;
	// read the plot area's attributes by hand.
	s := string(b)
	i := strings.Index(s, `<rect class="plot-area"`)
	if i < 0 {
		t.Fatal("no plot area")
	}
	tag := s[i : i+strings.Index(s[i:], "/>")]
	get := func(k string) float64 {
		j := strings.Index(tag, " "+k+`="`)
		v := tag[j+len(k)+3:]
		f, err := strconv.ParseFloat(v[:strings.IndexByte(v, '"')], 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	return rect{get("x"), get("y"), get("width"), get("height")}
}

// TestPageChart checks the page chart's structure for the cases issue 16
// reported: at loss 0 the y axis has at least three labelled ticks, every
// line stays inside the plot area, the labels sit outside it, the loss limit
// is drawn after (above) the goodput band, and there is no legend inside.
func TestPageChart(t *testing.T) {
	for _, tc := range []struct {
		name string
		loss float64
		rtt  time.Duration
		rate string
	}{
		{"loss 0", 0, 50 * time.Millisecond, "1g"},
		{"loss 1%", 0.01, 50 * time.Millisecond, "1g"},
		{"loss binds at 10G", 0.001, 20 * time.Millisecond, "10g"},
		{"100 Mbit/s, long path", 0.0001, 200 * time.Millisecond, "100M"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tput.DefaultRequest()
			req.Stack, req.Loss, req.RTT, req.Rate = "pppoe/esp(aes-gcm-16)/gre", tc.loss, tc.rtt, tc.rate
			rep, err := tput.Calc(req)
			if err != nil {
				t.Fatal(err)
			}
			rows, exp, err := rep.PlotRows()
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range [][2]float64{{720, 340}, {380, 300}} {
				var buf bytes.Buffer
				legend, err := Page(&buf, Input{Title: "t", Rows: rows, Expected: exp, Best: rep.Best}, size[0], size[1])
				if err != nil {
					t.Fatal(err)
				}
				var doc svgDoc
				if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
					t.Fatalf("not XML: %v", err)
				}
				pa := plotArea(t, buf.Bytes())
				ticks := 0
				for _, tx := range doc.Texts {
					switch tx.Class {
					case "ytick":
						ticks++
						if tx.X > pa.x || tx.Y < pa.y-1 || tx.Y > pa.y+pa.h+6 {
							t.Errorf("y tick %q at (%.1f, %.1f) is not left of the plot area %+v", tx.Text, tx.X, tx.Y, pa)
						}
					case "xtick":
						if tx.Y < pa.y+pa.h {
							t.Errorf("x tick %q inside the plot area", tx.Text)
						}
					case "best-label start", "best-label mid", "best-label end":
						if tx.Y > pa.y {
							t.Errorf("recommended-MSS label at y %.1f inside the plot area (top %.1f)", tx.Y, pa.y)
						}
					}
				}
				if ticks < 3 {
					t.Errorf("%v: %d y ticks, want at least 3", size, ticks)
				}
				order := map[string]int{}
				for i, l := range doc.Lines {
					order[strings.Fields(l.Class)[1]] = i
					for _, p := range strings.Fields(l.Point) {
						x, y, _ := strings.Cut(p, ",")
						fx, _ := strconv.ParseFloat(x, 64)
						fy, _ := strconv.ParseFloat(y, 64)
						if fx < pa.x-0.1 || fx > pa.x+pa.w+0.1 || fy < pa.y-0.1 || fy > pa.y+pa.h+0.1 {
							t.Fatalf("%s point (%s) outside the plot area %+v", l.Class, p, pa)
						}
					}
				}
				if i, ok := order["c-loss"]; ok && i < order["c-goodput"] {
					t.Errorf("the loss limit is drawn before (under) the goodput")
				}
				if _, ok := order["c-window"]; !ok {
					t.Errorf("no window limit line")
				}
				if len(legend) < 2 || strings.Contains(buf.String(), "legend") {
					t.Errorf("legend %v (it belongs outside the SVG)", legend)
				}
			}
		})
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		n      int
		want   string
	}{
		{0, 100, 5, "[0 25 50 75 100]"},
		{1212, 1460, 4, "[1200 1300 1400 1500]"},
		{83, 95, 5, "[80 85 90 95]"},
	} {
		if got := strings.Join(strings.Fields(fmtSlice(niceTicks(tc.lo, tc.hi, tc.n))), " "); got != tc.want {
			t.Errorf("niceTicks(%g, %g, %d) = %s, want %s", tc.lo, tc.hi, tc.n, got, tc.want)
		}
	}
}

func fmtSlice(v []float64) string {
	s := make([]string, len(v))
	for i, f := range v {
		s[i] = strconv.FormatFloat(f, 'g', -1, 64)
	}
	return "[" + strings.Join(s, " ") + "]"
}
