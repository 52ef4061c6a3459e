// Command wdai is the one binary of the WDAI platform backend: the API
// server, the background worker and the operator's CLI. It is the only place
// that knows every concrete type; everything is wired here, by hand.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := rootCommand().Run(ctx, os.Args)
	stop()
	if err != nil {
		var cerr *config.Error
		if errors.As(err, &cerr) {
			fmt.Fprintln(os.Stderr, "wdai: "+cerr.Error())
		} else {
			fmt.Fprintln(os.Stderr, "wdai: "+err.Error())
		}
		os.Exit(1)
	}
}

func rootCommand() *cli.Command {
	return &cli.Command{
		Name:  "wdai",
		Usage: "Women Defining AI platform backend",
		Description: "Configuration comes from environment variables only; see README.md.\n" +
			"With WDAI_ENV=development and no DATABASE_URL, a private PostgreSQL cluster is started under WDAI_DATA_DIR.",
		Commands: []*cli.Command{
			serveCommand(),
			migrateCommand(),
			workerCommand(),
			dlqCommand(),
			jobCommand(),
			personCommand(),
			accessCommand(),
			stripeCommand(),
			tiersCommand(),
			mailchimpCommand(),
			operationsCommand(),
			devCommand(),
			agentKeyCommand(),
			healthCommand(),
		},
	}
}
