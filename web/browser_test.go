package web_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/web"
)

// chromium finds Debian's chromium; without it the browser test skips,
// unless MTUKIT_LAB=1 (the test command), where it fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("MTUKIT_LAB") == "1" {
		t.Fatal("chromium is not installed and MTUKIT_LAB=1: apt-get install chromium (scripts/test.sh does)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); MTUKIT_LAB=1 turns this skip into a failure")
	return ""
}

// screenshotPath is where the test leaves its screenshots for a person to
// look at: $MTUKIT_SCREENSHOTS, or the temp directory.
func screenshotPath(name string) string {
	dir := os.Getenv("MTUKIT_SCREENSHOTS")
	if dir == "" {
		dir = os.TempDir()
	}
	return filepath.Join(dir, name)
}

// TestBrowser drives a real headless chromium: it builds
// pppoe/esp(aes-gcm-16)/gre by clicking, checks the MSS the page shows
// against advise.Calc, reloads the shareable URL, switches vendor tabs with
// the keyboard, uploads a capture and sees its finding.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	// The server as `mtukit serve` runs it, rate limits included.
	cfg := web.DefaultConfig()
	srv := httptest.NewServer(web.New(cfg))
	defer srv.Close()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 1000),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	const spec = "pppoe/esp(aes-gcm-16)/gre"
	ts, _ := advise.ParseTCPOptions("ts")
	want, err := advise.Calc(advise.Options{Stack: spec, LinkMTU: 1500, Family: encap.IPv4, TCP: ts})
	if err != nil {
		t.Fatal(err)
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	// waitFor polls a JavaScript condition.
	waitFor := func(js string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))(ctx, tg)
			return err
		})
	}
	addLayer := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.SetValue(chromedp.ID("add-layer"), name),
			chromedp.Click(chromedp.ID("add-btn")),
			waitFor(`document.querySelector('#builder li.layer[data-name="`+name+`"]') !== null`),
		)
	}
	cipherSel := `#builder li.layer[data-name="esp"] select[data-arg="cipher"]`
	do("building the stack",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("add-btn")),
		addLayer("pppoe"),
		addLayer("esp"),
		// Choose the cipher as a user does: the select changes and fires input.
		chromedp.SetValue(chromedp.CSS(cipherSel), "aes-gcm-16"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.querySelector('`+cipherSel+`').dispatchEvent(new Event('input', {bubbles: true}))`)(ctx, tg)
			return err
		}),
		waitFor(`document.getElementById('stack').value === 'pppoe/esp(aes-gcm-16)'`),
		addLayer("gre"),
		waitFor(`document.getElementById('stack').value === '`+spec+`' && document.querySelector('#results h2 code') !== null && document.querySelector('#results h2 code').textContent === '`+spec+`'`),
	)
	stack := eval(`document.getElementById('stack').value`)
	mss4, mss6, tmtu := text("#mss4"), text("#mss6"), text("#tmtu")
	search := eval(`location.search`)
	if got := eval(`document.getElementById('announce').textContent`); !strings.HasPrefix(got, "MSS "+strconv.Itoa(want.MSS.IPv4)+" IPv4") {
		t.Errorf("screen-reader announcement %q", got)
	}
	if stack != spec || mss4 != strconv.Itoa(want.MSS.IPv4) || mss6 != strconv.Itoa(want.MSS.IPv6) || tmtu != strconv.Itoa(want.TunnelMTU) {
		t.Fatalf("page shows stack %q MSS %s/%s tunnel MTU %s; advise.Calc says MSS %d/%d tunnel MTU %d",
			stack, mss4, mss6, tmtu, want.MSS.IPv4, want.MSS.IPv6, want.TunnelMTU)
	}
	if !strings.Contains(search, "stack=pppoe%2Fesp%28aes-gcm-16%29%2Fgre") {
		t.Errorf("the URL does not carry the stack: %q", search)
	}

	// The shareable URL renders the same results on first load, and the
	// builder with the cipher selected.
	do("shared URL", chromedp.Navigate(srv.URL+"/"+search), chromedp.WaitVisible(chromedp.ID("mss4")))
	if got, cipher := text("#mss4"), eval(`document.querySelector('`+cipherSel+`').value`); got != mss4 || cipher != "aes-gcm-16" {
		t.Errorf("shared URL shows MSS %s cipher %q", got, cipher)
	}

	// Keyboard: the vendor tabs follow the arrow keys.
	do("tabs", chromedp.Focus(chromedp.CSS(`#results [role=tab][aria-selected=true]`)), chromedp.KeyEvent(kb.ArrowRight))
	selected := eval(`document.activeElement.id`)
	hidden := eval(`String(document.getElementById(document.activeElement.getAttribute('aria-controls')).hidden)`)
	if selected != "tab-"+want.Clamp[1].Vendor || hidden != "false" {
		t.Errorf("after ArrowRight the focus is on %q (panel hidden %s), want tab-%s", selected, hidden, want.Clamp[1].Vendor)
	}

	// The throughput section follows the stack: with the path MTU known,
	// tput recommends calc's clamp.
	do("tput", waitFor(`document.getElementById('tput-mss') !== null`))
	if got := text("#tput-mss"); got != strconv.Itoa(want.MSS.IPv4) {
		t.Errorf("tput recommends %q, want calc's clamp %d", got, want.MSS.IPv4)
	}

	// The path MTU search table is there, for the stack's tunnel MTU.
	do("sim", waitFor(`document.getElementById('sim-best') !== null`))
	if got := eval(`document.querySelector('#sim p').textContent`); !strings.Contains(got, "true path MTU of "+strconv.Itoa(want.TunnelMTU)+" ") {
		t.Errorf("sim section: %q", got)
	}

	// Upload a capture and see its finding.
	abs, err := filepath.Abs(testCapture)
	if err != nil {
		t.Fatal(err)
	}
	do("upload",
		chromedp.SetUploadFiles(chromedp.ID("capfile"), []string{abs}),
		chromedp.Click(chromedp.ID("cap-btn")),
		chromedp.WaitVisible(chromedp.CSS("#analysis .findings li")),
	)
	if code := eval(`document.querySelector('#analysis .findings li').dataset.code`); code != "ptb_suspicious" {
		t.Errorf("first finding %q, want ptb_suspicious", code)
	}

	// The arithmetic: one linked term per layer, as advise computes them,
	// each link landing on that layer's label in the blueprint.
	var terms []string
	for _, tm := range want.Arithmetic.Terms {
		terms = append(terms, strconv.Itoa(tm.Bytes))
	}
	if got := eval(`[...document.querySelectorAll('#arith a')].map(a => a.dataset.bytes).join(',')`); got != strings.Join(terms, ",") {
		t.Errorf("arithmetic terms %q, want %q", got, strings.Join(terms, ","))
	}
	if got := eval(`String([...document.querySelectorAll('#arith a')].every(a => { const el = document.querySelector(a.getAttribute('href')); return el !== null && el.closest('svg.blueprint') !== null; }))`); got != "true" {
		t.Errorf("an arithmetic term does not link to its layer in the blueprint")
	}

	// The goodput chart: at least three y ticks, and the legend (HTML)
	// outside the plot area.
	if n := eval(`String(document.querySelectorAll('#tput .chart-wide .ytick').length)`); n < "3" || len(n) != 1 {
		t.Errorf("%s y ticks on the goodput chart", n)
	}
	if got := eval(`(() => { const pa = document.querySelector('#tput .chart-wide .plot-area').getBoundingClientRect();
		const bad = [...document.querySelectorAll('#tput .chart-legend li')].filter(li => { const r = li.getBoundingClientRect();
			return r.right > pa.left && r.left < pa.right && r.bottom > pa.top && r.top < pa.bottom; });
		return bad.map(li => li.textContent).join('|'); })()`); got != "" {
		t.Errorf("legend entries over the plot area: %s", got)
	}

	// The path MTU search panel takes the tunnel family and ΔS.
	do("sim tunnel and step",
		chromedp.SetValue(chromedp.ID("tunnel"), "ipsec"),
		chromedp.SetValue(chromedp.ID("step"), "32"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.getElementById('step').dispatchEvent(new Event('input', {bubbles: true}))`)(ctx, tg)
			return err
		}),
		waitFor(`document.querySelector('#sim tr[data-strategy="linear"]') !== null && document.querySelector('#sim p').textContent.includes('ipsec')`),
	)
	if got := eval(`[...document.querySelectorAll('#sim tr[data-strategy="linear"] td')].map(td => td.textContent).slice(0, 3).join(',')`); got != "linear,32,ipsec" {
		t.Errorf("sim row for linear: %q, want linear,32,ipsec", got)
	}

	// Screenshots for a person: desktop light and dark, phone light and
	// dark. With $MTUKIT_SCREENSHOTS set (docs/web.md), they are the docs'.
	shoot := func(name string) {
		t.Helper()
		shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		p := screenshotPath(name)
		if err := os.WriteFile(p, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", p, len(shot))
	}
	scrollTo := func(id string) {
		t.Helper()
		eval(`document.getElementById('` + id + `').scrollIntoView({block: 'start'}); 'ok'`)
	}
	scheme := func(s string) {
		t.Helper()
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: s}}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sc := range []string{"light", "dark"} {
		scheme(sc)
		do("desktop "+sc, chromedp.Navigate(srv.URL+"/"+search), chromedp.WaitVisible(chromedp.ID("mss4")),
			waitFor(`document.getElementById('tput-mss') !== null`))
		shoot("web-desktop-" + sc + ".png")
		scrollTo("res-h")
		shoot("web-desktop-" + sc + "-results.png")
		scrollTo("tp-h")
		shoot("web-desktop-" + sc + "-charts.png")
	}

	// A phone: results first, nothing wider than the screen.
	do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1), chromedp.EmulateMobile))
	for _, sc := range []string{"light", "dark"} {
		scheme(sc)
		do("phone "+sc, chromedp.Navigate(srv.URL+"/"+search), chromedp.WaitVisible(chromedp.ID("mss4")),
			waitFor(`document.getElementById('tput-mss') !== null && document.getElementById('sim-best') !== null`))
		// The MSS and the tunnel MTU on the first screen, without scrolling.
		if got := eval(`(() => { if (window.scrollY !== 0) return 'scrolled to ' + window.scrollY;
			return ['mss4', 'mss6', 'tmtu'].filter(id => { const r = document.getElementById(id).getBoundingClientRect();
				return !(r.top >= 0 && r.bottom <= window.innerHeight && r.width > 0); }).join(','); })()`); got != "" {
			t.Errorf("phone (%s): not visible on the first screen: %s", sc, got)
		}
		// Nothing overflows sideways: the page, and every element that is
		// not inside a container that scrolls it (with its cue).
		if got := eval(`String(document.documentElement.scrollWidth) + '/' + document.documentElement.clientWidth`); func() bool {
			a, b, _ := strings.Cut(got, "/")
			x, _ := strconv.Atoi(a)
			y, _ := strconv.Atoi(b)
			return x > y
		}() {
			t.Errorf("phone (%s): the page is %s pixels wide", sc, got)
		}
		if got := eval(`(() => { const w = document.documentElement.clientWidth;
			return [...document.querySelectorAll('body *')].filter(el => { const r = el.getBoundingClientRect();
				if (!(r.width > 0 && (r.right > w + 0.5 || r.left < -0.5)) || el.closest('.skip, .sr-only, summary')) return false;
				for (let a = el.parentElement; a; a = a.parentElement) { const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') return false; }
				return true; })
				.slice(0, 5).map(el => el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right)).join(' | '); })()`); got != "" {
			t.Errorf("phone (%s): elements past the right edge: %s", sc, got)
		}
		// What scrolls sideways says so: a visible hint above it.
		if got := eval(`[...document.querySelectorAll('.scroll')].filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
			.filter(el => { const h = el.previousElementSibling; return !(h && h.classList.contains('scroll-hint') && h.offsetParent !== null); })
			.map(el => el.parentElement.id + ':' + (el.firstElementChild && el.firstElementChild.className.baseVal !== undefined ? el.firstElementChild.className.baseVal : el.firstElementChild.className)).join(' | ')`); got != "" {
			t.Errorf("phone (%s): scrolls sideways without a hint: %s", sc, got)
		}
		if n := eval(`String([...document.querySelectorAll('.scroll')].filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1).length)`); n == "0" {
			t.Errorf("phone (%s): nothing scrolls sideways, yet the blueprint is drawn at 640 px at least", sc)
		}
		shoot("web-phone-" + sc + ".png")
		scrollTo("tp-h")
		shoot("web-phone-" + sc + "-chart.png")
	}

	// A typo in the stack: one message, in words, next to the stack field;
	// the builder keeps the layers it understood.
	do("typo",
		chromedp.Navigate(srv.URL+"/"+search), chromedp.WaitVisible(chromedp.ID("mss4")),
		chromedp.Click(chromedp.CSS("#inputs > summary")),
		chromedp.SetValue(chromedp.ID("stack"), "pppoe/vlan/gre"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.getElementById('stack').dispatchEvent(new Event('change', {bubbles: true}))`)(ctx, tg)
			return err
		}),
		waitFor(`document.getElementById('err-stack').textContent !== '' && document.querySelector('#builder li.layer.bad') !== null`),
	)
	msg := text("#err-stack")
	if !strings.Contains(msg, `unknown layer "vlan"`) {
		t.Errorf("stack error %q", msg)
	}
	if got := eval(`[...document.querySelectorAll('body *')].filter(el => el.offsetParent !== null && el.children.length === 0 && el.textContent.includes('unknown layer')).map(el => el.tagName + '#' + el.id + '.' + el.className).join(' | ')`); got != "P#err-stack.err field-err" {
		t.Errorf("the stack error shows in %s, want only next to the stack field", got)
	}
	if got := eval(`[...document.querySelectorAll('#builder li.layer')].map(li => li.dataset.name || '?' + li.dataset.raw).join('/')`); got != "pppoe/?vlan/gre" {
		t.Errorf("builder after a typo: %q, want pppoe/?vlan/gre", got)
	}
	if got := eval(`document.getElementById('stack').getAttribute('aria-invalid')`); got != "true" {
		t.Errorf("stack field aria-invalid %q", got)
	}
	// A bad number: its own field says so, in words.
	do("bad loss",
		chromedp.SetValue(chromedp.ID("stack"), spec),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.getElementById('stack').dispatchEvent(new Event('change', {bubbles: true}))`)(ctx, tg)
			return err
		}),
		waitFor(`document.getElementById('err-stack').textContent === '' && document.querySelector('#builder li.layer.bad') === null`),
		chromedp.SetValue(chromedp.ID("loss"), "1%"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.getElementById('loss').dispatchEvent(new Event('input', {bubbles: true}))`)(ctx, tg)
			return err
		}),
		waitFor(`document.getElementById('err-loss').textContent !== ''`),
	)
	if msg := text("#err-loss"); !strings.HasPrefix(msg, `loss "1%": want a number`) {
		t.Errorf("loss error %q", msg)
	}
	if got := eval(`String([...document.querySelectorAll('.err')].filter(el => el.offsetParent !== null && el.textContent !== '').length)`); got != "1" {
		t.Errorf("%s error messages shown for one bad field", got)
	}
	if body := eval(`document.body.innerText`); strings.Contains(body, "strconv") || strings.Contains(body, "invalid syntax") {
		t.Errorf("the page shows Go's parser text")
	}

	// The preset picker: a preset fills the stack, link MTU and family, and
	// shows its published figure and source; the MSS is calc's for it.
	pr, err := encap.LookupPreset("cloudflare-magic-wan-gre")
	if err != nil {
		t.Fatal(err)
	}
	do("preset",
		chromedp.SetValue(chromedp.ID("preset"), pr.Name),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.getElementById('preset').dispatchEvent(new Event('input', {bubbles: true}))`)(ctx, tg)
			return err
		}),
		waitFor(`document.querySelector('#results h2 code') !== null && document.querySelector('#results h2 code').textContent === '`+pr.Stack+`'`),
	)
	if pr.Published.Quantity != encap.QuantityMSSIPv4 {
		t.Fatalf("preset %s publishes %s; the test reads the IPv4 MSS", pr.Name, pr.Published.Quantity)
	}
	// Read in one evaluation: a node looked up, then read, can be swapped
	// out in between by a late fragment.
	if got := eval(`document.getElementById('mss4').textContent`); got != strconv.Itoa(pr.Published.Value) {
		t.Errorf("preset %s: page MSS %s, published %d", pr.Name, got, pr.Published.Value)
	}
	if got := eval(`[...document.querySelectorAll('#preset-src p')].filter(p => !p.hidden).map(p => p.textContent).join('|')`); !strings.Contains(got, pr.Source.Title) || !strings.Contains(got, "Published IPv4 MSS 1436") {
		t.Errorf("preset source shown: %q", got)
	}
}
