// Command trek is the customer journey platform: one binary with
// subcommands. Everything lives in internal/cli so it can be tested.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/trekhq/trek/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
