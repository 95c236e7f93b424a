package encap

import (
	"errors"
	"fmt"
	"strings"
)

// ParamError is bad input that one named parameter of a request is to
// blame for. Every domain package's Request returns one, and each front end
// renders it in its own words: the CLI as the flag ("--loss 2: ..."), the
// web API as JSON naming the query parameter ({"error": "loss 2: ...",
// "param": "loss"}).
//
// Msg starts with the parameter's name, written bare ("loss 2: want a
// probability in [0, 1)"), so it reads the same from either front end.
type ParamError struct {
	Param string
	Msg   string
	err   error // the cause, when the message wraps one with %w
}

func (e *ParamError) Error() string { return e.Msg }
func (e *ParamError) Unwrap() error { return e.err }

// Paramf builds a ParamError; the message should start with param, and
// may wrap its cause with %w.
func Paramf(param, format string, a ...any) *ParamError {
	err := fmt.Errorf(format, a...)
	return &ParamError{Param: param, Msg: err.Error(), err: errors.Unwrap(err)}
}

// ParseFamily reads an address family: ipv4 (4, inet) or ipv6 (6, inet6),
// in any case.
func ParseFamily(s string) (Family, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ipv4", "4", "inet":
		return IPv4, nil
	case "ipv6", "6", "inet6":
		return IPv6, nil
	}
	return 0, fmt.Errorf("%q: want ipv4 or ipv6", s)
}

// IsStackError reports whether err is the stack's fault: a spec that does
// not parse or a stack that leaves no room on the link.
func IsStackError(err error) bool {
	var se *SpecError
	var nr *NoRoomError
	return errors.As(err, &se) || errors.As(err, &nr)
}
