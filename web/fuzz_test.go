package web_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mtukit/mtukit/web"
)

// FuzzCalcQuery feeds arbitrary query strings to the calc API and to the
// page's fragment: the API answers 200 with a report (only to a query that
// parses cleanly, without empty values) or 400 with a one-line JSON error,
// the fragment always renders, and nothing panics.
func FuzzCalcQuery(f *testing.F) {
	for _, seed := range []string{
		"", // plain link
		"stack=pppoe%2Fesp%28aes-gcm-16%29%2Fgre",                            // the seed stack
		"stack=vxlan&mtu=9000&family=ipv6&tcp-options=ts,sack=3&packet=1400", // every parameter
		"mtu=67",                         // below IPv4's minimum
		"stack=esp(&mtu=1500",            // unbalanced parenthesis
		"stack=gre(key=1)",               // a flag given a value
		"mtu=1&mtu=2",                    // repeated parameter
		"%zz=1",                          // bad escape
		"stack=mpls(labels=99999999999)", // huge argument
		"tcp-options=ao=37",              // option that does not fit
		"stack=gre;mtu=1400",             // ';' is no separator (issue 14 item 11)
		"stack=gre&mtu=",                 // empty value
		"interface=%00%FF&physical=" + strings.Repeat("x", 300),
	} {
		f.Add(seed)
	}
	h := web.New(testConfig())
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 4096 {
			return
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path, r.URL.RawQuery = "/api/v1/calc", q
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200:
			// a query answered must parse cleanly, without empty values
			vals, err := url.ParseQuery(q)
			if err != nil {
				t.Fatalf("200 for a malformed query %q: %v", q, err)
			}
			for k, v := range vals {
				if slices.Contains(v, "") {
					t.Fatalf("200 for %q with %s empty", q, k)
				}
			}
			var rep struct {
				TunnelMTU int `json:"tunnel_mtu"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil || rep.TunnelMTU <= 0 {
				t.Fatalf("200 with %q (%v)", w.Body, err)
			}
		case 400:
			var e struct{ Error string }
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" || strings.Count(w.Body.String(), "\n") != 1 {
				t.Fatalf("400 with %q", w.Body)
			}
		default:
			t.Fatalf("code %d for %q: %s", w.Code, q, w.Body)
		}
		r = httptest.NewRequest("GET", "/", nil)
		r.URL.Path, r.URL.RawQuery = "/calc/fragment", q+"&builder=1"
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("fragment code %d for %q", w.Code, q)
		}
	})
}
