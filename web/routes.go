package web

import (
	"net/http"
	"strings"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/mss"
	"github.com/mtukit/mtukit/plpmtud/sim"
	"github.com/mtukit/mtukit/tput"
)

// route is one endpoint. The routes table is the only list of them: it
// drives the mux, the heavy-request rate limit (isHeavy), and the test that
// openapi.json documents every API route with exactly the parameters its
// binder takes. To add an endpoint, add a row here (and its handler), and
// its entry in assets/openapi.json if Doc.
type route struct {
	Method  string
	Pattern string // http.ServeMux pattern
	// Heavy routes run tput, sim or analyze: they take a heavy-work slot
	// and count against the smaller heavy rate limit.
	Heavy bool
	// Doc routes are the API, described in assets/openapi.json.
	Doc bool
	// Bind names the query parameters the route takes (nil: none).
	Bind   func(*query)
	Handle func(*Server, http.ResponseWriter, *http.Request)
	// Help is the route's line in `mtukit serve --help` ("": not listed).
	Help string
}

var routes = []route{
	{"GET", "/{$}", true, false, nil, (*Server).handlePage, "the page (?stack=...&mtu=... renders those results)"},
	{"GET", "/calc/fragment", false, false, nil, (*Server).handleCalcFragment, ""},
	{"GET", "/tput/fragment", true, false, nil, (*Server).handleTputFragment, ""},
	{"GET", "/sim/fragment", true, false, nil, (*Server).handleSimFragment, ""},
	{"POST", "/analyze/fragment", true, false, nil, (*Server).handleAnalyzeFragment, ""},
	{"GET", "/static/{file}", false, false, nil, (*Server).handleStatic, ""},
	{"GET", "/healthz", false, true, func(*query) {}, (*Server).handleHealth, `liveness: {"status":"ok"}`},
	{"GET", "/api/v1/calc", false, true, func(b *query) { bindCalc(b, new(advise.Options)) }, (*Server).handleCalc, "what calc --json prints (calc's flags as parameters, and preset)"},
	{"GET", "/api/v1/catalog", false, true, func(*query) {}, (*Server).handleCatalog, "every layer and argument (calc --list --json)"},
	{"GET", "/api/v1/presets", false, true, func(*query) {}, (*Server).handlePresets, "every preset with its published figure and source (calc --list-presets --json)"},
	{"GET", "/api/v1/tput", true, true, func(b *query) { bindTput(b, new(tput.Request), new(mss.SegmentOptions)) }, (*Server).handleTput, "what tput --json prints (tput's flags as parameters, except --plot)"},
	{"GET", "/api/v1/sim", true, true, func(b *query) { bindSim(b, new(sim.Request)) }, (*Server).handleSim, "what sim --json prints (sim's flags except --plot and --workers; exact unless it cannot be)"},
	{"POST", "/api/v1/analyze", true, true, func(b *query) { bindAnalyze(b, new(bool), new(int), new(string)) }, (*Server).handleAnalyze, "what analyze --json prints for the uploaded capture (multipart field \"file\" or raw body)"},
	{"GET", "/api/v1/openapi.json", false, false, nil, (*Server).handleOpenAPI, "the API's description"},
}

// Endpoint is one route as `mtukit serve --help` lists it.
type Endpoint struct{ Method, Path, Help string }

// Endpoints lists the routes that have a help line, in table order.
func Endpoints() []Endpoint {
	var es []Endpoint
	for _, r := range routes {
		if r.Help != "" {
			es = append(es, Endpoint{r.Method, strings.TrimSuffix(r.Pattern, "{$}"), r.Help})
		}
	}
	return es
}

// heavyPaths are the request paths of the Heavy routes.
var heavyPaths = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range routes {
		if r.Heavy {
			m[strings.TrimSuffix(r.Pattern, "{$}")] = true
		}
	}
	return m
}()

// params lists the query parameters a route's binder takes.
func (r route) params() []string {
	b := newQuery(nil)
	if r.Bind != nil {
		r.Bind(b)
	}
	return b.known
}
