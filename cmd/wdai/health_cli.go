package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/application"
)

func healthCommand() *cli.Command {
	return &cli.Command{
		Name: "health",
		Usage: "print each integration's state, the jobs' last 24 h, the billing webhooks and the alert measures " +
			"(the integrationHealth view, over every replica)",
		Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
			h, err := app.Queries.GetIntegrationHealth.Handle(ctx)
			if err != nil {
				return err
			}
			return printHealth(cmd.Root().Writer, h)
		}),
	}
}

func printHealth(out io.Writer, h application.IntegrationHealth) error {
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	_, _ = fmt.Fprintln(w, "SERVICE\tSTATE\tBREAKER\tCALLS 1H\tERROR RATE\tRATE-LIMIT HITS\tLAST SUCCESS\tLAST FAILURE\tCLASS")
	for _, s := range h.Services {
		_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%.1f%%\t%d\t%s\t%s\t%s\n", s.Name, s.State, s.Breaker, s.Calls, 100*s.ErrorRate,
			s.RateLimitHits, at(s.LastSuccess), at(s.LastFailure), s.LastErrorClass)
	}
	_, _ = fmt.Fprintln(w, "\nJOB\tRUNS 24H\tLAST")
	for _, j := range h.Jobs {
		outcomes := make([]string, 0, len(j.Outcomes))
		for st, n := range j.Outcomes {
			outcomes = append(outcomes, fmt.Sprintf("%s %d", st, n))
		}
		sort.Strings(outcomes)
		_, _ = fmt.Fprintf(w, "%s\t%v\t%s at %s %v\n", j.Job, outcomes, j.LastStatus, at(j.LastAt), j.LastSummary)
	}
	wh := h.Webhooks
	_, _ = fmt.Fprintf(w, "\nWEBHOOKS 24H\treceived %d, applied %d, failed %d, success %.2f%%, p95 %s, backlog %v, open dead letters %d\n",
		wh.Received, wh.Applied, wh.Failed, 100*h.WebhookSuccessRate, wh.P95.Round(time.Millisecond), wh.Backlog, wh.OpenDeadLetters)
	_, _ = fmt.Fprintln(w, "\nMEASURE\tVALUE\tLEVEL\tWARNING\tCRITICAL")
	for _, l := range h.Levels {
		_, _ = fmt.Fprintf(w, "%s\t%.4g\t%s\t%.4g\t%.4g\n", l.Measure, l.Value, l.Level, l.Threshold.Warning, l.Threshold.Critical)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("print health: %w", err)
	}
	return nil
}
