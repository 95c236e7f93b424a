package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/capture"
	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/plpmtud/sim"
	"github.com/mtukit/mtukit/tput"
	"github.com/mtukit/mtukit/tput/chart"
)

//go:embed assets
var assets embed.FS

type pageRenderer struct {
	tmpl    *template.Template
	static  fs.FS
	catalog []encap.LayerDoc
	byName  map[string]encap.LayerDoc
}

func newPageRenderer(s *Server) *pageRenderer {
	funcs := template.FuncMap{
		"pct": pct,
		"mbps": func(r tput.Rate) string {
			if r.IsUnlimited() {
				return "unlimited"
			}
			return fmt.Sprintf("%.1f Mbit/s", r.Mbps())
		},
		"inc": func(i int) int { return i + 1 },
		"f1":  func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
		"f3":  func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) },
		// onPage: the parameter has a field on the page, where its error
		// shows (once); other errors show in their panel.
		"onPage": func(param string) bool { return pageFields[param] },
		"fe":     func(v pageView, param string) fieldErr { return fieldErr{Param: param, Msg: v.FieldErrs[param]} },
	}
	t := template.Must(template.New("").Funcs(funcs).ParseFS(assets, "assets/*.tmpl"))
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		panic(err)
	}
	p := &pageRenderer{tmpl: t, static: static, catalog: encap.Catalog(), byName: map[string]encap.LayerDoc{}}
	for _, d := range p.catalog {
		p.byName[d.Name] = d
	}
	return p
}

// preset is a link MTU button.
type preset struct {
	Name string
	MTU  int
}

var presets = []preset{{"Ethernet", 1500}, {"PPPoE", 1492}, {"Jumbo", 9000}, {"LTE", 1428}, {"IPv6 minimum", 1280}, {"Baby jumbo (RFC 4638)", 1508}}

// stackPreset is a row of the preset picker.
type stackPreset struct {
	encap.Preset
	Computed int
	// Where is the source's address without its scheme: shown as text to
	// copy, since the page links nowhere outside the binary.
	Where    string
	Selected bool
}

// stackPresets lists encap's presets for the picker, selecting the one
// whose stack, link MTU and family the form has.
func stackPresets(f formView) []stackPreset {
	var out []stackPreset
	sel := false
	for _, p := range encap.Presets() {
		got, err := p.Computed()
		if err != nil {
			continue
		}
		r := stackPreset{Preset: p, Computed: got, Where: strings.TrimPrefix(strings.TrimPrefix(p.Source.URL, "https://"), "http://")}
		if !sel && f.Stack == p.Stack && f.MTU == strconv.Itoa(p.LinkMTU) && f.Family == p.Family {
			r.Selected, sel = true, true
		}
		out = append(out, r)
	}
	return out
}

// formView holds the page's inputs as the user gave them. Tunnel and Step
// are the path MTU search's: the tunnel family of the true path MTU ("": the
// stack's own tunnel MTU) and ΔS.
type formView struct {
	Stack, MTU, Family, TCP       string
	RTT, Loss, Window, Rate, ICMP string
	Tunnel, Step                  string
}

// pageFields are the query parameters the page has a field for: an error
// about one of them shows next to that field.
var pageFields = map[string]bool{"stack": true, "mtu": true, "family": true, "tcp-options": true,
	"rtt": true, "loss": true, "window": true, "rate": true, "icmp": true, "tunnel": true, "step": true}

// simTunnels and simSteps are the path MTU search panel's choices: the
// tunnel families sim knows, and the seed article's ΔS values.
var (
	simTunnels = append(sim.TunnelNames(), "all")
	simSteps   = []string{"16", "32", "64", "128", "256", "seed"}
)

