package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
)

func agentKeyCommand() *cli.Command {
	return &cli.Command{
		Name:  "agent-key",
		Usage: "create, list and revoke the API keys of AI agents",
		Commands: []*cli.Command{
			{
				Name:  "create",
				Usage: "create a key and print it once (only a hash of it is kept)",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "name", Required: true, Usage: "what the key is for, unique among active keys"},
					&cli.StringFlag{Name: "scopes", Required: true,
						Usage: "comma-separated scopes (members:read,billing:read,...) and presets (finance, support, engagement)"},
					&cli.StringFlag{Name: "rate-limit", Usage: "requests per minute, e.g. 120/min (default 60/min)"},
					&cli.StringFlag{Name: "expires", Usage: "lifetime, e.g. 720h or 30d (default: never)"},
					&cli.BoolFlag{Name: "allow-mutations", Usage: "let the key run the mutations its scopes allow (queries only otherwise)"},
				},
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					in, err := agentKeyInput(cmd.String("name"), cmd.String("scopes"), cmd.String("rate-limit"), cmd.String("expires"))
					if err != nil {
						return err
					}
					in.AllowMutations = cmd.Bool("allow-mutations")
					created, err := app.Commands.CreateAgentKey.Handle(ctx, in)
					if err != nil {
						return err
					}
					_, _ = fmt.Fprintln(cmd.Root().Writer, created.Plaintext)
					_, _ = fmt.Fprintf(cmd.Root().ErrWriter, "created agent key %s (%s) with %s; the key above is shown once and is not stored\n",
						created.Key.Prefix, created.Key.Name, scopeList(created.Key.Scopes))
					return nil
				}),
			},
			{
				Name:  "list",
				Usage: "list keys: prefix, name, scopes, last used, creator",
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					keys, err := app.Queries.ListAgentKeys.Handle(ctx)
					if err != nil {
						return err
					}
					tw := tabwriter.NewWriter(cmd.Root().Writer, 0, 4, 2, ' ', 0)
					_, _ = fmt.Fprintln(tw, "PREFIX\tNAME\tSCOPES\tMUTATIONS\tRATE\tLAST USED\tCREATED BY\tSTATE")
					for _, k := range keys {
						_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%d/min\t%s\t%s\t%s\n", k.Prefix, k.Name, scopeList(k.Scopes), k.AllowMutations,
							k.RatePerMinute, timeOrDash(k.LastUsedAt), k.CreatedBy, keyState(k))
					}
					return tw.Flush()
				}),
			},
			{
				Name:      "revoke",
				Usage:     "revoke a key by its prefix (audited); its next request gets 401",
				ArgsUsage: "PREFIX",
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					prefix, err := oneArg(cmd)
					if err != nil {
						return err
					}
					k, err := app.Commands.RevokeAgentKey.Handle(ctx, prefix)
					if errors.Is(err, application.ErrNotFound) {
						return fmt.Errorf("no active agent key with prefix %q", prefix)
					}
					if err != nil {
						return err
					}
					_, _ = fmt.Fprintf(cmd.Root().Writer, "revoked %s (%s)\n", k.Prefix, k.Name)
					return nil
				}),
			},
		},
	}
}

// agentKeyInput parses the flags of agent-key create.
func agentKeyInput(name, scopes, rate, expires string) (application.CreateAgentKeyInput, error) {
	in := application.CreateAgentKeyInput{Name: name}
	var err error
	if in.Scopes, err = parseScopesAndPresets(scopes); err != nil {
		return in, err
	}
	if rate != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rate), "/min"))
		if err != nil || n < 1 {
			return in, fmt.Errorf("--rate-limit %q: want a number of requests per minute, e.g. 120/min", rate)
		}
		in.RatePerMinute = n
	}
	if expires != "" {
		if in.ExpiresIn, err = parseLifetime(expires); err != nil {
			return in, err
		}
	}
	return in, nil
}

// parseScopesAndPresets reads "members:read,finance": scopes and presets,
// each scope once.
func parseScopesAndPresets(s string) ([]access.Scope, error) {
	var names []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if preset, err := access.ParsePreset(part); err == nil {
			for _, sc := range preset.Scopes() {
				names = append(names, sc.String())
			}
			continue
		}
		names = append(names, part)
	}
	if len(names) == 0 {
		return nil, errors.New("--scopes: name at least one scope or preset")
	}
	return access.ParseScopes(names)
}

// parseLifetime reads a Go duration or a number of days ("30d").
func parseLifetime(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--expires %q: want a positive duration, e.g. 720h or 30d", s)
	}
	return d, nil
}

func scopeList(scopes []access.Scope) string {
	names := make([]string, 0, len(scopes))
	for _, s := range scopes {
		names = append(names, s.String())
	}
	return strings.Join(names, ",")
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func keyState(k application.AgentKeyView) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked"
	case k.ExpiresAt != nil && !time.Now().Before(*k.ExpiresAt):
		return "expired"
	default:
		return "active"
	}
}
