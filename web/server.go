package web

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net"
	"net/http"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config tunes the handler and the server. Start from DefaultConfig.
type Config struct {
	// MaxUpload bounds a capture upload in bytes (as sent: compressed or
	// not); UploadMemory bounds the bytes of all uploads held at once
	// (0: 2*MaxHeavy+2 uploads of MaxUpload). An upload takes memory as its
	// bytes arrive, so a slow sender holds next to none.
	MaxUpload    int64
	UploadMemory int64
	// An upload must arrive at MinUploadRate bytes per second on average,
	// counted after UploadGrace: the connection's read deadline follows it,
	// so a sender that falls behind is cut off (408).
	MinUploadRate float64
	UploadGrace   time.Duration
	// The work an upload may cause: MaxUnpacked bytes out of each gzip
	// layer, MaxPackets packets, MaxInterfaces pcapng interfaces per
	// section (the analyzer's own bound is 65535), MaxFlows flows (the
	// largest max-flows a request may ask for). MaxTrials bounds sim's
	// trials per row.
	MaxUnpacked   int64
	MaxPackets    int64
	MaxInterfaces int
	MaxFlows      int
	MaxTrials     int
	// MaxHeavy bounds the tput, sim and analyze jobs running at once;
	// HeavyWait is how long a request waits for a slot before a 503, and
	// HeavyTimeout bounds one job.
	MaxHeavy     int
	HeavyWait    time.Duration
	HeavyTimeout time.Duration
	// Rate and Burst are each client's token bucket for every request
	// (requests per second; Rate 0 turns the limit off); HeavyRate and
	// HeavyBurst a second, smaller bucket for heavy requests.
	Rate, Burst           float64
	HeavyRate, HeavyBurst float64
	// Server timeouts (NewServer) and the per-client connection limit
	// (LimitListener).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                                            int
	ConnsPerClient                                            int
	// Log receives one line per internal error (nil: log.Default()).
	Log *log.Logger
}

// DefaultConfig is the configuration `mtukit serve` starts from.
func DefaultConfig() Config {
	return Config{
		MaxUpload:         32 << 20,
		MinUploadRate:     16 << 10,
		UploadGrace:       2 * time.Second,
		MaxUnpacked:       512 << 20,
		MaxPackets:        20_000_000,
		MaxInterfaces:     1024,
		MaxFlows:          50000,
		MaxTrials:         20000,
		MaxHeavy:          max(runtime.GOMAXPROCS(0), 1),
		HeavyWait:         2 * time.Second,
		HeavyTimeout:      10 * time.Second,
		Rate:              200,
		Burst:             400,
		HeavyRate:         5,
		HeavyBurst:        25,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ConnsPerClient:    256,
	}
}

// Server is the mtukit web handler.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	heavy  chan struct{}
	light  *limiter
	heavyL *limiter
	log    *log.Logger
	page   *pageRenderer

	calcCache calcCache
	// heavyHook, when set (by tests), runs in each heavy API job's slot.
	heavyHook func()

	// upFree is the upload memory left (bytes, UploadMemory in all): an
	// upload takes it as its bytes arrive. upClients holds the clients
	// with an upload under way: one each.
	upFree    atomic.Int64
	upMu      sync.Mutex
	upClients map[string]bool
}

// New returns the handler for cfg.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, mux: http.NewServeMux(), heavy: make(chan struct{}, max(cfg.MaxHeavy, 1)), log: cfg.Log,
		upClients: map[string]bool{}}
	if cfg.UploadMemory <= 0 {
		cfg.UploadMemory = int64(2*max(cfg.MaxHeavy, 1)+2) * cfg.MaxUpload
		s.cfg.UploadMemory = cfg.UploadMemory
	}
	s.upFree.Store(cfg.UploadMemory)
	if s.log == nil {
		s.log = log.Default()
	}
	if cfg.Rate > 0 {
		s.light = newLimiter(cfg.Rate, max(cfg.Burst, 1))
	}
	if cfg.HeavyRate > 0 {
		s.heavyL = newLimiter(cfg.HeavyRate, max(cfg.HeavyBurst, 1))
	}
	s.page = newPageRenderer(s)
	s.routes()
	return s
}

// NewServer wraps New(cfg) in an http.Server with cfg's timeouts.
func NewServer(addr string, cfg Config) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           New(cfg),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
	}
}

func (s *Server) routes() {
	for _, rt := range routes {
		h := rt.Handle
		hf := func(w http.ResponseWriter, r *http.Request) { h(s, w, r) }
		if isAPI(rt.Pattern) {
			hf = strict(hf)
		}
		s.mux.HandleFunc(rt.Pattern, s.only(rt.Method, hf))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if isAPI(r.URL.Path) {
			writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path, "")
			return
		}
		http.Error(w, "404 page not found", http.StatusNotFound)
	})
}

