package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"

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
	o := advise.Options{LinkMTU: 1500, Family: encap.IPv4, Interface: "tun0", Physical: "eth0"}
	o.TCP, _ = advise.ParseTCPOptions("ts")
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
	tcp, _ := advise.ParseTCPOptions("ts")
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
}

// Simulations are bounded so that one answers in well under a second:
// the API's default is simDefaultTrials Monte Carlo searches per sampled
// row (the CLI's is 20000), and at most simMaxTrials; rows are exact by
// default, as in the CLI.
const (
	simDefaultTrials = 2000
	simMaxTrials     = 20000
)

// simRequest binds /api/v1/sim's query parameters: sim's flags but --plot
// (a file), --json (always on) and --workers (the server runs each
// simulation on one worker; sim's numbers do not depend on the count).
func simRequest(q url.Values) (sim.Request, *encap.ParamError) {
	r := sim.DefaultRequest()
	r.Trials, r.Workers = simDefaultTrials, 1
	b := newQuery(q)
	bindSim(b, &r)
	if pe := b.done(); pe != nil {
		return r, pe
	}
	if r.Trials > simMaxTrials {
		return r, perr("trials", "trials %d: the server runs at most %d per row (use mtukit sim for more)", r.Trials, simMaxTrials)
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
	req, pe := simRequest(q)
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

// upload reads a capture from a multipart form (field "file", or the first
// file) or from the raw body, within MaxUpload. It returns the file name
// the report shows.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) ([]byte, string, *encap.ParamError, int) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload+64<<10)
	tooBig := func() ([]byte, string, *encap.ParamError, int) {
		return nil, "", perr("file", "capture larger than the %s limit", humanBytes(s.cfg.MaxUpload)), http.StatusRequestEntityTooLarge
	}
	if r.ContentLength > s.cfg.MaxUpload+64<<10 {
		return tooBig()
	}
	read := func(rd io.Reader) ([]byte, error) {
		b, err := io.ReadAll(io.LimitReader(rd, s.cfg.MaxUpload+1))
		if err == nil && int64(len(b)) > s.cfg.MaxUpload {
			err = errTooLarge
		}
		return b, err
	}
	bad := func(err error) ([]byte, string, *encap.ParamError, int) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || errors.Is(err, errTooLarge) {
			return tooBig()
		}
		return nil, "", perr("file", "reading the upload: %v", err), http.StatusBadRequest
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, "", perr("file", "multipart body: %v", err), http.StatusBadRequest
		}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil, "", perr("file", "no file in the form: send the capture in a field named \"file\""), http.StatusBadRequest
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
			return b, name, nil, 0
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
	return b, path.Base(name), nil, 0
}

func bindAnalyze(b *query, flows *bool, maxFlows *int, name *string) {
	b.bool("flows", flows)
	b.int("max-flows", maxFlows)
	b.str("name", name)
}

// analyze runs capture.Analyze as `mtukit analyze --json` does.
func (s *Server) analyze(w http.ResponseWriter, r *http.Request) (*capture.Report, *encap.ParamError, int) {
	flows, maxFlows, name := false, 50000, ""
	b := newQuery(r.URL.Query())
	bindAnalyze(b, &flows, &maxFlows, &name)
	if pe := b.done(); pe != nil {
		return nil, pe, http.StatusBadRequest
	}
	if maxFlows < 1 {
		return nil, perr("max-flows", "max-flows %d: want at least 1", maxFlows), http.StatusBadRequest
	}
	release, ok := s.uploadSlot(clientKey(r.RemoteAddr))
	if !ok {
		return nil, nil, http.StatusServiceUnavailable
	}
	defer release()
	body, name, pe, code := s.upload(w, r)
	if pe != nil {
		return nil, pe, code
	}
	if !s.acquire(r.Context()) {
		return nil, nil, http.StatusServiceUnavailable
	}
	defer s.release()
	rep, err := capture.Analyze(bytes.NewReader(body), capture.Options{Name: name, MaxFlows: maxFlows})
	if rep == nil || (rep.Packets == 0 && err != nil) {
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
	if code == http.StatusServiceUnavailable {
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
