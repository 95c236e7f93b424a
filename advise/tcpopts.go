package advise

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mtukit/mtukit/mss"
)

// optionBytes is the option space the options take on each segment; each
// one costs payload (RFC 9293 §3.7.1). Options from ParseTCPOptions always
// fit in the 40-byte option space.
func optionBytes(o mss.SegmentOptions) int {
	n, _ := o.Bytes()
	return n
}

// optionsText spells the options as ParseTCPOptions reads them, e.g.
// "ts,sack=1".
func optionsText(o mss.SegmentOptions) string {
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
	if o.AOMACLen > 0 {
		p = append(p, fmt.Sprintf("ao=%d", o.AOMACLen))
	}
	return strings.Join(p, ",")
}

// DefaultTCPOptions is what a data segment carries unless told otherwise:
// timestamps, as Linux, macOS and Windows servers negotiate by default. The
// CLI's --tcp-options and the API's tcp-options default to it.
const DefaultTCPOptions = "ts"

// ParseTCPOptions reads "ts,sack=3,md5,ao=12" ("" or "none": no options).
// The TCP header holds at most 40 bytes of options.
func ParseTCPOptions(s string) (mss.SegmentOptions, error) {
	var o mss.SegmentOptions
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
			o.AOMACLen, err = num(1, 32)
		default:
			return o, fmt.Errorf("unknown tcp option %q (want ts, sack=N, md5, ao=N)", k)
		}
		if err != nil {
			return o, err
		}
	}
	if n, err := o.Bytes(); err != nil {
		return o, fmt.Errorf("tcp options %s need %d bytes; the TCP header holds 40", optionsText(o), n)
	}
	return o, nil
}
