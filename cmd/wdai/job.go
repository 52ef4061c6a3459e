package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

func jobCommand() *cli.Command {
	return &cli.Command{
		Name:  "job",
		Usage: "trigger background jobs",
		Commands: []*cli.Command{
			{
				Name:      "run",
				Usage:     "enqueue a run of the named job now (a worker runs it) and print the run id",
				ArgsUsage: "NAME",
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					name, err := oneArg(cmd)
					if err != nil {
						return err
					}
					p := application.PrincipalFrom(ctx)
					run, err := app.Commands.EnqueueJob.Handle(ctx, application.EnqueueJobInput{Job: name, Slot: time.Now().UTC(), Trigger: ports.TriggerCLI, ActorKind: p.Kind().String(), ActorID: p.ID()})
					if err != nil {
						return err
					}
					_, _ = fmt.Fprintf(cmd.Root().Writer, "enqueued %s run %s\n", run.Job, run.ID)
					return nil
				}),
			},
		},
	}
}
