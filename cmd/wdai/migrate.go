package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/adapters/postgres"
)

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "apply, roll back or list the schema migrations",
		Commands: []*cli.Command{
			{Name: "up", Usage: "apply every pending migration", Action: withMigrator(func(ctx context.Context, m *postgres.Migrator, out io.Writer) error {
				applied, err := m.Up(ctx)
				if err != nil {
					return err
				}
				if len(applied) == 0 {
					_, _ = fmt.Fprintln(out, "already at head")
					return nil
				}
				for _, v := range applied {
					_, _ = fmt.Fprintf(out, "applied %d\n", v)
				}
				return nil
			})},
			{Name: "down", Usage: "roll back the newest migration", Action: withMigrator(func(ctx context.Context, m *postgres.Migrator, out io.Writer) error {
				v, err := m.Down(ctx)
				if err != nil {
					return err
				}
				if v == 0 {
					_, _ = fmt.Fprintln(out, "nothing to roll back")
					return nil
				}
				_, _ = fmt.Fprintf(out, "rolled back %d\n", v)
				return nil
			})},
			{Name: "status", Usage: "list migrations and whether each is applied", Action: withMigrator(func(ctx context.Context, m *postgres.Migrator, out io.Writer) error {
				st, err := m.Status(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				_, _ = fmt.Fprintln(tw, "VERSION\tSTATE\tSOURCE")
				for _, s := range st {
					state := "pending"
					if s.Applied {
						state = "applied"
					}
					_, _ = fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Version, state, s.Source)
				}
				return tw.Flush()
			})},
		},
	}
}

func withMigrator(fn func(context.Context, *postgres.Migrator, io.Writer) error) cli.ActionFunc {
	return func(ctx context.Context, cmd *cli.Command) error {
		env, err := setup()
		if err != nil {
			return err
		}
		db, err := openDatabase(ctx, env.cfg, env.logger)
		if err != nil {
			return err
		}
		defer db.CloseContext(ctx)
		m, err := postgres.NewMigrator(db.Pool)
		if err != nil {
			return err
		}
		defer func() { _ = m.Close() }()
		return fn(ctx, m, cmd.Root().Writer)
	}
}

// newCheckedMigrator migrates up in development and otherwise checks that the
// database is at head, like serve.
func newCheckedMigrator(ctx context.Context, env environment, db *database) (*postgres.Migrator, error) {
	m, err := postgres.NewMigrator(db.Pool)
	if err != nil {
		return nil, err
	}
	if err := prepareSchema(ctx, env.cfg, m, env.logger); err != nil {
		_ = m.Close()
		return nil, err
	}
	return m, nil
}
