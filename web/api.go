package web

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/capture"
	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/internal/jsonout"
	"github.com/mtukit/mtukit/mss"
	"github.com/mtukit/mtukit/plpmtud/sim"
	"github.com/mtukit/mtukit/tput"
)

func perr(param, format string, a ...any) *encap.ParamError {
	return encap.Paramf(param, format, a...)
}

// calcRequest binds /api/v1/calc's query parameters (calc's flags that
// change its JSON; --vendor only filters the text) to advise.Options.
func calcRequest(q url.Values) (advise.Options, *encap.ParamError) {
	var o advise.Options // zero values are advise.Calc's defaults (and a preset's link MTU)
	o.TCP, _ = advise.ParseTCPOptions(advise.DefaultTCPOptions)
	b := newQuery(q)
	bindCalc(b, &o)
	return o, b.done()
}

func bindCalc(b *query, o *advise.Options) {
	b.str("stack", &o.Stack)
	b.int("mtu", &o.LinkMTU)
	b.int("packet", &o.Packet)
	b.tcpOptions("tcp-options", &o.TCP)
	b.family("family", &o.Family)
	b.str("interface", &o.Interface)
	b.str("physical", &o.Physical)
	b.str("preset", &o.Preset)
}

// calcReport is advise.Calc for the query.
func calcReport(q url.Values) (*advise.Report, *encap.ParamError) {
	o, pe := calcRequest(q)
	if pe != nil {
		return nil, pe
	}
	r, err := advise.Calc(o)
	if err != nil {
		if pe, ok := paramError(err); ok {
			return nil, pe
		}
		return nil, perr("", "%v", err)
	}
	return r, nil
}

// calcCache holds encoded calc reports by raw query: a report is a pure
// function of its query, and encoding it is most of a request's cost. It is
// bounded by bytes and starts over when full.
type calcCache struct {
	mu    sync.RWMutex
	m     map[string][]byte
	bytes int
}

const calcCacheBytes = 16 << 20

func (c *calcCache) get(k string) ([]byte, bool) {
	c.mu.RLock()
	b, ok := c.m[k]
	c.mu.RUnlock()
	return b, ok
}

func (c *calcCache) put(k string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || c.bytes+len(b)+len(k) > calcCacheBytes {
		c.m, c.bytes = map[string][]byte{}, 0
	}
	c.m[k] = b
	c.bytes += len(b) + len(k)
}

func (s *Server) handleCalc(w http.ResponseWriter, r *http.Request) {
	if b, ok := s.calcCache.get(r.URL.RawQuery); ok {
		writeJSONBytes(w, b)
		return
	}
	rep, pe := calcReport(r.URL.Query())
	if pe != nil {
		writeError(w, http.StatusBadRequest, pe.Msg, pe.Param)
		return
	}
	b, err := jsonout.Marshal(rep)
	if err != nil {
		s.internal(w, err)
		return
	}
	if len(r.URL.RawQuery) <= 1024 {
		s.calcCache.put(r.URL.RawQuery, b)
	}
	writeJSONBytes(w, b)
}

func (s *Server) handleCatalog(w http.ResponseWriter, r *http.Request) {
	if pe := newQuery(r.URL.Query()).done(); pe != nil {
		writeError(w, http.StatusBadRequest, pe.Msg, pe.Param)
		return
	}
	writeJSONBytes(w, catalogJSON())
}

// catalogJSON is built on first use, not at start-up: every command of the
// binary pays for package initialisation.
var catalogJSON = sync.OnceValue(func() []byte {
	b, err := jsonout.Marshal(encap.Catalog())
	if err != nil {
		panic(err)
	}
	return b
})

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSONBytes(w, []byte("{\"status\":\"ok\"}\n"))
}

func (s *Server) internal(w http.ResponseWriter, err error) {
	s.log.Printf("web: %v", err)
	writeError(w, http.StatusInternalServerError, "internal error", "")
}

