package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/capture"
	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/internal/cli"
	"github.com/mtukit/mtukit/internal/jsonout"
	"github.com/mtukit/mtukit/web"
)

// testCapture is a real capture (zeek's test suite) with a finding: an
// ICMPv6 packet-too-big quoting a packet that fits the MTU it claims.
const testCapture = "../capture/testdata/real/zeek__icmp_icmp6-toobig.pcap"

func testConfig() web.Config {
	cfg := web.DefaultConfig()
	cfg.Rate = 0
	cfg.HeavyRate = 0
	return cfg
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, h, httptest.NewRequest("GET", target, nil))
}

func do(t *testing.T, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

type apiError struct {
	Error string `json:"error"`
	Param string `json:"param"`
}

func decodeError(t *testing.T, w *httptest.ResponseRecorder) apiError {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type = %q, want application/json (body %q)", ct, w.Body.String())
	}
	var e apiError
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
		t.Fatalf("error body %q: %v", w.Body.String(), err)
	}
	return e
}

func TestCalcAPI(t *testing.T) {
	h := web.New(testConfig())
	for _, tc := range []struct {
		name  string
		query string
		opts  advise.Options
	}{
		{"plain link", "", advise.Options{LinkMTU: 1500}},
		{"seed stack", "stack=" + url.QueryEscape("pppoe/esp(aes-gcm-16)/gre"), advise.Options{Stack: "pppoe/esp(aes-gcm-16)/gre", LinkMTU: 1500}},
		{"every parameter", "stack=vxlan&mtu=9000&packet=1400&tcp-options=none&family=ipv6&interface=vx0&physical=bond0",
			advise.Options{Stack: "vxlan", LinkMTU: 9000, Packet: 1400, Family: encap.IPv6, Interface: "vx0", Physical: "bond0"}},
		{"small mtu", "stack=wireguard&mtu=576", advise.Options{Stack: "wireguard", LinkMTU: 576}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := get(t, h, "/api/v1/calc?"+tc.query)
			if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("code %d, type %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			o := tc.opts
			if o.Family == 0 {
				o.Family = encap.IPv4
			}
			if n, _ := o.TCP.Bytes(); n == 0 && !strings.Contains(tc.query, "tcp-options=none") {
				o.TCP, _ = advise.ParseTCPOptions("ts")
			}
			r, err := advise.Calc(o)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := jsonout.Marshal(r)
			if !bytes.Equal(w.Body.Bytes(), want) {
				t.Errorf("body differs from advise.Calc's report:\n%s\nwant\n%s", w.Body, want)
			}
			// The second answer comes from the report cache: the same bytes.
			if again := get(t, h, "/api/v1/calc?"+tc.query); !bytes.Equal(again.Body.Bytes(), want) {
				t.Errorf("cached answer differs")
			}
		})
	}
}

