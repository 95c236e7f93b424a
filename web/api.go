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
	"strconv"
	"strings"
	"sync"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/capture"
	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/internal/jsonout"
)

// paramError is bad input, naming the query parameter at fault.
type paramError struct {
	Param string
	Msg   string
}

func (e *paramError) Error() string { return e.Msg }

func perr(param, format string, a ...any) *paramError {
	return &paramError{Param: param, Msg: fmt.Sprintf(format, a...)}
}

// calcParams are the query parameters of /api/v1/calc: calc's flags that
// change its JSON (--vendor only filters the text).
var calcParams = []string{"stack", "mtu", "packet", "tcp-options", "family", "interface", "physical"}

// single returns the one value of param (def when absent); a parameter
// given twice is an error, since only one of them could win.
func single(q url.Values, param, def string) (string, *paramError) {
	v, ok := q[param]
	switch {
	case !ok:
		return def, nil
	case len(v) > 1:
		return "", perr(param, "%s given %d times: give it once", param, len(v))
	}
	return v[0], nil
}

func checkKnown(q url.Values, known []string) *paramError {
	for k := range q {
		ok := false
		for _, n := range known {
			if k == n {
				ok = true
				break
			}
		}
		if !ok {
			return perr(k, "unknown parameter %q (want %s)", k, strings.Join(known, ", "))
		}
	}
	return nil
}

func intParam(q url.Values, param string, def int) (int, *paramError) {
	s, pe := single(q, param, "")
	if pe != nil {
		return 0, pe
	}
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, perr(param, "%s %q: want an integer", param, s)
	}
	return n, nil
}

// calcOptions maps query parameters to advise.Options exactly as
// internal/cli/calc.go maps its flags (same defaults, same checks, in the
// same order), so the same input gives the same report or the same error.
func calcOptions(q url.Values) (advise.Options, *paramError) {
	var o advise.Options
	if pe := checkKnown(q, calcParams); pe != nil {
		return o, pe
	}
	var pe *paramError
	if o.Stack, pe = single(q, "stack", ""); pe != nil {
		return o, pe
	}
	if o.LinkMTU, pe = intParam(q, "mtu", 1500); pe != nil {
		return o, pe
	}
	if o.Packet, pe = intParam(q, "packet", 0); pe != nil {
		return o, pe
	}
	if o.Interface, pe = single(q, "interface", "tun0"); pe != nil {
		return o, pe
	}
	if o.Physical, pe = single(q, "physical", "eth0"); pe != nil {
		return o, pe
	}
	tcp, pe := single(q, "tcp-options", "ts")
	if pe != nil {
		return o, pe
	}
	fam, pe := single(q, "family", "ipv4")
	if pe != nil {
		return o, pe
	}
	var err error
	if o.TCP, err = advise.ParseTCPOptions(tcp); err != nil {
		return o, perr("tcp-options", "tcp-options: %v", err)
	}
	switch strings.ToLower(fam) {
	case "ipv4", "4", "inet":
		o.Family = encap.IPv4
	case "ipv6", "6", "inet6":
		o.Family = encap.IPv6
	default:
		return o, perr("family", "family %q: want ipv4 or ipv6", fam)
	}
	if err := encap.CheckLinkMTU(o.LinkMTU); err != nil {
		return o, perr("mtu", "mtu: %v", err)
	}
	if o.Packet < 0 || o.Packet > 65535 {
		return o, perr("packet", "packet %d: want 1..65535", o.Packet)
	}
	return o, nil
}

