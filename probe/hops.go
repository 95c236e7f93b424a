package probe

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// HopReport is --hops: TTL bisection, as scamper's trace -M does, to find
// the router that cannot forward packets of Size (the path MTU + 1) onto its
// next link. A probe of TTL t reaches hop t (it answers "time exceeded"
// before it checks the MTU) when hops 1..t-1 forwarded it, so "a big probe
// reaches hop t" holds up to the dropping router and fails after it.
type HopReport struct {
	Size int `json:"size"`
	// PathHops is the destination's distance in hops (TTL of the first
	// echo reply to a small probe).
	PathHops int `json:"path_hops"`
	// DropHop is the hop whose router drops (or refuses with a PTB) packets
	// of Size; DropRouter its address as its time exceeded showed it. 0
	// when it could not be located.
	DropHop    int    `json:"drop_hop"`
	DropRouter string `json:"drop_router,omitempty"`
	Probes     int    `json:"probes"`
	Note       string `json:"note,omitempty"`
}

// hopper is what locate needs beyond a transport: TTL control and a raw
// socket (time exceeded messages are read there).
type hopper interface {
	setTTL(ttl int) error
	rawSocket() bool
}

const maxHops = 32

// locate bisects TTLs: first the path length with small (Min) probes, then
// the last hop that big probes reach. Each answer is awaited for the probe
// timer; a silent probe is retried once before it counts as "not reached".
func locate(ctx context.Context, tr transport, o *Options, size int) (*HopReport, error) {
	h := &HopReport{Size: size}
	hp, ok := tr.(hopper)
	if !ok || !hp.rawSocket() {
		return nil, errors.New("the hop search needs a raw socket (root)")
	}
	defer hp.setTTL(0)
	seq := uint32(40000)
	// ask sends one probe of size with ttl and reports whether it reached
	// hop ttl (time exceeded or echo reply), the answering address and
	// whether it was the destination.
	ask := func(size, ttl int) (reached, dest bool, from string, err error) {
		if err := hp.setTTL(ttl); err != nil {
			return false, false, "", err
		}
		for try := 0; try < 2; try++ {
			seq++
			h.Probes++
			if err := tr.send(seq, size); err != nil {
				return false, false, "", err
			}
			q := tr.quote(seq, size)
			timer := time.NewTimer(o.Timeout)
		wait:
			for {
				select {
				case <-ctx.Done():
					timer.Stop()
					return false, false, "", ctx.Err()
				case <-timer.C:
					break wait
				case ev := <-tr.events():
					switch {
					case ev.err != nil:
						timer.Stop()
						return false, false, "", ev.err
					case ev.ack && ev.seq == seq:
						timer.Stop()
						return true, true, o.Addr.String(), nil
					case ev.te && ev.ptb.Matches(&q):
						timer.Stop()
						return true, false, ev.from.String(), nil
					case !ev.ack && !ev.te && ev.ptb.Matches(&q):
						timer.Stop()
						return false, false, ev.from.String(), nil // refused with a PTB: not forwarded
					}
				}
			}
		}
		return false, false, "", nil
	}
	// Path length: smallest TTL at which a small probe gets an echo reply.
	lo, hi := 1, maxHops
	if r, d, _, err := ask(o.Min, hi); err != nil {
		return nil, err
	} else if !r || !d {
		h.Note = fmt.Sprintf("no echo reply with TTL %d", hi)
		return h, nil
	}
	for lo < hi {
		mid := (lo + hi) / 2
		_, d, _, err := ask(o.Min, mid)
		if err != nil {
			return nil, err
		}
		if d {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	h.PathHops = lo
	// Last hop a big probe reaches, in [1, PathHops-1] (it never reaches
	// the destination, or it would have been acknowledged).
	last, addr := 0, ""
	lo, hi = 1, h.PathHops-1
	for lo <= hi {
		mid := (lo + hi) / 2
		r, d, from, err := ask(size, mid)
		if err != nil {
			return nil, err
		}
		if d {
			h.Note = fmt.Sprintf("a %d-byte probe reached the destination this time", size)
			return h, nil
		}
		if r {
			last, addr = mid, from
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	if last == 0 {
		h.Note = "even the first router does not answer big probes"
		return h, nil
	}
	h.DropHop, h.DropRouter = last, addr
	return h, nil
}
