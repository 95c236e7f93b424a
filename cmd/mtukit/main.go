// Command mtukit computes, proves and fixes MTU and MSS problems: exact
// tunnel MTUs and MSS clamps for any encapsulation stack, path MTU probing
// that survives ICMP black holes, capture forensics and a web page.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/mtukit/mtukit/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