// tputRequest binds /api/v1/tput's query parameters: tput's flags but
// --plot (which writes a file) and --json (always on).
func tputRequest(q url.Values) (tput.Request, *encap.ParamError) {
	r := tput.DefaultRequest()
	tcp, _ := advise.ParseTCPOptions(advise.DefaultTCPOptions)
	b := newQuery(q)
	bindTput(b, &r, &tcp)
	r.Options, _ = tcp.Bytes()
	return r, b.done()
}

func bindTput(b *query, r *tput.Request, tcp *mss.SegmentOptions) {
	b.str("stack", &r.Stack)
	b.int("mtu", &r.LinkMTU)
	b.family("family", &r.Family)
	b.tcpOptions("tcp-options", tcp)
	b.duration("rtt", &r.RTT)
	b.float("loss", &r.Loss)
	b.str("window", &r.Window)
	b.int("wscale", &r.WScale)
	b.str("rate", &r.Rate)
	b.str("mss", &r.MSS)
	b.str("model", &r.Model)
	b.int("ack-every", &r.AckEvery)
	b.float("mathis-c", &r.MathisC)
	b.duration("rto", &r.RTO)
	b.int("framing", &r.Framing)
	b.str("pmtu", &r.PMTU)
	b.str("tunnel", &r.Tunnel)
	b.str("too-big", &r.TooBig)
	b.str("transfer", &r.Transfer)
	b.str("detect", &r.Detect)
	b.int("fallback-mss", &r.Fallback)
	b.preset("preset", &r.Stack, &r.LinkMTU)
}

// Simulations are bounded so that one answers in well under a second:
// the API's default is simDefaultTrials Monte Carlo searches per sampled
// row (the CLI's is 20000), and at most Config.MaxTrials; rows are exact by
// default, as in the CLI.
const simDefaultTrials = 2000

// simRequest binds /api/v1/sim's query parameters: sim's flags but --plot
// (a file), --json (always on) and --workers (the server runs each
// simulation on one worker; sim's numbers do not depend on the count).
func simRequest(q url.Values, maxTrials int) (sim.Request, *encap.ParamError) {
	r := sim.DefaultRequest()
	r.Trials, r.Workers = simDefaultTrials, 1
	b := newQuery(q)
	bindSim(b, &r)
	if pe := b.done(); pe != nil {
		return r, pe
	}
	if r.Trials > maxTrials {
		return r, perr("trials", "trials %d: the server runs at most %d per row (serve --max-trials; or use mtukit sim)", r.Trials, maxTrials)
	}
	return r, nil
}

func bindSim(b *query, r *sim.Request) {
	b.str("strategy", &r.Strategy)
	b.str("step", &r.Step)
	b.str("tunnel", &r.Tunnel)
	b.str("pmtu", &r.PMTU)
	b.int("min", &r.Min)
	b.int("max", &r.Max)
	b.float("loss", &r.Loss)
	b.float("ber", &r.BER)
	b.float("icmp", &r.ICMP)
	b.float("forge", &r.Forge)
	b.int("forge-mtu", &r.ForgeMTU)
	b.float("frag", &r.Frag)
	b.int("change-after", &r.ChangeAfter)
	b.int("change-to", &r.ChangeTo)
	b.duration("rtt", &r.RTT)
	b.duration("pto", &r.PTO)
	b.int("max-probes", &r.MaxProbes)
	b.int("parallel", &r.Parallel)
	b.float("epsilon", &r.Epsilon)
	b.float("loss-prior", &r.LossPrior)
	b.int("ptb-confirm", &r.PTBConfirm)
	b.int("prior", &r.Prior)
	b.int("threshold", &r.Threshold)
	b.float("retry-factor", &r.Retry)
	b.int("trials", &r.Trials)
	b.uint64("seed", &r.Seed)
	b.bool("exact", &r.Exact)
	b.bool("monte-carlo", &r.MonteCarlo)
}

// errTooSlow is a heavy job that ran out of time.
var errTooSlow = errors.New("too slow")

// runTput is tput.Calc for the query, under the heavy-work semaphore's caller.
func (s *Server) runTput(q url.Values) (*tput.Report, *encap.ParamError, error) {
	req, pe := tputRequest(q)
	if pe != nil {
		return nil, pe, nil
	}
	rep, err := tput.Calc(req)
	if pe, ok := paramError(err); ok {
		return nil, pe, nil
	}
	return rep, nil, err
}

