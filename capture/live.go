package capture

import (
	"context"
	"errors"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// LiveOptions tune OpenLive.
type LiveOptions struct {
	// Filter is a capture filter in libpcap's syntax (see CompileFilter);
	// empty takes every packet.
	Filter string
	// RingMB is the kernel's receive ring in MiB (default 16): how much a
	// burst may outrun the analysis before the kernel drops packets (they
	// are counted in LiveStats.Dropped).
	RingMB int
}

// LiveStats counts what the kernel did for a live capture.
type LiveStats struct {
	// Received is the packets the socket took (after the filter);
	// Dropped the ones it dropped because the ring was full.
	Received, Dropped uint64
}

// errLiveTimeout is what a live source's next returns when no packet came
// within its poll interval.
var errLiveTimeout = errors.New("no packet")

// livePoll is how often a live capture wakes up without packets, to tell
// the stream the time (a black hole is silence) and to see ctx.
const livePoll = 50 * time.Millisecond

// Run analyzes the interface's packets with s until ctx is done or, when
// d > 0, for d. The stream's report covers what was read. every, when not
// nil, is called from Run's goroutine about every poll interval (and
// every 4096 packets), where the stream can be read safely.
func (l *Live) Run(ctx context.Context, s *Stream, d time.Duration, every func()) error {
	s.SetFormat("live")
	var end time.Time
	if d > 0 {
		end = time.Now().Add(d)
	}
	last := time.Now()
	for n := 0; ctx.Err() == nil; n++ {
		now := time.Now()
		if !end.IsZero() && !now.Before(end) {
			return nil
		}
		data, ts, wire, err := l.next()
		switch {
		case err == nil:
			s.Packet(l.link, data, ts, wire, 0)
		case errors.Is(err, errLiveTimeout):
			s.Tick(now.UnixNano())
		default:
			return err
		}
		if every != nil && (n&4095 == 0 || now.Sub(last) >= livePoll) {
			last = now
			every()
		}
	}
	return nil
}

// LinkType is the link type of the interface's frames.
func (l *Live) LinkType() layers.LinkType { return l.link }

// Interface is the interface's name.
func (l *Live) Interface() string { return l.iface }
