package web

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/mss"
)

// query binds an endpoint's query parameters to the typed fields of a
// domain package's request: one call per parameter, each naming its type,
// so a value is parsed once and bad input names the parameter. Fields whose
// parameter is absent keep the request's defaults.
type query struct {
	q     url.Values
	known []string
	err   *encap.ParamError
}

func newQuery(q url.Values) *query { return &query{q: q} }

// value returns the one value of param; a parameter given twice is an
// error, since only one of them could win.
func (b *query) value(param string) (string, bool) {
	b.known = append(b.known, param)
	v, ok := b.q[param]
	switch {
	case !ok || b.err != nil:
		return "", false
	case len(v) > 1:
		b.err = encap.Paramf(param, "%s given %d times: give it once", param, len(v))
		return "", false
	}
	return v[0], true
}

func (b *query) fail(param, v, want string) {
	b.err = encap.Paramf(param, "%s %q: want %s", param, v, want)
}

func (b *query) str(param string, p *string) {
	if v, ok := b.value(param); ok {
		*p = v
	}
}

func (b *query) int(param string, p *int) {
	if v, ok := b.value(param); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			b.fail(param, v, "an integer")
			return
		}
		*p = n
	}
}

func (b *query) uint64(param string, p *uint64) {
	if v, ok := b.value(param); ok {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			b.fail(param, v, "a whole number")
			return
		}
		*p = n
	}
}

func (b *query) float(param string, p *float64) {
	if v, ok := b.value(param); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			b.fail(param, v, "a number")
			return
		}
		*p = f
	}
}

func (b *query) duration(param string, p *time.Duration) {
	if v, ok := b.value(param); ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			b.fail(param, v, "a duration such as 50ms")
			return
		}
		*p = d
	}
}

func (b *query) bool(param string, p *bool) {
	if v, ok := b.value(param); ok {
		t, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			b.fail(param, v, "true or false")
			return
		}
		*p = t
	}
}

func (b *query) family(param string, p *encap.Family) {
	if v, ok := b.value(param); ok {
		f, err := encap.ParseFamily(v)
		if err != nil {
			b.err = encap.Paramf(param, "%s %w", param, err)
			return
		}
		*p = f
	}
}

func (b *query) tcpOptions(param string, p *mss.SegmentOptions) {
	if v, ok := b.value(param); ok {
		o, err := advise.ParseTCPOptions(v)
		if err != nil {
			b.err = encap.Paramf(param, "%s: %w", param, err)
			return
		}
		*p = o
	}
}

// done is the first bad parameter: one the endpoint does not know, or one
// whose value did not parse.
func (b *query) done() *encap.ParamError {
	for k := range b.q {
		if !slices.Contains(b.known, k) {
			return encap.Paramf(k, "unknown parameter %q (want %s)", k, strings.Join(b.known, ", "))
		}
	}
	return b.err
}

// paramError is err's ParamError, if bad input is to blame.
func paramError(err error) (*encap.ParamError, bool) {
	var pe *encap.ParamError
	ok := errors.As(err, &pe)
	return pe, ok
}

// checkQuery is the first fault of a raw query string: a ";" (not a
// separator since Go 1.17, so "stack=gre;mtu=1400" was one stack), an escape
// that does not decode, or a parameter without a value.
func checkQuery(raw string) *encap.ParamError {
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return encap.Paramf(k, "parameter %q: bad %%-escape in the query string", k)
		}
		if strings.Contains(kv, ";") {
			return encap.Paramf(key, "%s: %q in the query string: separate parameters with &", key, ";")
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return encap.Paramf(key, "%s %q: bad %%-escape in the query string", key, v)
		}
		if val == "" {
			return encap.Paramf(key, "%s: empty value: give one, or leave the parameter out for its default", key)
		}
	}
	return nil
}
