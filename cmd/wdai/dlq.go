package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/internal/text"
	"github.com/womendefiningai/platform/ports"
)

func dlqCommand() *cli.Command {
	return &cli.Command{
		Name:  "dlq",
		Usage: "list, show, replay or abandon dead letters (audited as the system user cli:<login>)",
		Commands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list dead letters, newest first",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "status", Value: "open", Usage: "open, replayed, abandoned or all"},
					&cli.IntFlag{Name: "limit", Value: 50},
				},
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					var status ports.DeadLetterStatus
					if s := cmd.String("status"); s != "all" {
						var err error
						if status, err = ports.ParseDeadLetterStatus(s); err != nil {
							return err
						}
					}
					dls, err := app.Queries.ListDeadLetters.Handle(ctx, application.ListDeadLettersInput{Status: status, Limit: int(cmd.Int("limit"))})
					if err != nil {
						return err
					}
					tw := tabwriter.NewWriter(cmd.Root().Writer, 0, 4, 2, ' ', 0)
					_, _ = fmt.Fprintln(tw, "ID\tSTATUS\tTOPIC\tHANDLER\tATTEMPTS\tLAST FAILURE\tREASON")
					for _, d := range dls {
						_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Status, d.Topic, d.Handler, d.Attempts,
							d.LastFailedAt.UTC().Format(time.RFC3339), text.Clip(d.Reason, 80))
					}
					return tw.Flush()
				}),
			},
			{
				Name:      "show",
				Usage:     "show one dead letter with its payload",
				ArgsUsage: "ID",
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					id, err := oneArg(cmd)
					if err != nil {
						return err
					}
					d, err := app.Queries.GetDeadLetter.Handle(ctx, id)
					if err != nil {
						return err
					}
					printDeadLetter(cmd.Root().Writer, d)
					return nil
				}),
			},
			{
				Name:      "replay",
				Usage:     "publish the message again to its original topic",
				ArgsUsage: "ID",
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					id, err := oneArg(cmd)
					if err != nil {
						return err
					}
					d, err := app.Commands.ReplayDeadLetter.Handle(ctx, id)
					if err != nil {
						return err
					}
					_, _ = fmt.Fprintf(cmd.Root().Writer, "replayed %s to %s\n", d.ID, d.Topic)
					return nil
				}),
			},
			{
				Name:      "abandon",
				Usage:     "give up on a dead letter",
				ArgsUsage: "ID",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "reason", Required: true, Usage: "why (kept in the audit log)"}},
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					id, err := oneArg(cmd)
					if err != nil {
						return err
					}
					d, err := app.Commands.AbandonDeadLetter.Handle(ctx, application.AbandonDeadLetterInput{ID: id, Reason: cmd.String("reason")})
					if err != nil {
						return err
					}
					_, _ = fmt.Fprintf(cmd.Root().Writer, "abandoned %s\n", d.ID)
					return nil
				}),
			},
		},
	}
}

// withApp opens the database, builds the application and runs fn as the
// system principal cli:<login>, so CLI actions are audited by name.
func withApp(fn func(context.Context, *application.App, *cli.Command) error) cli.ActionFunc {
	return func(ctx context.Context, cmd *cli.Command) error {
		sys, closeSystem, err := openSystem(ctx)
		if err != nil {
			return err
		}
		defer closeSystem()
		p, err := access.NewSystem("cli:" + login())
		if err != nil {
			return err
		}
		return fn(application.WithPrincipal(ctx, p), sys.app, cmd)
	}
}

func login() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

func oneArg(cmd *cli.Command) (string, error) {
	if cmd.Args().Len() != 1 {
		return "", errors.New("expected exactly one ID argument")
	}
	return cmd.Args().First(), nil
}

func printDeadLetter(w io.Writer, d ports.DeadLetter) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintf(tw, "id\t%s\nstatus\t%s\ntopic\t%s\nhandler\t%s\nmessage id\t%s\nattempts\t%d\nfirst failure\t%s\nlast failure\t%s\nreason\t%s\n",
		d.ID, d.Status, d.Topic, d.Handler, d.MessageID, d.Attempts,
		d.FirstFailedAt.UTC().Format(time.RFC3339), d.LastFailedAt.UTC().Format(time.RFC3339), d.Reason)
	if !d.ResolvedAt.IsZero() {
		_, _ = fmt.Fprintf(tw, "resolved\t%s by %s\nnote\t%s\n", d.ResolvedAt.UTC().Format(time.RFC3339), d.ResolvedBy, d.ResolutionNote)
	}
	_ = tw.Flush()
	_, _ = fmt.Fprintf(w, "payload:\n%s\n", d.Payload)
}