func TestAPIErrors(t *testing.T) {
	cfg := testConfig()
	cfg.MaxUpload = 4096
	h := web.New(cfg)
	for _, tc := range []struct {
		name, method, target string
		code                 int
		param, contains      string
	}{
		{"unknown layer", "GET", "/api/v1/calc?stack=pppoe/esx", 400, "stack", `unknown layer "esx" at position 7`},
		{"no room", "GET", "/api/v1/calc?stack=esp/esp/esp&mtu=100", 400, "stack", "stack"},
		{"mtu not a number", "GET", "/api/v1/calc?mtu=abc", 400, "mtu", `mtu "abc"`},
		{"mtu too small", "GET", "/api/v1/calc?mtu=67", 400, "mtu", "mtu"},
		{"mtu too large", "GET", "/api/v1/calc?mtu=65536", 400, "mtu", "mtu"},
		{"bad family", "GET", "/api/v1/calc?family=ipx", 400, "family", `family "ipx"`},
		{"bad tcp options", "GET", "/api/v1/calc?tcp-options=bogus", 400, "tcp-options", "tcp-options"},
		{"packet out of range", "GET", "/api/v1/calc?packet=70000", 400, "packet", "packet 70000"},
		{"unknown parameter", "GET", "/api/v1/calc?mtuu=1400", 400, "mtuu", `unknown parameter "mtuu"`},
		{"repeated parameter", "GET", "/api/v1/calc?mtu=1400&mtu=1500", 400, "mtu", "given 2 times"},
		{"calc by POST", "POST", "/api/v1/calc", 405, "", "use GET"},
		{"analyze by GET", "GET", "/api/v1/analyze", 405, "", "use POST"},
		{"no such endpoint", "GET", "/api/v1/nothing", 404, "", "no such endpoint"},
		{"catalog takes no parameters", "GET", "/api/v1/catalog?x=1", 400, "x", "unknown parameter"},
		{"tput bad loss", "GET", "/api/v1/tput?loss=2", 400, "loss", "loss 2: want a probability"},
		{"tput bad stack", "GET", "/api/v1/tput?stack=nope", 400, "stack", `unknown layer "nope"`},
		{"tput plot refused", "GET", "/api/v1/tput?plot=/tmp/x.svg", 400, "plot", `unknown parameter "plot"`},
		{"tput bad rtt", "GET", "/api/v1/tput?rtt=fast", 400, "rtt", "rtt"},
		{"sim bad loss", "GET", "/api/v1/sim?loss=3", 400, "loss", "loss 3"},
		{"sim bad strategy", "GET", "/api/v1/sim?strategy=nope", 400, "strategy", `unknown strategy "nope"`},
		{"sim too many trials", "GET", "/api/v1/sim?trials=20001", 400, "trials", "at most 20000"},
		{"sim trials not a number", "GET", "/api/v1/sim?trials=many", 400, "trials", `trials "many"`},
		{"sim workers are the server's", "GET", "/api/v1/sim?workers=8", 400, "workers", "unknown parameter"},
		{"sim plot refused", "GET", "/api/v1/sim?plot=x.svg", 400, "plot", "unknown parameter"},
		{"analyze empty body", "POST", "/api/v1/analyze", 400, "file", "upload"},
		{"analyze garbage", "POST", "/api/v1/analyze?name=junk.pcap", 400, "file", "junk.pcap"},
		{"analyze bad flows", "POST", "/api/v1/analyze?flows=maybe", 400, "flows", "flows"},
		{"analyze bad max-flows", "POST", "/api/v1/analyze?max-flows=0", 400, "max-flows", "max-flows 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.name == "analyze garbage" {
				body = strings.NewReader("this is not a capture file at all")
			}
			w := do(t, h, httptest.NewRequest(tc.method, tc.target, body))
			if w.Code != tc.code {
				t.Fatalf("code = %d, want %d (%s)", w.Code, tc.code, w.Body)
			}
			e := decodeError(t, w)
			if e.Param != tc.param || !strings.Contains(e.Error, tc.contains) {
				t.Errorf("got %+v, want param %q and a message containing %q", e, tc.param, tc.contains)
			}
			if strings.Count(w.Body.String(), "\n") != 1 {
				t.Errorf("error is not one line: %q", w.Body)
			}
		})
	}
}

func TestHealthCatalogOpenAPI(t *testing.T) {
	h := web.New(testConfig())
	if w := get(t, h, "/healthz"); w.Code != 200 || w.Body.String() != "{\"status\":\"ok\"}\n" {
		t.Errorf("healthz: %d %q", w.Code, w.Body)
	}
	w := get(t, h, "/api/v1/catalog")
	want, _ := jsonout.Marshal(encap.Catalog())
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), want) {
		t.Errorf("catalog differs from encap.Catalog()")
	}
	w = get(t, h, "/api/v1/openapi.json")
	var spec struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &spec); err != nil || w.Code != 200 {
		t.Fatalf("openapi: %d %v", w.Code, err)
	}
	// Every documented path answers its documented method with something
	// other than 404/405.
	for p, methods := range spec.Paths {
		for m := range methods {
			r := httptest.NewRequest(strings.ToUpper(m), p, nil)
			if w := do(t, h, r); w.Code == 404 || w.Code == 405 {
				t.Errorf("%s %s documented but answers %d", m, p, w.Code)
			}
		}
	}
}

