package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// runBounded is run with a deadline, so that a bad value a command takes
// (serve, responder, probe would start) ends the test instead of hanging.
func runBounded(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := Main(ctx, args, strings.NewReader(""), &out, &errb)
	return errb.String(), code
}

// outOfRange holds, for every numeric flag of every command, a value
// outside what it accepts (with the arguments the command needs to get as
// far as checking it), and a few flag pairs that contradict each other.
var outOfRange = []struct {
	flag string // command --flag, for the coverage check
	args []string
}{
	{"analyze --max-flows", []string{"analyze", "--max-flows", "0", "x.pcap"}},
	{"analyze --duration", []string{"analyze", "--live", "lo", "--duration", "-1s"}},
	{"watch --duration", []string{"watch", "lo", "--duration", "-1s"}},
	{"watch --max-flows", []string{"watch", "lo", "--max-flows", "0"}},
	{"watch --max-peers", []string{"watch", "lo", "--max-peers", "0"}},
	{"watch --prefix4", []string{"watch", "lo", "--prefix4", "33"}},
	{"watch --prefix6", []string{"watch", "lo", "--prefix6", "0"}},
	{"calc --mtu", []string{"calc", "--stack", "gre", "--mtu", "0"}},
	{"calc --mtu", []string{"calc", "--stack", "gre", "--mtu", "67"}},
	{"calc --mtu", []string{"calc", "--stack", "gre", "--mtu", "65536"}},
	{"calc --packet", []string{"calc", "--stack", "gre", "--packet", "70000"}},
	{"calc --packet", []string{"calc", "--stack", "gre", "--packet", "-1"}},
	{"calc --mtu", []string{"calc", "--list", "--mtu", "0"}},
	{"clamp --mss", []string{"clamp", "--in", "x", "--out", "y", "--mss", "0"}},
	{"clamp --mtu", []string{"clamp", "--in", "x", "--out", "y", "--mtu", "0"}},
	{"clamp --mtu", []string{"clamp", "--in", "x", "--out", "y", "--mtu", "65536"}},
	{"exporter --concurrency", []string{"exporter", "--concurrency", "0"}},
	{"exporter --max-paths", []string{"exporter", "--max-paths", "-1"}},
	{"exporter --rate", []string{"exporter", "--rate", "-1"}},
	{"exporter --timeout-offset", []string{"exporter", "--timeout-offset", "-1s"}},
	{"probe --max", []string{"probe", "--max", "70000", "127.0.0.1"}},
	{"probe --min", []string{"probe", "--min", "-1", "127.0.0.1"}},
	{"probe --min", []string{"probe", "--min", "67", "127.0.0.1"}},
	{"probe --min", []string{"probe", "--min", "2000", "--max", "1500", "127.0.0.1"}},
	{"probe --max-time", []string{"probe", "--max-time", "0s", "127.0.0.1"}},
	{"probe --port", []string{"probe", "--port", "70000", "127.0.0.1"}},
	{"probe --ptb-confirm", []string{"probe", "--ptb-confirm", "0", "127.0.0.1"}},
	{"probe --rate", []string{"probe", "--rate", "0", "127.0.0.1"}},
	{"probe --retries", []string{"probe", "--retries", "0", "127.0.0.1"}},
	{"probe --timeout", []string{"probe", "--timeout", "-1s", "127.0.0.1"}},
	{"responder --burst", []string{"responder", "--listen", "127.0.0.1:0", "--burst", "0"}},
	{"responder --max-conns", []string{"responder", "--listen", "127.0.0.1:0", "--max-conns", "0"}},
	{"responder --rate", []string{"responder", "--listen", "127.0.0.1:0", "--rate", "-1"}},
	{"responder --total-rate", []string{"responder", "--listen", "127.0.0.1:0", "--total-rate", "-1"}},
	{"serve --heavy-rate-limit", []string{"serve", "--listen", "127.0.0.1:0", "--heavy-rate-limit", "-1"}},
	{"serve --max-conns-per-client", []string{"serve", "--listen", "127.0.0.1:0", "--max-conns-per-client", "0"}},
	{"serve --max-flows", []string{"serve", "--listen", "127.0.0.1:0", "--max-flows", "0"}},
	{"serve --max-interfaces", []string{"serve", "--listen", "127.0.0.1:0", "--max-interfaces", "65536"}},
	{"serve --max-jobs", []string{"serve", "--listen", "127.0.0.1:0", "--max-jobs", "0"}},
	{"serve --max-packets", []string{"serve", "--listen", "127.0.0.1:0", "--max-packets", "0"}},
	{"serve --max-trials", []string{"serve", "--listen", "127.0.0.1:0", "--max-trials", "0"}},
	{"serve --max-unpacked", []string{"serve", "--listen", "127.0.0.1:0", "--max-unpacked", "0"}},
	{"serve --max-upload", []string{"serve", "--listen", "127.0.0.1:0", "--max-upload", "0"}},
	{"serve --min-upload-rate", []string{"serve", "--listen", "127.0.0.1:0", "--min-upload-rate", "0"}},
	{"serve --rate-limit", []string{"serve", "--listen", "127.0.0.1:0", "--rate-limit", "-1"}},
	{"sim --ber", []string{"sim", "--ber", "2"}},
	{"sim --prior", []string{"sim", "--prior", "9000"}},
	{"sim --change-after", []string{"sim", "--change-after", "-1"}},
	{"sim --change-to", []string{"sim", "--change-after", "5", "--change-to", "-1"}},
	{"sim --epsilon", []string{"sim", "--epsilon", "2"}},
	{"sim --forge", []string{"sim", "--forge", "2"}},
	{"sim --forge-mtu", []string{"sim", "--forge", "0.1", "--forge-mtu", "-1"}},
	{"sim --frag", []string{"sim", "--frag", "2"}},
	{"sim --icmp", []string{"sim", "--icmp", "2"}},
	{"sim --loss", []string{"sim", "--loss", "2"}},
	{"sim --loss-prior", []string{"sim", "--loss-prior", "2"}},
	{"sim --max", []string{"sim", "--max", "70000"}},
	{"sim --max-probes", []string{"sim", "--max-probes", "-1"}},
	{"sim --min", []string{"sim", "--min", "1600", "--max", "1500"}},
	{"sim --parallel", []string{"sim", "--parallel", "-1"}},
	{"sim --ptb-confirm", []string{"sim", "--ptb-confirm", "-1"}},
	{"sim --pto", []string{"sim", "--pto", "-1s"}},
	{"sim --retry-factor", []string{"sim", "--retry-factor", "-1"}},
	{"sim --rtt", []string{"sim", "--rtt", "-1s"}},
	{"sim --seed", []string{"sim", "--seed", "-1"}},
	{"sim --threshold", []string{"sim", "--threshold", "-1"}},
	{"sim --trials", []string{"sim", "--trials", "0"}},
	{"sim --workers", []string{"sim", "--workers", "-1"}},
	{"tput --ack-every", []string{"tput", "--stack", "gre", "--ack-every", "0"}},
	{"tput --fallback-mss", []string{"tput", "--stack", "gre", "--fallback-mss", "-1"}},
	{"tput --framing", []string{"tput", "--stack", "gre", "--framing", "-1"}},
	{"tput --loss", []string{"tput", "--stack", "gre", "--loss", "2"}},
	{"tput --mathis-c", []string{"tput", "--stack", "gre", "--mathis-c", "-1"}},
	{"tput --mtu", []string{"tput", "--stack", "gre", "--mtu", "0"}},
	{"tput --rto", []string{"tput", "--stack", "gre", "--rto", "-1s"}},
	{"tput --rtt", []string{"tput", "--stack", "gre", "--rtt", "-1s"}},
	{"tput --wscale", []string{"tput", "--stack", "gre", "--wscale", "15"}},
}

