package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v3"
	"golang.org/x/term"

	"github.com/womendefiningai/platform/application"
)

func stripeCommand() *cli.Command {
	return &cli.Command{
		Name:  "stripe",
		Usage: "billing operations",
		Commands: []*cli.Command{{
			Name:  "reconcile",
			Usage: "fetch billing events the webhooks missed and process them like webhooks",
			Flags: []cli.Flag{
				&cli.DurationFlag{Name: "since", Value: application.DefaultReconcileWindow, Usage: "how far back to look (Stripe keeps 30 days)"},
				&cli.BoolFlag{Name: "dry-run", Usage: "count only; enqueue nothing"},
			},
			Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
				since := cmd.Duration("since")
				if since <= 0 || since > 30*24*time.Hour {
					return fmt.Errorf("--since must be between 0 and 720h, got %s", since)
				}
				bar := newSpinner(cmd.Root().ErrWriter, "reconciling")
				res, err := app.Commands.ReconcileBilling.Handle(ctx, application.ReconcileBillingInput{Since: time.Now().Add(-since), DryRun: cmd.Bool("dry-run"), Progress: func(r application.ReconcileResult) {
					bar.describe(fmt.Sprintf("seen %d, present %d, enqueued %d", r.Seen, r.Present, r.Enqueued))
				}})
				bar.finish()
				if err != nil {
					return err
				}
				verb := "enqueued"
				if cmd.Bool("dry-run") {
					verb = "would enqueue"
				}
				_, _ = fmt.Fprintf(cmd.Root().Writer, "seen %d, already present %d, %s %d, waiting re-queued %d, expired %d\n", res.Seen, res.Present, verb, res.Enqueued, res.Requeued, res.Expired)
				return nil
			}),
		}},
	}
}

func mailchimpCommand() *cli.Command {
	return &cli.Command{
		Name:  "mailchimp",
		Usage: "email list operations",
		Commands: []*cli.Command{{
			Name:  "resync",
			Usage: "push every person to the list (batch-subscribe, consent kept), then fix tags that differ",
			Flags: []cli.Flag{&cli.BoolFlag{Name: "dry-run", Usage: "count only; call nothing"}},
			Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
				bar := newSpinner(cmd.Root().ErrWriter, "resyncing")
				res, err := app.Commands.ResyncEmailList.Handle(ctx, application.ResyncEmailListInput{DryRun: cmd.Bool("dry-run"), Progress: func(r application.ResyncResult) {
					bar.describe(fmt.Sprintf("%d people, %d batch calls, %d tag updates", r.People, r.BatchCalls, r.TagCalls))
				}})
				bar.finish()
				if err != nil {
					return err
				}
				if res.Skipped {
					_, _ = fmt.Fprintln(cmd.Root().Writer, "skipped: Mailchimp is not configured (MAILCHIMP_API_KEY, MAILCHIMP_LIST_ID)")
					return nil
				}
				_, _ = fmt.Fprintf(cmd.Root().Writer, "people %d, batch calls %d, tag updates %d, unsubscribed kept %d, per-member errors %d\n",
					res.People, res.BatchCalls, res.TagCalls, res.Unsubscribed, res.Errors)
				return nil
			}),
		}},
	}
}

// spinner shows progress on a terminal and nothing elsewhere (CI, pipes).
type spinner struct{ bar *progressbar.ProgressBar }

func newSpinner(w io.Writer, what string) spinner {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) { //nolint:gosec // a file descriptor fits in int
		return spinner{}
	}
	return spinner{bar: progressbar.NewOptions(-1, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
		progressbar.OptionSpinnerType(14), progressbar.OptionClearOnFinish())}
}

func (s spinner) describe(d string) {
	if s.bar != nil {
		s.bar.Describe(d)
		_ = s.bar.Add(1)
	}
}

func (s spinner) finish() {
	if s.bar != nil {
		_ = s.bar.Finish()
	}
}