// The routes table and openapi.json agree: every API route is documented
// with its method and exactly the query parameters its binder takes, and
// nothing else is documented.
func TestRoutesMatchOpenAPI(t *testing.T) {
	b, err := os.ReadFile("assets/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	documented := 0
	for _, r := range web.Routes() {
		if !r.Doc {
			if spec.Paths[r.Pattern] != nil {
				t.Errorf("%s is in openapi.json but not marked Doc", r.Pattern)
			}
			continue
		}
		documented++
		op, ok := spec.Paths[r.Pattern][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s is not in openapi.json", r.Method, r.Pattern)
			continue
		}
		var names []string
		for _, p := range op.Parameters {
			if p.In == "query" {
				names = append(names, p.Name)
			}
		}
		slices.Sort(names)
		want := slices.Sorted(slices.Values(r.Params))
		if !slices.Equal(names, want) {
			t.Errorf("%s: openapi.json documents %v, the binder takes %v", r.Pattern, names, want)
		}
	}
	if documented != len(spec.Paths) {
		t.Errorf("openapi.json has %d paths, the routes table %d API routes", len(spec.Paths), documented)
	}
	// Heavy routes are the ones the heavy rate limit applies to.
	for _, r := range web.Routes() {
		p := strings.TrimSuffix(r.Pattern, "{$}")
		if web.IsHeavy(p) != r.Heavy {
			t.Errorf("%s: isHeavy %v, table %v", p, web.IsHeavy(p), r.Heavy)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := web.New(testConfig())
	for _, target := range []string{"/", "/api/v1/calc", "/api/v1/calc?mtu=1", "/static/app.js", "/nope", "/healthz"} {
		w := get(t, h, target)
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", target, csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if got := w.Header().Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", target, k, got, v)
			}
		}
	}
}

// The page must run under its own CSP: no inline script or style anywhere.
func TestPageHonoursCSP(t *testing.T) {
	h := web.New(testConfig())
	for _, target := range []string{"/?stack=" + url.QueryEscape("pppoe/esp(aes-gcm-16)/gre"), "/calc/fragment?stack=vxlan&builder=1", "/tput/fragment?stack=gre"} {
		body := get(t, h, target).Body.String()
		if strings.Contains(body, "style=") || regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).MatchString(body) ||
			regexp.MustCompile(`\son[a-z]+=`).MatchString(body) || strings.Contains(body, "<style") {
			t.Errorf("%s has inline script or style", target)
		}
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
			for _, m := range regexp.MustCompile(`https?://[^"' <]+`).FindAllString(body, -1) {
				if m != "http://www.w3.org/2000/svg" {
					t.Errorf("%s refers to %s: the page must work offline", target, m)
				}
			}
		}
	}
}

