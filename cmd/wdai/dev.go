package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/internal/devauth"
	"github.com/womendefiningai/platform/ports"
)

// errDevOnly refuses the development commands in production.
var errDevOnly = errors.New("development only: WDAI_ENV is production")

func devCommand() *cli.Command {
	return &cli.Command{
		Name:  "dev",
		Usage: "run everything locally with provider stand-ins; sign in; simulate provider events (development only)",
		Description: "`wdai dev` runs the server, the worker and the embedded database with stand-ins for Stripe, Clerk,\n" +
			"Mailchimp, Luma and Slack as HTTP servers on loopback, wired in. Refused when WDAI_ENV=production.",
		Action: runDev,
		Flags:  devFlags(),
		Commands: []*cli.Command{
			devTokenCommand(),
			devSimulateCommand(),
		},
	}
}

func devTokenCommand() *cli.Command {
	return &cli.Command{
		Name:  "token",
		Usage: "create or update a person and print a development session token for them",
		Description: "The token is accepted by a development server as \"Authorization: Bearer <token>\"; production refuses it.\n" +
			"The person is created (or updated) with the address, verified, and given --role.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "email", Required: true, Usage: "the person's address"},
			&cli.StringFlag{Name: "role", Value: "member", Usage: "member, leader or admin"},
			&cli.DurationFlag{Name: "ttl", Value: 24 * time.Hour, Usage: "how long the token is valid"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			sys, closeSystem, err := openSystem(ctx)
			if err != nil {
				return err
			}
			defer closeSystem()
			tok, person, err := devToken(ctx, sys, cmd.String("email"), cmd.String("role"), cmd.Duration("ttl"))
			if err != nil {
				return err
			}
			_, _ = fmt.Fprintln(cmd.Root().Writer, tok)
			_, _ = fmt.Fprintf(cmd.Root().ErrWriter, "signed in as %s (person %s, %s) until %s; send it as: Authorization: Bearer <token>\n",
				cmd.String("email"), person.ID, person.Role, time.Now().Add(cmd.Duration("ttl")).UTC().Format(time.RFC3339))
			return nil
		},
	}
}

// devToken creates or updates the person with the address and role and
// mints a development token for them.
func devToken(ctx context.Context, sys *system, email, roleName string, ttl time.Duration) (string, ports.Person, error) {
	if !sys.cfg.Dev() {
		return "", ports.Person{}, errDevOnly
	}
	email = strings.TrimSpace(email)
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || len(email) > 254 {
		return "", ports.Person{}, fmt.Errorf("--email: %q is not an address like ada@example.com", email)
	}
	role, err := access.ParseRole(roleName)
	if err != nil {
		return "", ports.Person{}, fmt.Errorf("--role: %w", err)
	}
	if ttl <= 0 || ttl > 30*24*time.Hour {
		return "", ports.Person{}, fmt.Errorf("--ttl: must be between 1s and 720h, got %s", ttl)
	}
	uid := devauth.UserID(email)
	up, err := postgres.NewPeopleStore(sys.pool).UpsertFromIdentity(ctx, ports.IdentityUser{
		ID: uid, Emails: []ports.IdentityEmail{{Address: email, Verified: true}}, PrimaryEmail: email,
		FirstName: local, LastName: "(dev)",
	})
	if err != nil {
		return "", ports.Person{}, err
	}
	person := up.Person
	if person.Role != role {
		p, err := access.NewSystem("cli:dev-token")
		if err != nil {
			return "", ports.Person{}, err
		}
		m, err := sys.app.Commands.SetPersonRole.Handle(application.WithPrincipal(ctx, p),
			application.SetPersonRoleInput{PersonID: person.ID, Role: role})
		if err != nil {
			return "", ports.Person{}, err
		}
		person.Role = m.Role
	}
	secret, err := devauth.LoadSecret(sys.cfg.DataDir)
	if err != nil {
		return "", ports.Person{}, err
	}
	tok, err := devauth.Mint(secret, uid, time.Now(), ttl)
	return tok, person, err
}