// runSim is sim.Compare for the query, cut off after HeavyTimeout.
func (s *Server) runSim(ctx context.Context, q url.Values) (*sim.Report, *encap.ParamError, error) {
	req, pe := simRequest(q, s.cfg.MaxTrials)
	if pe != nil {
		return nil, pe, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.HeavyTimeout)
	defer cancel()
	rep, err := sim.Compare(ctx, req)
	switch {
	case err == nil:
		return rep, nil, nil
	case ctx.Err() != nil:
		return nil, nil, errTooSlow
	}
	if pe, ok := paramError(err); ok {
		return nil, pe, nil
	}
	return nil, perr("", "%v", err), nil
}

func (s *Server) handleTput(w http.ResponseWriter, r *http.Request) {
	s.heavyJSON(w, r, "tput", func() (any, *encap.ParamError, error) { return s.runTput(r.URL.Query()) })
}

func (s *Server) handleSim(w http.ResponseWriter, r *http.Request) {
	s.heavyJSON(w, r, "sim", func() (any, *encap.ParamError, error) { return s.runSim(r.Context(), r.URL.Query()) })
}

// heavyJSON runs a report under the heavy-work semaphore and answers with
// its JSON.
func (s *Server) heavyJSON(w http.ResponseWriter, r *http.Request, cmd string, run func() (any, *encap.ParamError, error)) {
	if !s.acquire(r.Context()) {
		busy(w)
		return
	}
	defer s.release()
	if s.heavyHook != nil {
		s.heavyHook()
	}
	rep, pe, err := run()
	switch {
	case pe != nil:
		writeError(w, http.StatusBadRequest, pe.Msg, pe.Param)
		return
	case errors.Is(err, errTooSlow):
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("%s took longer than the server's %v limit: ask for less (fewer trials, strategies or tunnels)", cmd, s.cfg.HeavyTimeout), "")
		return
	case err != nil:
		s.internal(w, err)
		return
	}
	b, err := jsonout.Marshal(rep)
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSONBytes(w, b)
}

// errSlowUpload is an upload that fell behind MinUploadRate.
var errSlowUpload = errors.New("upload too slow")

// paced holds an upload to MinUploadRate: after each read the connection's
// read deadline moves to when the bytes so far would be due at that rate
// (plus UploadGrace), so a sender that falls behind, or stops, is cut off
// then; never past ReadTimeout from the start.
type paced struct {
	r          io.Reader
	rc         *http.ResponseController
	start, end time.Time
	grace      time.Duration
	rate       float64
	n          int64
}

func (p *paced) due() time.Time {
	d := p.start.Add(p.grace + time.Duration(float64(p.n)/p.rate*float64(time.Second)))
	if !p.end.IsZero() && d.After(p.end) {
		return p.end
	}
	return d
}

func (p *paced) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if n > 0 {
		p.rc.SetReadDeadline(p.due())
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		err = errSlowUpload
	}
	return n, err
}