func TestPage(t *testing.T) {
	h := web.New(testConfig())
	spec := "pppoe/esp(aes-gcm-16)/gre"
	r, err := advise.Calc(advise.Options{Stack: spec, LinkMTU: 1492, Family: encap.IPv4})
	if err != nil {
		t.Fatal(err)
	}
	w := get(t, h, "/?mtu=1492&stack="+url.QueryEscape(spec))
	body := w.Body.String()
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	for _, want := range []string{
		`<span class="v" id="mss4">` + strconv.Itoa(r.MSS.IPv4) + `</span>`,
		`<span class="v" id="mss6">` + strconv.Itoa(r.MSS.IPv6) + `</span>`,
		`<span class="v" id="tmtu">` + strconv.Itoa(r.TunnelMTU) + `</span>`,
		`<span class="v" id="status">` + r.Status + `</span>`,
		`value="1492"`, `data-name="pppoe"`, `data-name="esp"`, `data-name="gre"`,
		`<option value="aes-gcm-16" title="`, `role="tablist"`, `<svg class="blueprint"`, `<svg class="effbar"`,
		`id="tput-mss"`, `data-code="mss_clamp_required"`, `at most 32 MiB`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !strings.Contains(body, `value="aes-gcm-16" title="`) || !regexp.MustCompile(`value="aes-gcm-16" title="[^"]*" selected`).MatchString(body) {
		t.Errorf("the esp row does not show cipher aes-gcm-16 selected")
	}
	for _, c := range r.Clamp {
		for _, l := range c.Lines {
			esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(l)
			if !strings.Contains(body, esc) {
				t.Errorf("vendor %s line %q missing", c.Vendor, l)
			}
		}
	}

	// A bad stack still renders the page, with the error and no panic.
	w = get(t, h, "/?stack=pppoe/esx")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `data-param="stack"`) {
		t.Errorf("bad stack page: %d", w.Code)
	}
	// Fragments.
	w = get(t, h, "/calc/fragment?stack=vxlan&mtu=1500")
	if !strings.Contains(w.Body.String(), `id="mss4">1410<`) || strings.Contains(w.Body.String(), "<html") {
		t.Errorf("calc fragment: %s", w.Body)
	}
	w = get(t, h, "/calc/fragment?stack=vxlan&builder=1")
	if !strings.Contains(w.Body.String(), `<template id="f-builder">`) || !strings.Contains(w.Body.String(), `data-name="vxlan"`) {
		t.Errorf("builder fragment: %s", w.Body)
	}
	w = get(t, h, "/tput/fragment?stack=vxlan&rtt=100ms&loss=0.01")
	if !strings.Contains(w.Body.String(), `id="tput-mss"`) || !strings.Contains(w.Body.String(), `<svg class="tchart"`) {
		t.Errorf("tput fragment: %s", w.Body)
	}
	w = get(t, h, "/tput/fragment?loss=7")
	if !strings.Contains(w.Body.String(), `data-param="loss"`) {
		t.Errorf("tput fragment error: %s", w.Body)
	}
	for file, ct := range map[string]string{"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"} {
		if w := get(t, h, "/static/"+file); w.Code != 200 || w.Header().Get("Content-Type") != ct {
			t.Errorf("%s: %d %q", file, w.Code, w.Header().Get("Content-Type"))
		}
	}
	if w := get(t, h, "/static/nothing.js"); w.Code != 404 {
		t.Errorf("missing asset: %d", w.Code)
	}
}

// The builder shows every layer of the parsed stack with each catalog
// argument as a control, the spec's arguments set.
func TestBuilder(t *testing.T) {
	h := web.New(testConfig())
	body := get(t, h, "/calc/fragment?builder=1&stack="+url.QueryEscape("qinq(capped)/mpls(labels=3,cw)/vxlan(ipv6)/esp(aes-cbc,sha256,transport)")).Body.String()
	for _, want := range []string{
		`data-name="qinq" data-i="0"`, `data-name="mpls" data-i="1"`, `data-name="vxlan" data-i="2"`, `data-name="esp" data-i="3"`,
		`data-arg="capped" value="capped" data-focus="L0-capped" checked`,
		`data-arg="labels" value="3"`,
		`data-arg="cw" value="cw" data-focus="L1-cw" checked`,
		`data-arg="vlan" value="vlan" data-focus="L2-vlan">`,
		`<option value="sha256"`, `<option value="transport"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("builder lacks %q", want)
		}
	}
	for _, sel := range []string{"aes-cbc", "sha256", "transport"} {
		if !regexp.MustCompile(`<option value="` + sel + `" title="[^"]*" selected>`).MatchString(body) {
			t.Errorf("%s is not selected", sel)
		}
	}
	// Every layer of the catalog can be added and shown.
	for _, d := range encap.Catalog() {
		b := get(t, h, "/calc/fragment?builder=1&stack="+url.QueryEscape(d.Name)).Body.String()
		if !strings.Contains(b, `data-name="`+d.Name+`"`) {
			t.Errorf("builder cannot show %s", d.Name)
		}
	}
}

