package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

func personCommand() *cli.Command {
	return &cli.Command{
		Name:  "person",
		Usage: "manage people",
		Commands: []*cli.Command{
			{
				Name: "set-role",
				Usage: "give a person a role (member, leader or admin); audited. Name the person by --person-id, " +
					"or by a verified --email that exactly one person holds",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "email", Usage: "a verified address of the person (refused when several people hold it)"},
					&cli.StringFlag{Name: "person-id", Usage: "the person's id"},
					&cli.StringFlag{Name: "role", Required: true, Usage: "member, leader or admin"},
				},
				Action: withApp(func(ctx context.Context, app *application.App, cmd *cli.Command) error {
					role, err := access.ParseRole(cmd.String("role"))
					if err != nil {
						return err
					}
					id, err := personToChange(ctx, app, cmd.String("email"), cmd.String("person-id"))
					if err != nil {
						return err
					}
					m, err := app.Commands.SetPersonRole.Handle(ctx, application.SetPersonRoleInput{PersonID: id, Role: role})
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

// personToChange resolves exactly one of --email and --person-id to a
// person id. An address several people hold is refused: choosing one of
// them (the oldest, say) would hand the role to whoever claimed it first.
func personToChange(ctx context.Context, app *application.App, email, personID string) (string, error) {
	email, personID = strings.TrimSpace(email), strings.TrimSpace(personID)
	switch {
	case (email == "") == (personID == ""):
		return "", errors.New("name the person with exactly one of --email and --person-id")
	case personID != "":
		return personID, nil
	}
	p, err := app.Queries.FindPersonByEmail.Handle(ctx, email)
	if errors.Is(err, ports.ErrAmbiguous) {
		return "", fmt.Errorf("find person: %w; nothing changed: check which one is meant and use --person-id", err)
	}
	if err != nil {
		return "", fmt.Errorf("find person: %w", err)
	}
	return p.ID, nil
}