// formFrom reads the page's inputs, showing the domain packages' defaults
// for those not given.
func formFrom(q url.Values) formView {
	t, sm := tput.DefaultRequest(), sim.DefaultRequest()
	f := formView{Stack: q.Get("stack"), MTU: q.Get("mtu"), Family: q.Get("family"), TCP: q.Get("tcp-options"),
		RTT: q.Get("rtt"), Loss: q.Get("loss"), Window: q.Get("window"), Rate: q.Get("rate"), ICMP: q.Get("icmp"),
		Tunnel: q.Get("tunnel"), Step: q.Get("step")}
	for _, d := range []struct {
		v   *string
		def string
	}{
		{&f.MTU, strconv.Itoa(t.LinkMTU)}, {&f.Family, t.Family.String()}, {&f.TCP, "ts"}, {&f.RTT, t.RTT.String()},
		{&f.Loss, strconv.FormatFloat(t.Loss, 'g', -1, 64)}, {&f.Rate, t.Rate}, {&f.ICMP, strconv.FormatFloat(sm.ICMP, 'g', -1, 64)},
	} {
		if *d.v == "" {
			*d.v = d.def
		}
	}
	return f
}

// calcQuery is the part of the page's query that calc takes.
func (f formView) calcQuery() url.Values {
	return url.Values{"stack": {f.Stack}, "mtu": {f.MTU}, "family": {f.Family}, "tcp-options": {f.TCP}}
}

