package capture

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/mtukit/mtukit/mss"
)

// synWith sends a SYN (or SYN-ACK) from side with the side's initial
// sequence number and the MSS option m (0: none).
func (s *scenario) synWith(from int, flags uint8, m uint16) int64 {
	var o []layers.TCPOption
	if m > 0 {
		o = append(o, mssOpt(m))
	}
	return s.segment(from, flags, s.side[from].seq, 0, o)
}

// dirOf returns the flow table direction sent by from.
func dirOf(t *testing.T, r *Report, from string) *DirSummary {
	t.Helper()
	if len(r.FlowTable) != 1 {
		t.Fatalf("%d flows in the table, want 1", len(r.FlowTable))
	}
	for i := range r.FlowTable[0].Directions {
		if d := &r.FlowTable[0].Directions[i]; d.From == from {
			return d
		}
	}
	t.Fatalf("no direction from %s", from)
	return nil
}

// tsharkSYNMSS lists the MSS of every SYN in the scenario's capture, in
// order, as tshark reads them ("-" for a SYN without one).
func tsharkSYNMSS(t *testing.T, s *scenario) []string {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		return nil
	}
	f := filepath.Join(t.TempDir(), "syn.pcap")
	if err := os.WriteFile(f, s.buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-r", f, "-Y", "tcp.flags.syn == 1", "-T", "fields", "-e", "tcp.srcport", "-e", "tcp.options.mss_val")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.Bytes())
	}
	var res []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		c := strings.Split(l, "\t")
		if c[1] == "" {
			c[1] = "-"
		}
		res = append(res, c[0]+":"+c[1])
	}
	return res
}

// synsOf renders a direction's SYN list like tsharkSYNMSS, one entry per
// copy, for the copies in packet order (the scenarios send each value's
// copies together).
func synsOf(port string, ss []SYNSeen) []string {
	var res []string
	for _, s := range ss {
		v := "-"
		if s.MSS > 0 {
			v = itoa(s.MSS)
		}
		for range s.Count {
			res = append(res, port+":"+v)
		}
	}
	return res
}

// TestSYNMSSChanged: a client whose SYN goes unanswered retransmits it
// with a smaller MSS (the fallback some stacks make after timeouts); the
// server answers the retransmission. Both values are reported, the second
// as the one the connection used, and each is what tshark reads.
func TestSYNMSSChanged(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answered bool
	}{{"answered", true}, {"not answered", false}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScenario(t, false)
			c, sv := &s.side[client], &s.side[server]
			first := s.synWith(client, mss.FlagSYN, 1460)
			s.wait(time.Second)
			s.synWith(client, mss.FlagSYN, 1460)
			s.wait(2 * time.Second)
			fallback := s.synWith(client, mss.FlagSYN, 1200)
			c.seq++
			sv.ack = c.seq
			var answer int64
			if tc.answered {
				s.wait(10 * time.Millisecond)
				answer = s.synWith(server, mss.FlagSYN|mss.FlagACK, 1460)
				sv.seq++
				c.ack = sv.seq
				s.wait(10 * time.Millisecond)
				s.segment(client, mss.FlagACK, c.seq, 0, nil)
				s.send(client, 100)
				s.ackAll(server)
				s.send(server, 1200) // within the MSS the connection used
				s.ackAll(client)
			}
			r := s.report()
			f := find(r, CodeSYNMSSChanged)
			if f == nil {
				t.Fatalf("no %s finding:\n%s", CodeSYNMSSChanged, text(r))
			}
			if f.Severity != SeverityInfo || !slicesEqualInt(f.Packets, []int64{first, fallback}) || f.Count != 2 ||
				!strings.Contains(f.Detail, "packet 1: MSS 1460 (2 copies); packet 3: MSS 1200") {
				t.Errorf("finding %+v", f)
			}
			d := dirOf(t, r, s.endpoint(client))
			want := []SYNSeen{{Packet: first, Count: 2, Seq: 1000, MSS: 1460}, {Packet: fallback, Count: 1, Seq: 1000, MSS: 1200, Used: tc.answered}}
			if len(d.SYNs) != 2 || d.SYNs[0] != want[0] || d.SYNs[1] != want[1] {
				t.Errorf("syns %+v, want %+v", d.SYNs, want)
			}
			if tc.answered {
				if f.MSS != 1200 || !strings.Contains(f.Title, "the connection used MSS 1200") ||
					!strings.Contains(f.Detail, "Packet "+itoa(int(answer))+" acknowledged sequence number 1000, completing the handshake with the SYN of packet 3") {
					t.Errorf("finding %+v: want MSS 1200 used, answered by packet %d", f, answer)
				}
				if d.MSS != 1200 || len(r.Findings) != 1 {
					t.Errorf("table MSS %d, findings %v: want 1200 and only %s\n%s", d.MSS, codes(r), CodeSYNMSSChanged, text(r))
				}
			} else if f.MSS != 0 || !strings.Contains(f.Title, "the handshake was not seen") || d.MSS != 1460 {
				t.Errorf("finding %+v, table MSS %d: want no MSS used, the first reported", f, d.MSS)
			}
			var b strings.Builder
			r.WriteText(&b, true)
			cell := "1460,1200*"
			if !tc.answered {
				cell = "1460,1200 "
			}
			if !strings.Contains(b.String(), cell) || !strings.Contains(b.String(), "SYN MSS a,b*") {
				t.Errorf("text report lacks %q:\n%s", cell, b.String())
			}
			if _, err := exec.LookPath("tshark"); err == nil {
				diffTshark(t, "syn-"+tc.name, s.buf.Bytes())
			}
			if ts := tsharkSYNMSS(t, s); ts != nil {
				got := synsOf(itoa(int(c.port)), d.SYNs)
				if tc.answered {
					got = append(got, itoa(int(sv.port))+":1460")
				}
				if strings.Join(got, " ") != strings.Join(ts, " ") {
					t.Errorf("SYN MSS values: mtukit %v, tshark %v", got, ts)
				}
			}
		})
	}
}

