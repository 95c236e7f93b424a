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

	// Screenshots for a person: desktop light, phone dark.
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	p := screenshotPath("mtukit-web-desktop.png")
	if err := os.WriteFile(p, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
	do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	do("phone", chromedp.Navigate(srv.URL+"/"+search), chromedp.WaitVisible(chromedp.ID("mss4")))
	if eval(`String(document.documentElement.scrollWidth > window.innerWidth + 1)`) != "false" {
		t.Errorf("the page is wider than a 390-pixel phone screen")
	}
	// One phone screen at a time: the top, the results, the blueprint.
	for i, sel := range []string{"header", "#results", "#results .scroll"} {
		do("scroll", chromedp.ScrollIntoView(chromedp.CSS(sel)))
		if shot, err = chromedp.Run(ctx, chromedp.CaptureScreenshot()); err != nil {
			t.Fatal(err)
		}
		p = screenshotPath("mtukit-web-phone-dark-" + strconv.Itoa(i+1) + ".png")
		if err := os.WriteFile(p, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
}
