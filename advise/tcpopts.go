package advise

import (
	"fmt"
	"strconv"
	"strings"
)

// TCPOptions are the options a sender puts on every data segment; each one
// costs payload (RFC 9293 §3.7.1: the sender subtracts them from the MSS).
// Sizes are as Linux lays them out, padded with NOPs to 4 bytes each.
type TCPOptions struct {
	Timestamps bool // kind 8, 10 bytes + 2 NOP = 12
	SACKBlocks int  // kind 5, 2 + 8n bytes + 2 NOP; up to 4 blocks (3 with timestamps)
	MD5        bool // kind 19, 18 bytes + 2 NOP = 20 (RFC 2385)
	AOMAC      int  // kind 29, 4 + MAC bytes rounded to 4 (RFC 5925); 0 = no TCP-AO
}

// Bytes is the option space on each segment.
func (o TCPOptions) Bytes() int {
	n := 0
	if o.Timestamps {
		n += 12
	}
	if o.SACKBlocks > 0 {
		n += 4 + 8*o.SACKBlocks
	}
	if o.MD5 {
		n += 20
	}
	if o.AOMAC > 0 {
		n += (4 + o.AOMAC + 3) / 4 * 4
	}
	return n
}

func (o TCPOptions) String() string {
	var p []string
	if o.Timestamps {
		p = append(p, "ts")
	}
	if o.SACKBlocks > 0 {
		p = append(p, fmt.Sprintf("sack=%d", o.SACKBlocks))
	}
	if o.MD5 {
		p = append(p, "md5")
	}
	if o.AOMAC > 0 {
		p = append(p, fmt.Sprintf("ao=%d", o.AOMAC))
	}
	return strings.Join(p, ",")
}

// ParseTCPOptions reads "ts,sack=3,md5,ao=12". The TCP header holds at most
// 40 bytes of options.
func ParseTCPOptions(s string) (TCPOptions, error) {
	var o TCPOptions
	if strings.TrimSpace(s) == "" || s == "none" {
		return o, nil
	}
	for _, item := range strings.Split(s, ",") {
		k, v, hasV := strings.Cut(strings.TrimSpace(strings.ToLower(item)), "=")
		num := func(lo, hi int) (int, error) {
			if !hasV {
				return 0, fmt.Errorf("tcp option %q needs a value (%s=N)", k, k)
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				return 0, fmt.Errorf("tcp option %s=%s: want %d..%d", k, v, lo, hi)
			}
			return n, nil
		}
		var err error
		switch k {
		case "ts", "timestamps":
			o.Timestamps = true
		case "sack":
			o.SACKBlocks, err = num(1, 4)
		case "md5":
			o.MD5 = true
		case "ao":
			o.AOMAC, err = num(1, 32)
		default:
			return o, fmt.Errorf("unknown tcp option %q (want ts, sack=N, md5, ao=N)", k)
		}
		if err != nil {
			return o, err
		}
	}
	if o.Bytes() > 40 {
		return o, fmt.Errorf("tcp options %s need %d bytes; the TCP header holds 40", o, o.Bytes())
	}
	return o, nil
}
