package web_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mtukit/mtukit/web"
)

// TestErrorsInWords sends every API parameter the values a person mistypes
// and checks each 400 names that parameter, in one line of words: no Go
// parser text (the page shows these messages next to its fields).
func TestErrorsInWords(t *testing.T) {
	h := web.New(testConfig())
	goText := regexp.MustCompile(`strconv|invalid syntax|Parse(Int|Uint|Float|Bool)|value out of range|time: `)
	bad := []string{"abc", "1,5", "1e999", "99999999999999999999", "-1", "0x10", "1%", " "}
	n := 0
	for _, r := range web.Routes() {
		if r.Method != "GET" || !strings.HasPrefix(r.Pattern, "/api/v1/") {
			continue
		}
		for _, p := range r.Params {
			for _, v := range bad {
				q := url.Values{p: {v}}
				if r.Pattern == "/api/v1/sim" && p != "trials" {
					q.Set("trials", "10") // a value that is valid runs a small simulation
				}
				w := get(t, h, r.Pattern+"?"+q.Encode())
				if w.Code == 200 {
					continue
				}
				n++
				var e struct{ Error, Param string }
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != 400 {
					t.Errorf("%s %s=%q: %d %s", r.Pattern, p, v, w.Code, w.Body)
					continue
				}
				if e.Param != p || e.Error == "" || strings.Contains(e.Error, "\n") || goText.MatchString(e.Error) {
					t.Errorf("%s %s=%q: param %q, error %q: want the parameter named, in words", r.Pattern, p, v, e.Param, e.Error)
				}
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d bad values refused: the table is not reaching the parameters", n)
	}
}