// calcReport is advise.Calc behind the API's parameter checks.
func calcReport(q url.Values) (*advise.Report, *paramError) {
	o, pe := calcOptions(q)
	if pe != nil {
		return nil, pe
	}
	r, err := advise.Calc(o)
	if err != nil {
		var se *encap.SpecError
		var nr *encap.NoRoomError
		if errors.As(err, &se) || errors.As(err, &nr) {
			return nil, perr("stack", "stack: %v", err)
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
	if pe := checkKnown(r.URL.Query(), nil); pe != nil {
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

// tputParams are `mtukit tput`'s flags that the API passes through: all of
// them but --plot (which writes a file) and --json (always on).
var tputParams = []string{"stack", "mtu", "family", "tcp-options", "rtt", "loss", "window", "wscale", "rate", "mss",
	"model", "ack-every", "mathis-c", "rto", "framing", "pmtu", "tunnel", "too-big", "transfer", "detect", "fallback-mss"}

// simParams are `mtukit sim`'s flags that the API passes through: all but
// --plot (a file), --json (always on) and --workers (the server runs each
// simulation on one worker; sim's numbers do not depend on the count).
var simParams = []string{"strategy", "step", "tunnel", "pmtu", "min", "max", "loss", "ber", "icmp", "forge", "forge-mtu", "frag",
	"change-after", "change-to", "rtt", "pto", "max-probes", "parallel", "epsilon", "loss-prior", "ptb-confirm", "threshold",
	"retry-factor", "trials", "seed", "exact"}

// Simulations are bounded so that one answers in well under a second:
// the API's default is simDefaultTrials Monte Carlo searches per row (the
// CLI's is 20000), and at most simMaxTrials.
const (
	simDefaultTrials = 2000
	simMaxTrials     = 20000
)

// simArgs checks the API's bound on trials and adds the server's defaults.
func simArgs(q url.Values) ([]string, *paramError) {
	extra := []string{"--workers=1"}
	if _, ok := q["trials"]; !ok {
		return append(extra, "--trials="+strconv.Itoa(simDefaultTrials)), nil
	}
	n, pe := intParam(q, "trials", 0)
	if pe != nil {
		return nil, pe
	}
	if n > simMaxTrials {
		return nil, perr("trials", "trials %d: the server runs at most %d per row (use mtukit sim for more)", n, simMaxTrials)
	}
	return extra, nil
}

// errTooSlow is a heavy job that ran out of time.
var errTooSlow = errors.New("too slow")

// runJSON runs `mtukit <cmd> --json` with the query parameters as flags and
// returns its stdout; bad input comes back as a paramError naming the flag.
func (s *Server) runJSON(ctx context.Context, cmd string, q url.Values, known []string) ([]byte, *paramError, error) {
	if s.cfg.Run == nil {
		return nil, nil, errors.New(cmd + " is not available in this server")
	}
	if pe := checkKnown(q, known); pe != nil {
		return nil, pe, nil
	}
	args := []string{cmd, "--json"}
	if cmd == "sim" {
		extra, pe := simArgs(q)
		if pe != nil {
			return nil, pe, nil
		}
		args = append(args, extra...)
	}
	for _, k := range known {
		v, pe := single(q, k, "")
		if pe != nil {
			return nil, pe, nil
		}
		if _, ok := q[k]; ok {
			args = append(args, "--"+k+"="+v)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.HeavyTimeout)
	defer cancel()
	var out, errb bytes.Buffer
	code := s.cfg.Run(ctx, args, strings.NewReader(""), &out, &errb)
	if code != 0 && ctx.Err() != nil {
		return nil, nil, errTooSlow
	}
	switch code {
	case 0:
		return out.Bytes(), nil, nil
	case 2:
		return nil, cliParamError(errb.String(), known), nil
	}
	return nil, nil, fmt.Errorf("%s: %s", cmd, strings.TrimSpace(errb.String()))
}

// cliParamError turns the CLI's one-line usage error ("mtukit: --loss 2:
// want ...") into a paramError naming the parameter ("loss").
func cliParamError(line string, known []string) *paramError {
	msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "mtukit: "))
	pe := &paramError{Msg: msg}
	// cobra's own flag errors: invalid argument "x" for "--rtt" flag: ...
	if i := strings.Index(msg, ` for "--`); i >= 0 && strings.HasPrefix(msg, "invalid argument") {
		name := msg[i+len(` for "--`):]
		if j := strings.IndexByte(name, '"'); j >= 0 {
			name = name[:j]
		}
		for _, k := range known {
			if k == name {
				pe.Param = name
				pe.Msg = strings.Replace(msg, `"--`+name+`"`, name, 1)
			}
		}
		return pe
	}
	if !strings.HasPrefix(msg, "--") {
		// "loss 3 out of range [0, 1]": the flag named without dashes.
		name, _, _ := strings.Cut(msg, " ")
		name = strings.TrimSuffix(name, ":")
		for _, k := range known {
			if k == name {
				pe.Param = name
			}
		}
		return pe
	}
	{
		name := msg[2:]
		if i := strings.IndexAny(name, " :="); i >= 0 {
			name = name[:i]
		}
		for _, k := range known {
			if k == name {
				pe.Param = name
				pe.Msg = msg[2:]
			}
		}
	}
	return pe
}

func (s *Server) handleTput(w http.ResponseWriter, r *http.Request) {
	s.heavyJSON(w, r, "tput", tputParams)
}

func (s *Server) handleSim(w http.ResponseWriter, r *http.Request) {
	s.heavyJSON(w, r, "sim", simParams)
}

// heavyJSON runs a CLI command under the heavy-work semaphore and answers
// with its JSON.
func (s *Server) heavyJSON(w http.ResponseWriter, r *http.Request, cmd string, known []string) {
	if !s.acquire(r.Context()) {
		busy(w)
		return
	}
	defer s.release()
	b, pe, err := s.runJSON(r.Context(), cmd, r.URL.Query(), known)
	switch {
	case pe != nil:
		writeError(w, http.StatusBadRequest, pe.Msg, pe.Param)
	case errors.Is(err, errTooSlow):
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("%s took longer than the server's %v limit: ask for less (fewer trials, strategies or tunnels)", cmd, s.cfg.HeavyTimeout), "")
	case err != nil:
		s.internal(w, err)
	default:
		writeJSONBytes(w, b)
	}
}

// upload reads a capture from a multipart form (field "file", or the first
// file) or from the raw body, within MaxUpload. It returns the file name
// the report shows.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) ([]byte, string, *paramError, int) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload+64<<10)
	tooBig := func() ([]byte, string, *paramError, int) {
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
	bad := func(err error) ([]byte, string, *paramError, int) {
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

var analyzeParams = []string{"flows", "max-flows", "name"}

// analyze runs capture.Analyze as `mtukit analyze --json` does.
func (s *Server) analyze(w http.ResponseWriter, r *http.Request) (*capture.Report, *paramError, int) {
	q := r.URL.Query()
	if pe := checkKnown(q, analyzeParams); pe != nil {
		return nil, pe, http.StatusBadRequest
	}
	flows := false
	if v, pe := single(q, "flows", "false"); pe != nil {
		return nil, pe, http.StatusBadRequest
	} else if flows, _ = strconv.ParseBool(v); v != "" && v != "false" && !flows {
		return nil, perr("flows", "flows %q: want true or false", v), http.StatusBadRequest
	}
	maxFlows, pe := intParam(q, "max-flows", 50000)
	if pe != nil {
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
