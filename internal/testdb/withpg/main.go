// Command withpg runs a command with TEST_DATABASE_URL pointing at a real
// PostgreSQL. When the variable is already set it is used as it is;
// otherwise a throwaway embedded cluster (the same code as `wdai serve` uses
// in development) is started in a temporary folder, and stopped and removed
// when the command ends.
//
//	go run ./internal/testdb/withpg -- go test -race ./...
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/womendefiningai/platform/internal/pgembed"
	"github.com/womendefiningai/platform/internal/testdb"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: withpg -- COMMAND [ARGS...]")
		os.Exit(2)
	}
	os.Exit(run(context.Background(), args))
}

func run(ctx context.Context, args []string) int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if os.Getenv(testdb.EnvVar) == "" {
		dir, err := os.MkdirTemp("", "wdai-test-pg-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "withpg:", err)
			return 1
		}
		defer func() { _ = os.RemoveAll(dir) }()
		startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		cluster, err := pgembed.Start(startCtx, pgembed.Options{Dir: dir, Logger: logger})
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "withpg:", err)
			return 1
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := cluster.Stop(stopCtx); err != nil {
				fmt.Fprintln(os.Stderr, "withpg: stop:", err)
			}
			if err := cluster.Remove(stopCtx); err != nil {
				fmt.Fprintln(os.Stderr, "withpg: remove:", err)
			}
		}()
		if err := os.Setenv(testdb.EnvVar, cluster.URL("postgres")); err != nil {
			fmt.Fprintln(os.Stderr, "withpg:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "withpg: throwaway PostgreSQL in %s\n", cluster.DataDir())
	}

	cmd := exec.CommandContext(ctx, args[0], args[1:]...) //nolint:gosec // runs the command its caller names, by design
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Signals are passed on to the child; we stay alive to stop the cluster
	// once it has exited.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "withpg:", err)
		return 1
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	default:
		fmt.Fprintln(os.Stderr, "withpg:", err)
		return 1
	}
}
