//go:build linux

package capture

import (
	"net/netip"
	"testing"
	"time"

	"github.com/mtukit/mtukit/internal/netlab"
)

// TestLabOffloadGRO: a download captured at a receiver whose veth has GRO
// on while everything before it sends wire-sized segments (the router's
// egress has TSO and GSO off): the capture holds packets GRO merged, and
// the receiver's view (the sender's largest segment and packet, what was
// delivered, the findings) is the one a capture with GRO off gives.
func TestLabOffloadGRO(t *testing.T) {
	netlab.Require(t, "tcpdump", "nft", "ping", "ethtool")
	var rows [2]DirSummary
	var reps [2]*Report
	for i, gro := range []bool{false, true} {
		p := newPath(t, 0, 0, false)
		if gro {
			p.c.MustRun("ethtool", "-K", p.cr.IfA, "gro", "on")
		}
		capt := p.c.Capture(p.cr.IfA, "tcp", "")
		body := 1 << 20
		if got := labDownload(t, p, netip.MustParseAddr("10.0.2.2"), body, 5*time.Second, 0); got != body {
			t.Fatalf("the client received %d of %d bytes", got, body)
		}
		reps[i] = analyzeLab(t, capt, map[bool]string{false: "lab-gro-off", true: "lab-gro-on"}[gro])
		for _, d := range reps[i].FlowTable[0].Directions {
			if d.From[:8] == "10.0.2.2" {
				rows[i] = d
			}
		}
	}
	off, on := reps[0], reps[1]
	if f := find(on, CodeOffload); f == nil || on.Summary.LargestPacket <= 1500 {
		t.Fatalf("GRO on: no merged packets in the capture (largest %d)\n%s", on.Summary.LargestPacket, text(on))
	}
	if a, b := verdicts(off), verdicts(on); len(a) != 0 || len(b) != 0 {
		t.Errorf("findings off %q on %q, want none", a, b)
	}
	for i, d := range rows {
		if d.MaxSegment != 1448 || d.MaxPacket != 1500 || d.MaxDelivered != 1448 {
			t.Errorf("GRO %v: server's max segment %d packet %d delivered %d, want 1448 1500 1448 (the wire's)", i == 1, d.MaxSegment, d.MaxPacket, d.MaxDelivered)
		}
	}
	if rows[1].Offload == 0 || rows[1].DataPackets >= rows[0].DataPackets {
		t.Errorf("GRO on: %d merged of %d data packets (off: %d): want fewer, merged packets", rows[1].Offload, rows[1].DataPackets, rows[0].DataPackets)
	}
	t.Logf("data packets captured: %d with GRO off, %d with GRO on (%d merged)", rows[0].DataPackets, rows[1].DataPackets, rows[1].Offload)
}
