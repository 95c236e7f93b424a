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

// TestPageTypoWithoutScript: the first load of a shared URL with a typo in
// the stack (no JavaScript needed) puts the message next to the stack field,
// keeps the builder's other layers, and repeats the message only in the
// panels' hidden copies.
func TestPageTypoWithoutScript(t *testing.T) {
	h := web.New(testConfig())
	body := get(t, h, "/?stack="+url.QueryEscape("pppoe/vlan/gre")).Body.String()
	slot := regexp.MustCompile(`<p class="err field-err" id="err-stack" data-field="stack" role="alert">([^<]+)</p>`).FindStringSubmatch(body)
	if slot == nil || !strings.Contains(slot[1], "unknown layer &#34;vlan&#34;") {
		t.Fatalf("no stack error next to the field: %v", slot)
	}
	for _, want := range []string{`data-name="pppoe"`, `data-raw="vlan"`, `data-name="gre"`} {
		if !strings.Contains(body, want) {
			t.Errorf("builder lacks %s", want)
		}
	}
	shown := strings.Count(body, slot[1])
	hidden := len(regexp.MustCompile(`<p class="ferr" data-param="stack" hidden>[^<]*unknown layer`).FindAllString(body, -1))
	if shown-hidden != 1 {
		t.Errorf("the stack error is in the page %d times, %d of them hidden: want it shown once", shown, hidden)
	}
}
