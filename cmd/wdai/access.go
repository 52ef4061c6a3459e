package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/adapters/messaging"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/ports"
)

// accessPolicy is the configured grace policy and reminder.
func (b *appBuilder) accessPolicy() application.AccessPolicy {
	return application.AccessPolicy{GracePeriod: b.s.cfg.GracePeriod, ReminderBefore: b.s.cfg.ReminderBefore}
}

// access builds the access ledger's use cases.
func (b *appBuilder) access(app *application.App) {
	c, q, policy := &app.Commands, &app.Queries, b.accessPolicy()
	c.GrantAccess = keep(application.NewGrantAccess(b.sc.access, b.st.tiers, b.s.clock, policy)).into(&b.err)
	c.RevokeAccess = keep(application.NewRevokeAccess(b.sc.access, b.s.clock, policy)).into(&b.err)
	c.CheckAccess = keep(application.NewCheckAccess(b.sc.access, b.s.clock, policy)).into(&b.err)
	c.RemindAccessEnding = keep(application.NewRemindAccessEnding(b.sc.access, b.s.clock)).into(&b.err)
	q.GetAccess = keep(application.NewGetAccess(b.st.access, b.s.clock)).into(&b.err)
}

// accessHandlers are the worker's handlers of the access ledger's
// scheduled messages.
func accessHandlers(c application.Commands) []messageHandler {
	return []messageHandler{
		{"access.check", ports.TopicAccessCheck, messaging.Decode(func(ctx context.Context, _ ports.Message, b ports.AccessCheckMessage) error {
			return c.CheckAccess.Handle(ctx, application.CheckAccessInput{PersonID: b.PersonID})
		})},
		{"access.reminder", ports.TopicAccessReminder, messaging.Decode(func(ctx context.Context, _ ports.Message, b ports.AccessReminderMessage) error {
			return c.RemindAccessEnding.Handle(ctx, b)
		})},
	}
}

func accessCommand() *cli.Command {
	person := []cli.Flag{
		&cli.StringFlag{Name: "email", Usage: "a verified address of the person (refused when several people hold it)"},
		&cli.StringFlag{Name: "person-id", Usage: "the person's id"},
	}
	return &cli.Command{
		Name:  "access",
		Usage: "explain, grant and revoke a person's access (the access ledger); never touches billing",
		Commands: []*cli.Command{
			{
				Name:  "show",
				Usage: "show whether a person has access now, until when, and every grant behind it",
				Flags: person,
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					id, err := personToChange(ctx, app, cmd.String("email"), cmd.String("person-id"))
					if err != nil {
						return err
					}
					views, err := app.Queries.GetAccess.Handle(ctx, []string{id})
					if err != nil {
						return err
					}
					printAccess(cmd.Root().Writer, id, views[id])
					return nil
				}),
			},
			{
				Name: "grant",
				Usage: "grant a complimentary membership (a scholarship: --until required) or a manual grant; audited, " +
					"ends on its own, never creates anything at the billing provider",
				Flags: append(person,
					&cli.StringFlag{Name: "kind", Value: "complimentary", Usage: "complimentary or manual"},
					&cli.StringFlag{Name: "tier", Usage: "the tier it gives (a tier id of the pricing page)"},
					&cli.TimestampFlag{Name: "from", Usage: "when it starts (RFC 3339; default now)", Config: cli.TimestampConfig{Layouts: []string{time.RFC3339}}},
					&cli.TimestampFlag{Name: "until", Usage: "when it ends (RFC 3339)", Config: cli.TimestampConfig{Layouts: []string{time.RFC3339}}},
					&cli.StringFlag{Name: "reason", Required: true, Usage: "why (kept in the ledger and the audit log)"},
				),
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					src, err := ledger.ParseSource(cmd.String("kind"))
					if err != nil {
						return err
					}
					id, err := personToChange(ctx, app, cmd.String("email"), cmd.String("person-id"))
					if err != nil {
						return err
					}
					g, err := app.Commands.GrantAccess.Handle(ctx, application.GrantAccessInput{PersonID: id, Source: src,
						TierID: strings.TrimSpace(cmd.String("tier")), From: cmd.Timestamp("from"), Until: cmd.Timestamp("until"), Reason: cmd.String("reason")})
					if err != nil {
						return err
					}
					_, _ = fmt.Fprintf(cmd.Root().Writer, "granted %s access %s to person %s (%s)\n", g.Source, g.ID, g.PersonID, window(g))
					return nil
				}),
			},
			{
				Name:      "revoke",
				Usage:     "end a complimentary or manual grant now; audited. Other grants (a subscription) are untouched",
				ArgsUsage: "GRANT_ID",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "reason", Required: true, Usage: "why"}},
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					id, err := oneArg(cmd)
					if err != nil {
						return err
					}
					g, err := app.Commands.RevokeAccess.Handle(ctx, application.RevokeAccessInput{GrantID: id, Reason: cmd.String("reason")})
					if err != nil {
						return err
					}
					_, _ = fmt.Fprintf(cmd.Root().Writer, "revoked %s access %s of person %s (%s)\n", g.Source, g.ID, g.PersonID, window(g))
					return nil
				}),
			},
		},
	}
}

func window(g ledger.Grant) string {
	if g.Until.IsZero() {
		return "from " + g.From.UTC().Format(time.RFC3339) + ", open"
	}
	return g.From.UTC().Format(time.RFC3339) + " to " + g.Until.UTC().Format(time.RFC3339)
}

func printAccess(w io.Writer, personID string, v application.AccessView) {
	switch {
	case !v.Active:
		_, _ = fmt.Fprintf(w, "person %s has no access now\n", personID)
		return
	case v.Until.IsZero():
		_, _ = fmt.Fprintf(w, "person %s has access, open-ended\n", personID)
	default:
		_, _ = fmt.Fprintf(w, "person %s has access until %s\n", personID, v.Until.UTC().Format(time.RFC3339))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "GRANT\tKIND\tTIER\tWINDOW\tGRANTED BY\tREASON")
	for _, g := range v.Sources {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, g.Source, g.Tier, window(g), g.GrantedBy, g.Reason)
	}
	_ = tw.Flush()
}
