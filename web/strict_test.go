package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mtukit/mtukit/web"
)

// TestQueryStrict: issue 14 item 11. A query string that does not parse
// cleanly, or a parameter with an empty value, is 400 naming the
// parameter. Before, "stack=gre;mtu=1400" answered 200 with an empty stack
// (net/url drops a pair with ";"), "%zz=1" was dropped and answered 200, and
// "mtu=" meant the default.
func TestQueryStrict(t *testing.T) {
	h := web.New(testConfig())
	for _, tc := range []struct {
		name, method, target, param, want string
	}{
		{"semicolon", "GET", "/api/v1/calc?stack=gre;mtu=1400", "stack", `stack: ";" in the query string: separate parameters with &`},
		{"bad escape in a name", "GET", "/api/v1/calc?%zz=1", "%zz", `parameter "%zz": bad %-escape`},
		{"bad escape in a value", "GET", "/api/v1/calc?stack=gre&mtu=14%zz", "mtu", `mtu "14%zz": bad %-escape`},
		{"empty value", "GET", "/api/v1/calc?stack=gre&mtu=", "mtu", "mtu: empty value"},
		{"no value", "GET", "/api/v1/calc?stack", "stack", "stack: empty value"},
		{"empty value, tput", "GET", "/api/v1/tput?rtt=", "rtt", "rtt: empty value"},
		{"empty value, sim", "GET", "/api/v1/sim?trials=", "trials", "trials: empty value"},
		{"empty value, analyze", "POST", "/api/v1/analyze?name=", "name", "name: empty value"},
		{"semicolon, catalog", "GET", "/api/v1/catalog?a;b", "a;b", `";" in the query string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := do(t, h, httptestRequest(tc.method, tc.target))
			if w.Code != 400 {
				t.Fatalf("code %d, want 400: %s", w.Code, w.Body)
			}
			if e := decodeError(t, w); e.Param != tc.param || !strings.Contains(e.Error, tc.want) {
				t.Errorf("got %+v, want param %q and %q", e, tc.param, tc.want)
			}
		})
	}
	// what is well formed still works: empty pairs between & are nothing
	if w := get(t, h, "/api/v1/calc?stack=gre&&mtu=1400&"); w.Code != 200 {
		t.Errorf("well-formed query: %d %s", w.Code, w.Body)
	}
}

// TestAPIAlwaysJSON: issue 14 item 12. Every answer under /api is JSON,
// and a path that is not clean is not redirected (the mux's 307 to the
// clean path came as HTML): it is a JSON 404 that names the path meant.
// Before, /api answered a plain-text 404 and /api/v1//calc a 307.
func TestAPIAlwaysJSON(t *testing.T) {
	h := web.New(testConfig())
	for _, tc := range []struct{ target, want string }{
		{"/api", "no such endpoint: /api"},
		{"/api/", "no such endpoint: /api/"},
		{"/api/v1//calc", "no such endpoint: /api/v1//calc (paths are not cleaned: did you mean /api/v1/calc?)"},
		{"/api/v1/./calc?stack=gre", "did you mean /api/v1/calc?"},
		{"/api/v1/x/../calc", "did you mean /api/v1/calc?"},
		{"/api/v1/calc/", "did you mean /api/v1/calc?"},
		{"/api/v2/calc", "no such endpoint: /api/v2/calc"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			w := get(t, h, tc.target)
			if w.Code != 404 || w.Header().Get("Location") != "" {
				t.Fatalf("code %d (Location %q), want a 404: %s", w.Code, w.Header().Get("Location"), w.Body)
			}
			if e := decodeError(t, w); !strings.Contains(e.Error, tc.want) {
				t.Errorf("error %q, want %q", e.Error, tc.want)
			}
		})
	}
	// outside /api the mux's own behaviour stays
	if w := get(t, h, "/nothing"); w.Code != 404 {
		t.Errorf("/nothing: %d", w.Code)
	}
}

func httptestRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}