// csp allows only this origin's script and style; SVG is drawn with
// presentation attributes and classes, never inline styles.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Printf("web: panic serving %s: %v", r.URL.Path, v)
			writeError(w, http.StatusInternalServerError, "internal error", "")
		}
	}()
	if r.URL.Path != "/healthz" {
		key := clientKey(r.RemoteAddr)
		if s.light != nil && !s.light.allow(key) {
			tooMany(w, s.light)
			return
		}
		if s.heavyL != nil && isHeavy(r.URL.Path) && !s.heavyL.allow(key) {
			tooMany(w, s.heavyL)
			return
		}
	}
	if p := r.URL.Path; isAPI(p) && path.Clean(p) != p {
		// the mux would redirect to the clean path, in HTML; an API
		// client gets JSON and the path it meant
		writeError(w, http.StatusNotFound, "no such endpoint: "+p+" (paths are not cleaned: did you mean "+path.Clean(p)+"?)", "")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// isAPI reports whether path is under /api: every answer there is JSON.
func isAPI(path string) bool { return path == "/api" || strings.HasPrefix(path, "/api/") }

// strict answers 400 to a query string that does not parse cleanly or
// gives a parameter an empty value, naming the parameter; net/url would
// drop the bad pair (or take ";" as part of a value) and the empty value
// would mean the default.
func strict(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if pe := checkQuery(r.URL.RawQuery); pe != nil {
			writeError(w, http.StatusBadRequest, pe.Msg, pe.Param)
			return
		}
		h(w, r)
	}
}

func tooMany(w http.ResponseWriter, l *limiter) {
	w.Header().Set("Retry-After", strconv.Itoa(int(max(1, 1/l.rate))))
	writeError(w, http.StatusTooManyRequests, "rate limit exceeded: slow down", "")
}

// isHeavy names the requests that run tput, sim or analyze (Heavy in the
// routes table): the page itself (its first load runs tput and sim), their
// fragments and their API.
func isHeavy(path string) bool { return heavyPaths[path] }

// only answers other methods with 405 (JSON under /api).
func (s *Server) only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == method || (method == "GET" && r.Method == "HEAD") {
			h(w, r)
			return
		}
		w.Header().Set("Allow", method)
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: use "+method, "")
	}
}

// apiError is the body of every 4xx and 5xx from the API.
type apiError struct {
	Error string `json:"error"`
	Param string `json:"param,omitempty"`
}

func writeError(w http.ResponseWriter, code int, msg, param string) {
	b, _ := json.Marshal(apiError{Error: msg, Param: param})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeJSONBytes(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.Write(b)
}

// acquire takes a heavy-work slot, waiting at most HeavyWait. release must
// be called when it returns true.
func (s *Server) acquire(ctx context.Context) bool {
	select {
	case s.heavy <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(s.cfg.HeavyWait)
	defer t.Stop()
	select {
	case s.heavy <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (s *Server) release() { <-s.heavy }

// uploadSlot marks an upload from key under way (one per client); the
// release func must be called when it returns true. The slot holds no
// memory: the upload takes it as its bytes arrive (takeMemory).
func (s *Server) uploadSlot(key string) (func(), bool) {
	s.upMu.Lock()
	defer s.upMu.Unlock()
	if s.upClients[key] {
		return nil, false
	}
	s.upClients[key] = true
	return func() {
		s.upMu.Lock()
		delete(s.upClients, key)
		s.upMu.Unlock()
	}, true
}

// takeMemory takes n bytes of upload memory, if that many are free.
func (s *Server) takeMemory(n int64) bool {
	if s.upFree.Add(-n) < 0 {
		s.upFree.Add(n)
		return false
	}
	return true
}

func busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "2")
	writeError(w, http.StatusServiceUnavailable, "server busy: too many simulations or analyses running, retry shortly", "")
}

// limiter is a token bucket per client.
type limiter struct {
	rate, burst float64
	mu          sync.Mutex
	buckets     map[string]*bucket
	now         func() time.Time
	lastSweep   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate, burst float64) *limiter {
	return &limiter{rate: rate, burst: burst, buckets: map[string]*bucket{}, now: time.Now}
}

func (l *limiter) allow(key string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= 65536 || now.Sub(l.lastSweep) > time.Minute {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets clients whose bucket has refilled: they lose nothing.
func (l *limiter) sweep(now time.Time) {
	l.lastSweep = now
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= 65536 { // under attack by many addresses: start over
		clear(l.buckets)
	}
}

// clientKey is the client's address; IPv6 clients are grouped by /64,
// since one host usually owns a whole /64.
func clientKey(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String()
	}
	return ip.String()
}

// LimitListener refuses (closes at once) connections from a client that
// already holds perClient open ones, so one slow or greedy client cannot
// take every connection the server has.
func LimitListener(ln net.Listener, perClient int) net.Listener {
	return &perClientListener{Listener: ln, max: perClient, open: map[string]int{}}
}

type perClientListener struct {
	net.Listener
	max  int
	mu   sync.Mutex
	open map[string]int
}

func (l *perClientListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := clientKey(c.RemoteAddr().String())
		l.mu.Lock()
		if l.open[key] >= l.max {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.open[key]++
		l.mu.Unlock()
		return &countedConn{Conn: c, l: l, key: key}, nil
	}
}

type countedConn struct {
	net.Conn
	l    *perClientListener
	key  string
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		if c.l.open[c.key]--; c.l.open[c.key] <= 0 {
			delete(c.l.open, c.key)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

var errTooLarge = errors.New("too large")
