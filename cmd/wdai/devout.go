package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/internal/config"
)

// announceGraphiQL prints, in development, the one line a person looks for
// at start-up: where GraphiQL is.
func announceGraphiQL(cfg config.Config, addr net.Addr) {
	if !cfg.Dev() {
		return
	}
	fmt.Fprintf(os.Stderr, "GraphiQL: %s\n", browserURL(addr))
}

// browserURL is the http URL a browser on this machine opens for addr: a
// wildcard listener is reached on 127.0.0.1.
func browserURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// listenError explains a listen failure; a taken port names HTTP_ADDR.
func listenError(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listen on %s: the address is in use (another wdai, or another program, listens there); "+
			"stop it or choose another address with HTTP_ADDR, e.g. HTTP_ADDR=127.0.0.1:8081: %w", addr, err)
	}
	return fmt.Errorf("listen on %s (HTTP_ADDR): %w", addr, err)
}

// jobNames are the jobs `wdai job run` accepts.
var jobNames = []string{jobEventApproval, jobChatSync, jobEmailListResync, jobBillingRecon, jobTiersSync}

// needJobName refuses `wdai job run` without exactly one job name, listing
// them, before anything is opened.
func needJobName(ctx context.Context, cmd *cli.Command) (context.Context, error) {
	if cmd.Args().Len() != 1 {
		return ctx, fmt.Errorf("name one job to run: %s", strings.Join(jobNames, ", "))
	}
	return ctx, nil
}