// TestBadFlagsExit2 is issue 14's "bad input is exit 2 everywhere": every
// flag of every command, given a malformed value (not a number, not a
// duration, not a boolean) and, for every numeric flag, a value out of its
// range (the outOfRange table, which must cover them all), ends with exit 2
// and exactly one line on stderr. Before, probe --min 2000 --max 1500 exited
// 1, and calc --mtu 0 printed results for 1500.
func TestBadFlagsExit2(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range outOfRange {
		covered[tc.flag] = true
	}
	check := func(t *testing.T, args []string) {
		t.Helper()
		errs, code := runBounded(t, args...)
		if code != ExitUsage || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "mtukit: ") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line", args, code, errs)
		}
	}
	for _, c := range NewRoot(&Env{}).Commands() {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			var bad string
			switch f.Value.Type() {
			case "bool":
				bad = "maybe"
			case "int", "int64", "uint64", "float64":
				bad = "x1"
				if !covered[c.Name()+" --"+f.Name] {
					t.Errorf("%s --%s: numeric flag without an out-of-range case in outOfRange", c.Name(), f.Name)
				}
			case "duration":
				bad = "soon"
				if !covered[c.Name()+" --"+f.Name] {
					t.Errorf("%s --%s: duration flag without an out-of-range case in outOfRange", c.Name(), f.Name)
				}
			default:
				return
			}
			t.Run(c.Name()+"/--"+f.Name+"="+bad, func(t *testing.T) { check(t, []string{c.Name(), "--" + f.Name + "=" + bad}) })
		})
	}
	for _, tc := range outOfRange {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) { check(t, tc.args) })
	}
}