// The blueprint is drawn to scale: in the first strip every field's width
// is its byte count times one scale, and the strip adds up to the packet.
func TestBlueprintToScale(t *testing.T) {
	h := web.New(testConfig())
	for _, spec := range []string{"pppoe/esp(aes-gcm-16)/gre", "dot1q/vxlan", "wireguard", ""} {
		ts, _ := advise.ParseTCPOptions("ts")
		r, err := advise.Calc(advise.Options{Stack: spec, LinkMTU: 1500, Family: encap.IPv4, TCP: ts})
		if err != nil {
			t.Fatal(err)
		}
		body := get(t, h, "/calc/fragment?stack="+url.QueryEscape(spec)).Body.String()
		i := strings.Index(body, `<svg class="blueprint"`)
		svg := body[i : i+strings.Index(body[i:], "</svg>")]
		rects := regexp.MustCompile(`<rect class="r-[a-z]+(?: alt)?" x="([0-9.]+)" y="26.0" width="([0-9.]+)"`).FindAllStringSubmatch(svg, -1)
		if len(rects) != len(r.Blueprint.Fields) {
			t.Fatalf("%q: %d rects for %d fields", spec, len(rects), len(r.Blueprint.Fields))
		}
		outside := 0
		for _, f := range r.Blueprint.Fields {
			if f.Offset < 0 {
				outside += f.Bytes
			}
		}
		scale := 1000 / float64(outside+max(r.LinkMTU, r.Blueprint.Wire))
		x := 0.0
		for j, m := range rects {
			gx, _ := strconv.ParseFloat(m[1], 64)
			gw, _ := strconv.ParseFloat(m[2], 64)
			want := float64(r.Blueprint.Fields[j].Bytes) * scale
			if d := gw - want; d > 0.006 || d < -0.006 || gx-x > 0.02 || x-gx > 0.02 {
				t.Errorf("%q field %d (%s, %d bytes): x %.2f width %.2f, want x %.2f width %.2f", spec, j, r.Blueprint.Fields[j].Name, r.Blueprint.Fields[j].Bytes, gx, gw, x, want)
			}
			x += want
		}
	}
}

func multipartBody(t *testing.T, field, name string, data []byte) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func TestAnalyzeAPI(t *testing.T) {
	data, err := os.ReadFile(testCapture)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := capture.Analyze(bytes.NewReader(data), capture.Options{Name: "toobig.pcap"})
	if err != nil {
		t.Fatal(err)
	}
	rep.FlowTable, rep.FlowsOmitted = nil, 0
	want, _ := jsonout.Marshal(rep)
	if len(rep.Findings) == 0 {
		t.Fatal("the test capture has no finding")
	}
	cfg := testConfig()
	h := web.New(cfg)
	body, ct := multipartBody(t, "file", "toobig.pcap", data)
	r := httptest.NewRequest("POST", "/api/v1/analyze", body)
	r.Header.Set("Content-Type", ct)
	if w := do(t, h, r); w.Code != 200 || !bytes.Equal(w.Body.Bytes(), want) {
		t.Errorf("multipart: %d\n%s\nwant\n%s", w.Code, w.Body, want)
	}
	r = httptest.NewRequest("POST", "/api/v1/analyze?name=toobig.pcap", bytes.NewReader(data))
	r.Header.Set("Content-Type", "application/octet-stream")
	if w := do(t, h, r); w.Code != 200 || !bytes.Equal(w.Body.Bytes(), want) {
		t.Errorf("raw body: %d %s", w.Code, w.Body)
	}
	// The page's upload answers with findings as HTML.
	body, ct = multipartBody(t, "file", "toobig.pcap", data)
	r = httptest.NewRequest("POST", "/analyze/fragment", body)
	r.Header.Set("Content-Type", ct)
	w := do(t, h, r)
	if !strings.Contains(w.Body.String(), `data-code="`+rep.Findings[0].Code+`"`) {
		t.Errorf("analyze fragment lacks the finding: %s", w.Body)
	}
	// A file field under another name is still found; a form without one is refused.
	body, ct = multipartBody(t, "capture", "toobig.pcap", data)
	r = httptest.NewRequest("POST", "/api/v1/analyze", body)
	r.Header.Set("Content-Type", ct)
	if w := do(t, h, r); w.Code != 200 {
		t.Errorf("other field name: %d %s", w.Code, w.Body)
	}
	var empty bytes.Buffer
	mw := multipart.NewWriter(&empty)
	mw.WriteField("x", "y")
	mw.Close()
	r = httptest.NewRequest("POST", "/api/v1/analyze", &empty)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	if w := do(t, h, r); w.Code != 400 || decodeError(t, w).Param != "file" {
		t.Errorf("form without a file: %d %s", w.Code, w.Body)
	}
}

