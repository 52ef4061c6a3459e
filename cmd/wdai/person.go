package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
)

func personCommand() *cli.Command {
	return &cli.Command{
		Name:  "person",
		Usage: "manage people",
		Commands: []*cli.Command{
			{
				Name:  "set-role",
				Usage: "give the person with this email a role (member, leader or admin); audited",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "email", Required: true},
					&cli.StringFlag{Name: "role", Required: true, Usage: "member, leader or admin"},
				},
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					role, err := access.ParseRole(cmd.String("role"))
					if err != nil {
						return err
					}
					p, err := app.Queries.FindPersonByEmail.Handle(ctx, cmd.String("email"))
					if err != nil {
						return fmt.Errorf("find person: %w", err)
					}
					m, err := app.Commands.SetPersonRole.Handle(ctx, application.SetPersonRoleInput{PersonID: p.ID, Role: role})
					if err != nil {
						return err
					}
					_, _ = fmt.Fprintf(cmd.Root().Writer, "person %s is now %s\n", m.ID, m.Role)
					return nil
				}),
			},
		},
	}
}