// upload reads a capture from a multipart form (field "file", or the first
// file) or from the raw body, within MaxUpload, at MinUploadRate or faster,
// taking upload memory as the bytes arrive. It returns the file name the
// report shows and the func that gives the memory back.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) ([]byte, string, func(), *encap.ParamError, int) {
	held := int64(0)
	free := func() { s.upFree.Add(held); held = 0 }
	if s.cfg.MinUploadRate > 0 {
		p := &paced{r: r.Body, rc: http.NewResponseController(w), start: time.Now(), grace: s.cfg.UploadGrace, rate: s.cfg.MinUploadRate}
		if s.cfg.ReadTimeout > 0 {
			p.end = p.start.Add(s.cfg.ReadTimeout)
		}
		p.rc.SetReadDeadline(p.due())
		r.Body = struct {
			io.Reader
			io.Closer
		}{p, r.Body}
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload+64<<10)
	fail := func(pe *encap.ParamError, code int) ([]byte, string, func(), *encap.ParamError, int) {
		free()
		return nil, "", nil, pe, code
	}
	tooBig := func() ([]byte, string, func(), *encap.ParamError, int) {
		return fail(perr("file", "capture larger than the %s limit", humanBytes(s.cfg.MaxUpload)), http.StatusRequestEntityTooLarge)
	}
	if r.ContentLength > s.cfg.MaxUpload+64<<10 {
		return tooBig()
	}
	// read takes memory in steps as the body grows: a slow sender holds
	// one step
	read := func(rd io.Reader) ([]byte, error) {
		var b []byte
		for {
			if len(b) == cap(b) {
				grow := int64(max(64<<10, cap(b)))
				grow = min(grow, s.cfg.MaxUpload+1-int64(cap(b)))
				if grow <= 0 {
					return nil, errTooLarge
				}
				if !s.takeMemory(grow) {
					return nil, errBusy
				}
				held += grow
				b = append(b[:cap(b)], make([]byte, grow)...)[:len(b)]
			}
			k, err := rd.Read(b[len(b):cap(b)])
			b = b[:len(b)+k]
			if int64(len(b)) > s.cfg.MaxUpload {
				return nil, errTooLarge
			}
			if err == io.EOF {
				return b, nil
			}
			if err != nil {
				return nil, err
			}
		}
	}
	bad := func(err error) ([]byte, string, func(), *encap.ParamError, int) {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe) || errors.Is(err, errTooLarge):
			return tooBig()
		case errors.Is(err, errBusy):
			return fail(nil, http.StatusServiceUnavailable)
		case errors.Is(err, errSlowUpload):
			return fail(perr("file", "upload slower than %s/s after %v, the least the server accepts: send it faster", humanBytes(int64(s.cfg.MinUploadRate)), s.cfg.UploadGrace), http.StatusRequestTimeout)
		}
		return fail(perr("file", "reading the upload: %v", err), http.StatusBadRequest)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return fail(perr("file", "multipart body: %v", err), http.StatusBadRequest)
		}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return fail(perr("file", "no file in the form: send the capture in a field named \"file\""), http.StatusBadRequest)
			}
			if err != nil {
				return bad(err)
			}
			if p.FormName() != "file" && p.FileName() == "" {
				continue
			}
			b, err := read(p)
			if err != nil {
				return bad(err)
			}
			name := path.Base(strings.ReplaceAll(p.FileName(), "\\", "/"))
			if name == "." || name == "/" {
				name = "upload"
			}
			return b, name, free, nil, 0
		}
	}
	b, err := read(r.Body)
	if err != nil {
		return bad(err)
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "upload"
	}
	return b, path.Base(name), free, nil, 0
}

func bindAnalyze(b *query, flows *bool, maxFlows *int, name *string) {
	b.bool("flows", flows)
	b.int("max-flows", maxFlows)
	b.str("name", name)
}

// errBusy is an upload refused for want of upload memory.
var errBusy = errors.New("busy")

// maxGzipLayers bounds the gzip layers of an upload peeled by unpack.
const maxGzipLayers = 3

// unpacked bounds what one gzip layer may produce, and stops with the
// job's context: decompression is work the packet loop does not see (a
// file of skipped blocks has no packets).
type unpacked struct {
	r    io.Reader
	ctx  context.Context
	n    int64
	max  int64
	over *bool
}

func (u *unpacked) Read(b []byte) (int, error) {
	if err := u.ctx.Err(); err != nil {
		return 0, err
	}
	if u.n > u.max {
		*u.over = true
		return 0, errTooLarge
	}
	k, err := u.r.Read(b[:min(int64(len(b)), u.max+1-u.n)])
	u.n += int64(k)
	return k, err
}