func TestOversizedUpload(t *testing.T) {
	cfg := testConfig()
	cfg.MaxUpload = 1024
	h := web.New(cfg)
	big := bytes.Repeat([]byte{0xd4}, 200<<10)
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"raw with length", func() *http.Request { return httptest.NewRequest("POST", "/api/v1/analyze", bytes.NewReader(big)) }},
		{"raw chunked", func() *http.Request {
			r := httptest.NewRequest("POST", "/api/v1/analyze", io.MultiReader(bytes.NewReader(big)))
			r.ContentLength = -1
			return r
		}},
		{"just over the limit", func() *http.Request {
			return httptest.NewRequest("POST", "/api/v1/analyze", bytes.NewReader(big[:1025]))
		}},
		{"multipart", func() *http.Request {
			body, ct := multipartBody(t, "file", "big.pcap", big)
			r := httptest.NewRequest("POST", "/api/v1/analyze", body)
			r.Header.Set("Content-Type", ct)
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := do(t, h, tc.req())
			if w.Code != 413 {
				t.Fatalf("code %d, want 413: %s", w.Code, w.Body)
			}
			if e := decodeError(t, w); e.Param != "file" || !strings.Contains(e.Error, "1 KiB") {
				t.Errorf("error %+v", e)
			}
		})
	}
}

func TestTputAPI(t *testing.T) {
	h := web.New(testConfig())
	w := get(t, h, "/api/v1/tput?stack=gre&rtt=100ms&loss=0.01&model=mathis")
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), []string{"tput", "--json", "--stack=gre", "--rtt=100ms", "--loss=0.01", "--model=mathis"}, nil, &out, &errb)
	if code != 0 || w.Code != 200 || !bytes.Equal(w.Body.Bytes(), out.Bytes()) {
		t.Errorf("tput API (%d) differs from the CLI (%d %s)", w.Code, code, errb.String())
	}
}

// A heavy job that overruns HeavyTimeout is cancelled and answered 503.
func TestHeavyTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.HeavyTimeout = time.Nanosecond
	w := get(t, web.New(cfg), "/api/v1/sim?exact=true")
	if w.Code != 503 || !strings.Contains(decodeError(t, w).Error, "longer than") {
		t.Errorf("sim past its time limit: %d %s", w.Code, w.Body)
	}
}

func TestSimPage(t *testing.T) {
	h := web.New(testConfig())
	spec := "pppoe/esp(aes-gcm-16)/gre"
	r, err := advise.Calc(advise.Options{Stack: spec, LinkMTU: 1500, Family: encap.IPv4})
	if err != nil {
		t.Fatal(err)
	}
	body := get(t, h, "/sim/fragment?loss=0.01&stack="+url.QueryEscape(spec)).Body.String()
	// The true path MTU is calc's tunnel MTU; every strategy has a row.
	if !strings.Contains(body, "true path MTU of "+strconv.Itoa(r.TunnelMTU)+" ") || !strings.Contains(body, `id="sim-best"`) {
		t.Errorf("sim fragment: %s", body)
	}
	for _, s := range []string{"mtukit", "binary", "linear", "hybrid", "rfc8899", "linux-tcp", "quic-go"} {
		if !strings.Contains(body, `<tr data-strategy="`+s+`">`) {
			t.Errorf("no row for %s", s)
		}
	}
	if body := get(t, h, "/sim/fragment?loss=2").Body.String(); !strings.Contains(body, `data-param="loss"`) {
		t.Errorf("bad loss: %s", body)
	}
	if body := get(t, h, "/sim/fragment?stack=nope").Body.String(); !strings.Contains(body, `data-param="stack"`) {
		t.Errorf("bad stack: %s", body)
	}
}

