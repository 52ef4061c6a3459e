package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

func tiersCommand() *cli.Command {
	return &cli.Command{
		Name:  "tiers",
		Usage: "membership tiers",
		Commands: []*cli.Command{{
			Name: "sync",
			Usage: "create, update and retire tiers from Stripe's active recurring prices " +
				"(a price names its tier by lookup key wdai_tier_<id>, or metadata wdai_tier=<id> on the price or its product)",
			Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
				res, err := app.Commands.SyncTiers.Handle(ctx)
				if errors.Is(err, ports.ErrNotConfigured) {
					return errors.New("billing is not configured: set STRIPE_SECRET_KEY")
				}
				if err != nil {
					return err
				}
				w := cmd.Root().Writer
				_, _ = fmt.Fprintf(w, "prices %d, created %d, updated %d, retired %d, unchanged %d, skipped %d\n", res.Prices,
					len(res.Created), len(res.Updated), len(res.Retired), len(res.Unchanged), len(res.Skipped))
				for _, l := range []struct {
					what string
					ids  []string
				}{{"created", res.Created}, {"updated", res.Updated}, {"retired", res.Retired}} {
					if len(l.ids) > 0 {
						_, _ = fmt.Fprintf(w, "%s: %s\n", l.what, strings.Join(l.ids, ", "))
					}
				}
				for _, s := range res.Skipped {
					_, _ = fmt.Fprintf(w, "skipped price %q tier %q: %s\n", s.PriceID, s.TierID, s.Reason)
				}
				return nil
			}),
		}},
	}
}
