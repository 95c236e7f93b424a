// Command tracegen writes the synthetic capture the analyze benchmark runs
// on: go run ./internal/tracegen/cmd/tracegen -o big.pcap -packets 5000000
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/mtukit/mtukit/internal/tracegen"
)

func main() {
	out := flag.String("o", "", "output pcap file (required)")
	packets := flag.Int64("packets", 1_000_000, "packets to write")
	flows := flag.Int("flows", 2000, "concurrent flows")
	snap := flag.Int("snap", 0, "snap length (0: whole frames)")
	seed := flag.Uint64("seed", 1, "random seed: the same seed gives the same file")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "tracegen: -o is required")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tracegen:", err)
		os.Exit(1)
	}
	st, err := tracegen.Generate(f, tracegen.Config{Packets: *packets, Flows: *flows, Snap: *snap, Seed: *seed})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tracegen:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d packets, %d bytes captured, %d flows (%d black holes, %d of them sent 5 times; %d with a PTB), %d retransmissions\n",
		*out, st.Packets, st.Bytes, st.Flows, st.Blackholes, st.BlackholesDone, st.PTBs, st.Retransmitted)
}
