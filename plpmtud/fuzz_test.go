package plpmtud

import (
	"testing"
	"time"
)

// FuzzStrategies drives every strategy with arbitrary outcome sequences,
// as a real prober on a hostile path could: any probe may be acknowledged,
// lost or answered by a PTB with any MTU, outcomes come in any order, and
// traffic losses arrive at random. Whatever happens, no strategy panics,
// sends more than Bound probes, or reports an estimate above Max, above
// both Min and the largest acknowledged size, or below Min (Linux TCP's
// black-hole rule excepted: it goes down to 88, as the kernel does).
func FuzzStrategies(f *testing.F) {
	// Seeds: strategy index, min/max bytes, then events.
	f.Add([]byte{0, 0, 10, 255, 1, 1, 1, 1, 2, 2, 2, 3, 9, 9})          // mtukit: acks then losses
	f.Add([]byte{4, 1, 200, 0, 3, 0, 3, 0x80, 3, 0x40, 2, 2, 2})        // rfc8899 with PTBs
	f.Add([]byte{9, 2, 3, 4, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 4, 4}) // quic-go alternating, traffic loss
	f.Add([]byte{6, 0, 0, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2})             // linux-sctp: everything lost
	f.Add([]byte{5, 3, 1, 1, 3, 0xff, 3, 0x00, 1, 3, 0x10})             // freebsd-sctp, odd PTBs
	names := Names()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		name := names[int(data[0])%len(names)]
		min := 576 + int(data[1])*4
		max := min + int(data[2])*8
		c := Config{Min: min, Max: max, Parallel: 1 + int(data[0]>>4)%3}
		s, err := New(name, c)
		if err != nil {
			t.Fatal(err)
		}
		// Linux TCP's black-hole rule halves search_low below the base
		// (tcp_mtu_probing, floored at tcp_min_snd_mss 48 + 40).
		floor := min
		if name == "linux-tcp" {
			floor = linuxMinSndMSS + linuxHeaders
		}
		var inflight []int
		sent, acked := 0, min
		now := time.Duration(0)
		for i := 3; i < len(data); i++ {
			now += time.Millisecond
			op := data[i] % 5
			arg := 0
			if i+1 < len(data) {
				arg = int(data[i+1])
			}
			switch {
			case op == 0 || len(inflight) == 0:
				if size, ok := s.Next(now); ok {
					if size < floor || size > max {
						t.Fatalf("%s: probe %d outside [%d, %d]", name, size, min, max)
					}
					inflight = append(inflight, size)
					sent++
				}
			case op == 4:
				if bd, ok := s.(BlackHoleDetector); ok {
					bd.OnTrafficLoss(s.Estimate(), now)
				}
			default:
				j := arg % len(inflight)
				size := inflight[j]
				inflight = append(inflight[:j], inflight[j+1:]...)
				switch op {
				case 1:
					s.OnAck(size, now)
					acked = maxInt(acked, size)
				case 2:
					s.OnLoss(size, now)
				case 3:
					s.OnPTB(size, min-50+arg*(max-min+100)/255, now)
				}
				i++
			}
			if sent > s.Bound() {
				t.Fatalf("%s: %d probes, bound %d", name, sent, s.Bound())
			}
			if e := s.Estimate(); e < floor || e > max || (e > acked && e > min) {
				t.Fatalf("%s: estimate %d, range [%d, %d], largest acknowledged %d", name, e, min, max, acked)
			}
		}
	})
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