func (f formView) tputQuery() url.Values {
	q := f.calcQuery()
	for k, v := range map[string]string{"rtt": f.RTT, "loss": f.Loss, "window": f.Window, "rate": f.Rate} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

type pageView struct {
	Form       formView
	Presets    []preset
	Catalog    []encap.LayerDoc
	Builder    builderView
	Calc       calcView
	Tput       *tputView
	Sim        *simView
	MaxUpload  string
	SimTunnels []string
	SimSteps   []string
	// StackPresets is the preset picker: encap's presets with their
	// published figures and sources.
	StackPresets []stackPreset
	// FieldErrs is each page field's error, the first panel's that names
	// it: shown once, next to the field.
	FieldErrs map[string]string
}

// fieldErr is one field's error slot.
type fieldErr struct{ Param, Msg string }

// fieldErrs gathers the errors about page fields from the panels.
func (v *pageView) fieldErrs() {
	v.FieldErrs = map[string]string{}
	add := func(param, msg string) {
		if msg != "" && pageFields[param] && v.FieldErrs[param] == "" {
			v.FieldErrs[param] = msg
		}
	}
	add(v.Calc.Param, v.Calc.Err)
	if v.Tput != nil {
		add(v.Tput.Param, v.Tput.Err)
	}
	if v.Sim != nil {
		add(v.Sim.Param, v.Sim.Err)
	}
}

type calcView struct {
	Err, Param string
	R          *advise.Report
	Blueprint  template.HTML
	Efficiency template.HTML
	// BlueprintIDs maps a layer's index to the id of its label in the
	// blueprint, for the arithmetic's links.
	BlueprintIDs map[int]string
}

func (p *pageRenderer) calc(f formView) calcView {
	r, pe := calcReport(f.calcQuery())
	if pe != nil {
		return calcView{Err: pe.Msg, Param: pe.Param}
	}
	svg, ids := blueprintSVG(r.Blueprint, r.LinkMTU, r.Layers)
	return calcView{R: r, Blueprint: svg, Efficiency: efficiencySVG(r.Efficiency), BlueprintIDs: ids}
}

// builderView is the stack builder: one row per layer, wire inwards.
type builderView struct {
	Layers []layerRow
}

type layerRow struct {
	Index       int
	Name, Title string
	// Raw is a layer the text names but that does not parse on its own:
	// the row keeps its place (and the rest of the builder stays) while
	// the stack field says what is wrong.
	Raw         string
	First, Last bool
	Groups      []groupCtl
	Flags       []flagCtl
	Values      []valueCtl
}

type groupCtl struct {
	Name    string
	Options []optCtl
}

type optCtl struct {
	Name, Doc string
	Selected  bool
}

type flagCtl struct {
	Name, Doc string
	Checked   bool
}

type valueCtl struct {
	Name, Doc, Value string
}

// builder lays out the parsed stack with every argument of each layer from
// encap.Catalog, the arguments in the spec set.
func (p *pageRenderer) builder(spec string) builderView {
	if strings.TrimSpace(spec) == "" {
		return builderView{}
	}
	// Each layer is parsed on its own, so a typo in one leaves the others
	// in the builder.
	var layers []string
	var raw []bool
	for _, seg := range splitSpec(spec) {
		if st, err := encap.Parse(seg); err == nil && len(st.Layers) > 0 {
			for _, l := range strings.Split(st.String(), "/") {
				layers, raw = append(layers, l), append(raw, false)
			}
		} else {
			layers, raw = append(layers, seg), append(raw, true)
		}
	}
	var bv builderView
	for i, l := range layers {
		if raw[i] {
			bv.Layers = append(bv.Layers, layerRow{Index: i, Raw: l, First: i == 0, Last: i == len(layers)-1})
			continue
		}
		name, argStr, _ := strings.Cut(l, "(")
		argStr = strings.TrimSuffix(argStr, ")")
		set := map[string]string{}
		if argStr != "" {
			for _, a := range strings.Split(argStr, ",") {
				k, v, _ := strings.Cut(a, "=")
				set[k] = v
			}
		}
		d := p.byName[name]
		row := layerRow{Index: i, Name: name, Title: d.Summary, First: i == 0, Last: i == len(layers)-1}
		groups := map[string]int{}
		for _, a := range d.Args {
			_, on := set[a.Name]
			switch {
			case a.Group != "":
				gi, ok := groups[a.Group]
				if !ok {
					gi = len(row.Groups)
					groups[a.Group] = gi
					row.Groups = append(row.Groups, groupCtl{Name: a.Group})
				}
				row.Groups[gi].Options = append(row.Groups[gi].Options, optCtl{Name: a.Name, Doc: a.Doc, Selected: on})
			case a.Value != "":
				row.Values = append(row.Values, valueCtl{Name: a.Name, Doc: a.Doc + " " + a.Value, Value: set[a.Name]})
			default:
				row.Flags = append(row.Flags, flagCtl{Name: a.Name, Doc: a.Doc, Checked: on})
			}
		}
		bv.Layers = append(bv.Layers, row)
	}
	return bv
}

type tputView struct {
	Err, Param string
	R          *tput.Report
	Binding    string
	// Wide and Narrow are the chart drawn for a desktop card and for a
	// phone (the stylesheet shows one); Legend lists its lines.
	Wide, Narrow template.HTML
	Legend       []chart.Legend
}

func (s *Server) tputView(r *http.Request, f formView) *tputView {
	if !s.acquire(r.Context()) {
		return &tputView{Err: "server busy: too many calculations running, retry shortly"}
	}
	defer s.release()
	rep, pe, err := s.runTput(f.tputQuery())
	if pe != nil {
		return &tputView{Err: pe.Msg, Param: pe.Param}
	}
	if err != nil {
		s.log.Printf("web: tput: %v", err)
		return &tputView{Err: "internal error"}
	}
	v := &tputView{R: rep}
	for _, row := range rep.Rows {
		if row.MSS == rep.Best {
			v.Binding = string(row.Binding)
		}
	}
	rows, expected, err := rep.PlotRows()
	if err != nil {
		rows, expected = rep.Rows, nil
	}
	// Every byte of MSS is more points than a card has pixels.
	if k := len(rows) / 240; k > 1 {
		var r2 []tput.Limits
		var e2 []tput.Rate
		for i := range rows {
			if i%k == 0 || i == len(rows)-1 {
				r2 = append(r2, rows[i])
				if expected != nil {
					e2 = append(e2, expected[i])
				}
			}
		}
		rows, expected = r2, e2
	}
	in := chart.Input{Title: "goodput against MSS", Rows: rows, Expected: expected, Best: rep.Best}
	var wide, narrow bytes.Buffer
	if lg, err := chart.Page(&wide, in, 760, 330); err == nil {
		v.Legend = lg
		v.Wide = template.HTML(wide.String())
	}
	if _, err := chart.Page(&narrow, in, 360, 280); err == nil {
		v.Narrow = template.HTML(narrow.String())
	}
	return v
}

func (s *Server) render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := s.page.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		s.internal(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	f := formFrom(r.URL.Query())
	v := pageView{Form: f, Presets: presets, Catalog: s.page.catalog, Builder: s.page.builder(f.Stack),
		Calc: s.page.calc(f), MaxUpload: humanBytes(s.cfg.MaxUpload), SimTunnels: simTunnels, SimSteps: simSteps, StackPresets: stackPresets(f)}
	v.Tput = s.tputView(r, f)
	v.Sim = s.simView(r, f)
	v.fieldErrs()
	s.render(w, "page.tmpl", v)
}

// handleCalcFragment answers the page's live updates: the results, and the
// builder too when the stack's shape changed (builder=1).
func (s *Server) handleCalcFragment(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := formFrom(q)
	v := pageView{Form: f, Calc: s.page.calc(f)}
	v.fieldErrs()
	if q.Get("builder") == "1" {
		v.Builder = s.page.builder(f.Stack)
		s.render(w, "fragment-builder", v)
		return
	}
	s.render(w, "results", v)
}

func (s *Server) handleTputFragment(w http.ResponseWriter, r *http.Request) {
	f := formFrom(r.URL.Query())
	v := pageView{Form: f, Tput: s.tputView(r, f)}
	v.fieldErrs()
	s.render(w, "tput", v)
}

type simView struct {
	Err, Param string
	PMTU, Max  int
	Tunnel     string // the tunnel family searched; "": the stack's tunnel MTU
	R          *sim.Report
}

// simView runs the sim comparison for the page's stack: the true path MTU
// is calc's tunnel MTU, searched between 1200 (or less, when the tunnel
// MTU is smaller) and the link MTU, with the page's RTT and loss.
func (s *Server) simView(r *http.Request, f formView) *simView {
	// Exact probabilities: cheap since the simulator shares states across
	// path MTUs (docs/sim.md).
	q := url.Values{"exact": {"true"}}
	for k, v := range map[string]string{"rtt": f.RTT, "loss": f.Loss, "icmp": f.ICMP, "step": f.Step} {
		if v != "" {
			q.Set(k, v)
		}
	}
	v := &simView{Tunnel: f.Tunnel}
	if f.Tunnel != "" {
		// A tunnel family's variants on a 1500-byte link, as `mtukit sim
		// --tunnel` and the seed's table.
		q.Set("tunnel", f.Tunnel)
		v.Max = sim.DefaultRequest().Max
	} else {
		rep, pe := calcReport(f.calcQuery())
		if pe != nil {
			return &simView{Err: pe.Msg, Param: pe.Param}
		}
		lo := min(1200, rep.TunnelMTU)
		q.Set("pmtu", strconv.Itoa(rep.TunnelMTU))
		q.Set("min", strconv.Itoa(lo))
		q.Set("max", strconv.Itoa(rep.LinkMTU))
		v.PMTU, v.Max = rep.TunnelMTU, rep.LinkMTU
	}
	if !s.acquire(r.Context()) {
		v.Err = "server busy: too many simulations running, retry shortly"
		return v
	}
	defer s.release()
	sr, pe, err := s.runSim(r.Context(), q)
	switch {
	case pe != nil:
		v.Err, v.Param = pe.Msg, pe.Param
	case err != nil:
		s.log.Printf("web: sim: %v", err)
		v.Err = "the simulation failed"
	default:
		v.R = sr
	}
	return v
}

func (s *Server) handleSimFragment(w http.ResponseWriter, r *http.Request) {
	f := formFrom(r.URL.Query())
	v := pageView{Form: f, Sim: s.simView(r, f)}
	v.fieldErrs()
	s.render(w, "sim", v)
}

type analyzeView struct {
	Err string
	R   *capture.Report
}

func (s *Server) handleAnalyzeFragment(w http.ResponseWriter, r *http.Request) {
	rep, pe, code := s.analyze(w, r)
	v := analyzeView{R: rep}
	switch {
	case code == http.StatusServiceUnavailable && pe == nil:
		v.Err = "server busy: too many analyses running, retry shortly"
	case pe != nil:
		v.Err = pe.Msg
	}
	if code != 0 {
		w.WriteHeader(code)
	}
	s.render(w, "analysis", v)
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(s.page.static, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("assets/openapi.json")
	if err != nil {
		s.internal(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// splitSpec cuts a stack spec at the slashes between layers (not inside a
// layer's parentheses).
func splitSpec(spec string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range spec {
		switch c {
		case '(':
			depth++
		case ')':
			depth = max(depth-1, 0)
		case '/':
			if depth == 0 {
				if seg := strings.TrimSpace(spec[start:i]); seg != "" {
					out = append(out, seg)
				}
				start = i + 1
			}
		}
	}
	if seg := strings.TrimSpace(spec[start:]); seg != "" {
		out = append(out, seg)
	}
	return out
}