// TestSYNACKMSSChanged: the server retransmits its SYN-ACK with another
// MSS; the client's ACK completes the handshake, with the last one.
func TestSYNACKMSSChanged(t *testing.T) {
	s := newScenario(t, true)
	c, sv := &s.side[client], &s.side[server]
	s.synWith(client, mss.FlagSYN, 1440)
	c.seq++
	sv.ack = c.seq
	s.wait(10 * time.Millisecond)
	a1 := s.synWith(server, mss.FlagSYN|mss.FlagACK, 1440)
	s.wait(time.Second)
	a2 := s.synWith(server, mss.FlagSYN|mss.FlagACK, 1380)
	sv.seq++
	c.ack = sv.seq
	s.wait(10 * time.Millisecond)
	ack := s.segment(client, mss.FlagACK, c.seq, 0, nil)
	r := s.report()
	f := find(r, CodeSYNMSSChanged)
	if f == nil || f.MSS != 1380 || !slicesEqualInt(f.Packets, []int64{a1, a2}) ||
		!strings.Contains(f.Detail, "Packet "+itoa(int(ack))+" acknowledged sequence number 5000000") {
		t.Fatalf("finding %+v\n%s", f, text(r))
	}
	if d := dirOf(t, r, s.endpoint(server)); d.MSS != 1380 || len(d.SYNs) != 2 || !d.SYNs[1].Used {
		t.Errorf("server direction %+v", d)
	}
	// an ordinary SYN retransmission (same MSS) is not listed
	if d := dirOf(t, r, s.endpoint(client)); d.SYNs != nil {
		t.Errorf("client SYNs %+v, want none listed", d.SYNs)
	}
}

// TestSYNRetransmissionSameMSS: retransmitted SYNs with the same MSS (a
// TCP Fast Open SYN resent without its cookie and data) are no finding,
// and cost no allocation of the rare state.
func TestSYNRetransmissionSameMSS(t *testing.T) {
	s := newScenario(t, false)
	c, sv := &s.side[client], &s.side[server]
	tfo := layers.TCPOption{OptionType: 34, OptionLength: 10, OptionData: make([]byte, 8)}
	s.segment(client, mss.FlagSYN, c.seq, 100, []layers.TCPOption{mssOpt(1460), tfo})
	s.wait(time.Second)
	s.synWith(client, mss.FlagSYN, 1460)
	c.seq++
	sv.ack = c.seq
	s.synWith(server, mss.FlagSYN|mss.FlagACK, 1460)
	sv.seq++
	c.ack = sv.seq
	s.segment(client, mss.FlagACK, c.seq, 0, nil)
	r := s.report()
	if find(r, CodeSYNMSSChanged) != nil || dirOf(t, r, s.endpoint(client)).SYNs != nil {
		t.Errorf("a same-MSS SYN retransmission reported:\n%s", text(r))
	}
}