func TestRateLimit(t *testing.T) {
	cfg := testConfig()
	cfg.Rate, cfg.Burst = 0.001, 3
	cfg.HeavyRate, cfg.HeavyBurst = 0.001, 1
	h := web.New(cfg)
	req := func(target, remote string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", target, nil)
		r.RemoteAddr = remote
		return do(t, h, r)
	}
	if w := req("/api/v1/tput", "192.0.2.1:1000"); w.Code != 200 {
		t.Fatalf("first tput: %d", w.Code)
	}
	if w := req("/api/v1/tput", "192.0.2.1:1001"); w.Code != 429 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("second tput: %d, want 429 with Retry-After", w.Code)
	}
	if w := req("/api/v1/calc", "192.0.2.1:1002"); w.Code != 200 {
		t.Fatalf("calc after heavy limit: %d", w.Code)
	}
	w := req("/api/v1/calc", "192.0.2.1:1003")
	if w.Code != 429 {
		t.Fatalf("4th request: %d, want 429", w.Code)
	}
	decodeError(t, w)
	// Another client is not affected; nor is the health check.
	if w := req("/api/v1/calc", "192.0.2.2:1000"); w.Code != 200 {
		t.Errorf("other client: %d", w.Code)
	}
	if w := req("/healthz", "192.0.2.1:1004"); w.Code != 200 {
		t.Errorf("healthz is rate limited: %d", w.Code)
	}
	// IPv6 clients are one client per /64.
	req("/api/v1/calc", "[2001:db8::1]:1")
	req("/api/v1/calc", "[2001:db8::2]:1")
	req("/api/v1/calc", "[2001:db8::3]:1")
	if w := req("/api/v1/calc", "[2001:db8::4]:1"); w.Code != 429 {
		t.Errorf("same /64: %d, want 429", w.Code)
	}
	if w := req("/api/v1/calc", "[2001:db8:0:1::1]:1"); w.Code != 200 {
		t.Errorf("other /64: %d", w.Code)
	}
}

// Heavy work is bounded: with every slot taken, a heavy request waits
// HeavyWait and gets 503, while calc is still answered at once.
func TestHeavySlots(t *testing.T) {
	cfg := testConfig()
	cfg.MaxHeavy = 1
	cfg.HeavyWait = 50 * time.Millisecond
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h := web.New(cfg)
	web.SetHeavyHook(h, func() {
		once.Do(func() { close(started) })
		<-release
	})
	done := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/tput", nil))
		done <- w.Code
	}()
	<-started
	if w := get(t, h, "/api/v1/tput"); w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("second heavy request: %d, want 503", w.Code)
	}
	r := httptest.NewRequest("POST", "/api/v1/analyze", strings.NewReader("x"))
	if w := do(t, h, r); w.Code != 503 {
		t.Errorf("analyze while busy: %d, want 503", w.Code)
	}
	start := time.Now()
	if w := get(t, h, "/api/v1/calc?stack=gre"); w.Code != 200 || time.Since(start) > time.Second {
		t.Errorf("calc while busy: %d after %v", w.Code, time.Since(start))
	}
	close(release)
	if code := <-done; code != 200 {
		t.Errorf("first heavy request: %d", code)
	}
	if w := get(t, h, "/api/v1/tput"); w.Code != 200 {
		t.Errorf("after release: %d", w.Code)
	}
}

func TestNoPanicOnOddInput(t *testing.T) {
	h := web.New(testConfig())
	for _, q := range []string{"stack=%28%28%28", "stack=esp(", "stack=" + strings.Repeat("gre/", 500) + "gre", "mtu=-1", "mtu=99999999999999999999",
		"packet=-5", "family=", "tcp-options=sack=99", "stack=gre(key=1)", "interface=%00%ff", "stack=mpls(labels=999)"} {
		for _, path := range []string{"/api/v1/calc?", "/calc/fragment?builder=1&", "/?"} {
			w := get(t, h, path+q)
			if w.Code >= 500 {
				t.Errorf("%s%s: %d %s", path, q, w.Code, w.Body)
			}
		}
	}
}