// unpack peels the gzip layers off an upload, each bounded by MaxUnpacked,
// so that the analyzer (which would peel them without a bound) gets the
// capture itself; a pcapng capture goes through capture.NgBound with
// MaxInterfaces (ng, else nil).
func (s *Server) unpack(ctx context.Context, body []byte, over *bool) (r io.Reader, ng *capture.NgBound, pe *encap.ParamError) {
	r = bytes.NewReader(body)
	for layer := 0; ; layer++ {
		br := bufio.NewReader(r)
		head, _ := br.Peek(4)
		if bytes.Equal(head, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
			ng = capture.NewNgBound(br, s.cfg.MaxInterfaces)
			return ng, ng, nil
		}
		if !bytes.HasPrefix(head, []byte{0x1f, 0x8b}) {
			return br, nil, nil
		}
		if layer == maxGzipLayers {
			return nil, nil, perr("file", "gzip inside gzip more than %d deep", maxGzipLayers)
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, perr("file", "gzip: %v", err)
		}
		r = &unpacked{r: zr, ctx: ctx, max: s.cfg.MaxUnpacked, over: over}
	}
}

// analyze runs capture.Analyze as `mtukit analyze --json` does, within the
// server's bounds. A 503 without a ParamError is a busy server.
func (s *Server) analyze(w http.ResponseWriter, r *http.Request) (*capture.Report, *encap.ParamError, int) {
	flows, maxFlows, name := false, min(50000, s.cfg.MaxFlows), ""
	b := newQuery(r.URL.Query())
	bindAnalyze(b, &flows, &maxFlows, &name)
	if pe := b.done(); pe != nil {
		return nil, pe, http.StatusBadRequest
	}
	if maxFlows < 1 {
		return nil, perr("max-flows", "max-flows %d: want at least 1", maxFlows), http.StatusBadRequest
	}
	if maxFlows > s.cfg.MaxFlows {
		return nil, perr("max-flows", "max-flows %d: the server keeps at most %d flows (serve --max-flows)", maxFlows, s.cfg.MaxFlows), http.StatusBadRequest
	}
	release, ok := s.uploadSlot(clientKey(r.RemoteAddr))
	if !ok {
		return nil, nil, http.StatusServiceUnavailable
	}
	defer release()
	body, name, free, pe, code := s.upload(w, r)
	if code != 0 {
		return nil, pe, code
	}
	defer free()
	if !s.acquire(r.Context()) {
		return nil, nil, http.StatusServiceUnavailable
	}
	defer s.release()
	if s.heavyHook != nil {
		s.heavyHook()
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.HeavyTimeout)
	defer cancel()
	over := false
	in, ng, pe := s.unpack(ctx, body, &over)
	if pe != nil {
		return nil, pe, http.StatusBadRequest
	}
	rep, err := capture.Analyze(in, capture.Options{Name: name, MaxFlows: maxFlows, Context: ctx, MaxPackets: s.cfg.MaxPackets})
	switch {
	case ctx.Err() != nil:
		return nil, perr("", "analyze took longer than the server's %v limit: upload a smaller capture (or use mtukit analyze)", s.cfg.HeavyTimeout), http.StatusServiceUnavailable
	case over:
		return nil, perr("file", "%s: decompresses to more than the %s the server reads (serve --max-unpacked; or use mtukit analyze)", name, humanBytes(s.cfg.MaxUnpacked)), http.StatusRequestEntityTooLarge
	case ng != nil && ng.Err() != nil:
		return nil, perr("file", "%s: %v (serve --max-interfaces; or use mtukit analyze)", name, ng.Err()), http.StatusRequestEntityTooLarge
	case errors.Is(err, capture.ErrTooManyPackets):
		return nil, perr("file", "%s: more than the %d packets the server analyzes (serve --max-packets; or use mtukit analyze)", name, s.cfg.MaxPackets), http.StatusRequestEntityTooLarge
	case rep == nil || (rep.Packets == 0 && err != nil):
		if err == nil {
			err = errors.New("no report")
		}
		return nil, perr("file", "%s: %v", name, err), http.StatusBadRequest
	}
	if !flows {
		rep.FlowTable = nil
		rep.FlowsOmitted = 0
	}
	return rep, nil, 0
}

func (s *Server) handleAnalyze(w http.ResponseWriter, r *http.Request) {
	rep, pe, code := s.analyze(w, r)
	if code == http.StatusServiceUnavailable && pe == nil {
		busy(w)
		return
	}
	if pe != nil {
		writeError(w, code, pe.Msg, pe.Param)
		return
	}
	b, err := jsonout.Marshal(rep)
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSONBytes(w, b)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
