package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
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
				Before:    needJobName,
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
			{
				Name:  "list",
				Usage: "list the latest runs, newest first, with their progress, counts and errors",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "job", Usage: "only runs of this job"},
					&cli.IntFlag{Name: "limit", Value: 20, Usage: "at most this many runs (1 to 1000)"},
				},
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					runs, err := app.Queries.ListJobRuns.Handle(ctx, application.ListJobRunsInput{Job: cmd.String("job"), Limit: cmd.Int("limit")})
					if err != nil {
						return err
					}
					printJobRuns(cmd.Root().Writer, runs)
					return nil
				}),
			},
			{
				Name:      "status",
				Usage:     "show one run: status, attempts, pages done, cursor, counts and error",
				ArgsUsage: "RUN_ID",
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					id, err := oneArg(cmd)
					if err != nil {
						return err
					}
					run, err := app.Queries.GetJobRun.Handle(ctx, id)
					if err != nil {
						return err
					}
					printJobRun(cmd.Root().Writer, run)
					return nil
				}),
			},
		},
	}
}

// printJobRuns prints one line per run.
func printJobRuns(w io.Writer, runs []ports.JobRun) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "RUN\tJOB\tSTATUS\tPAGES\tATTEMPTS\tCREATED\tCOUNTS\tERROR")
	for _, r := range runs {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.ID, r.Job, r.Status, r.Pages, r.Attempts,
			r.CreatedAt.UTC().Format(time.RFC3339), counts(r.Summary), firstLine(r.Error))
	}
	_ = tw.Flush()
}

// printJobRun prints one run in full.
func printJobRun(w io.Writer, r ports.JobRun) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintf(tw, "run\t%s\njob\t%s\nslot\t%s\ntrigger\t%s\nstatus\t%s\nattempts\t%d\npages done\t%d\ncursor\t%s\n",
		r.ID, r.Job, r.Slot.Format(time.RFC3339), r.Trigger, r.Status, r.Attempts, r.Pages, r.Cursor)
	if r.InFlight != nil {
		_, _ = fmt.Fprintf(tw, "page in flight\t%d (its provider calls may have begun)\n", r.Pages+1)
	}
	_, _ = fmt.Fprintf(tw, "created\t%s\n", r.CreatedAt.Format(time.RFC3339))
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"started", r.StartedAt}, {"updated", r.UpdatedAt}, {"finished", r.FinishedAt}} {
		if !t.at.IsZero() {
			_, _ = fmt.Fprintf(tw, "%s\t%s\n", t.name, t.at.Format(time.RFC3339))
		}
	}
	_, _ = fmt.Fprintf(tw, "counts\t%s\nerror\t%s\n", counts(r.Summary), r.Error)
	_ = tw.Flush()
}

// counts prints a summary as key=value pairs in key order.
func counts(summary map[string]any) string {
	parts := make([]string, 0, len(summary))
	for _, k := range slices.Sorted(maps.Keys(summary)) {
		v, err := json.Marshal(summary[k])
		if err != nil {
			v = []byte("?")
		}
		parts = append(parts, k+"="+strings.Trim(string(v), `"`))
	}
	return strings.Join(parts, " ")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
