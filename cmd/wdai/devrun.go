package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/internal/devauth"
)

func devFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "sign-in-as", Value: "dev@example.com", Usage: "GraphiQL's prefilled Authorization header signs in as this address"},
		&cli.StringFlag{Name: "role", Value: "admin", Usage: "the role of --sign-in-as: member, leader or admin"},
	}
}

// runDev is `wdai dev`: the stand-ins on loopback, then the server, the
// worker and the embedded database wired to them, GraphiQL signed in as
// --sign-in-as, and the control listener of `wdai dev simulate`.
func runDev(ctx context.Context, cmd *cli.Command) error {
	env, err := setup()
	if err != nil {
		return err
	}
	if !env.cfg.Dev() {
		return errDevOnly
	}
	st, err := startDevStack(ctx, &env.cfg, env.logger)
	if err != nil {
		return err
	}
	defer st.owner.close()
	secret, err := devauth.LoadSecret(env.cfg.DataDir)
	if err != nil {
		return err
	}
	email, role := cmd.String("sign-in-as"), cmd.String("role")
	tok, err := devauth.Mint(secret, devauth.UserID(email), time.Now(), 7*24*time.Hour)
	if err != nil {
		return err
	}
	env.graphiqlHeaders = map[string]string{"Authorization": "Bearer " + tok}
	ctlToken := make([]byte, 24)
	if _, err := rand.Read(ctlToken); err != nil {
		return err
	}
	var stopControl func()
	defer func() {
		if stopControl != nil {
			stopControl()
		}
	}()
	env.onReady = func(sys *system, base string) {
		// The tiers need Stripe prices for checkout; the stand-in takes any.
		if _, err := sys.pool.Exec(ctx, `UPDATE membership_tiers SET stripe_price_id = 'price_dev_' || id WHERE stripe_price_id IS NULL`); err != nil {
			sys.logger.Error("dev: give the tiers stand-in prices", "error", err.Error())
		}
		if _, p, err := devToken(ctx, sys, email, role, time.Hour); err != nil {
			sys.logger.Error("dev: sign-in person", "error", err.Error())
		} else {
			fmt.Fprintf(os.Stderr, "GraphiQL signs in as %s (%s, person %s)\n", email, p.Role, p.ID)
		}
		ctl := &devControl{st: st, sys: sys, base: base, subs: map[string]stripefake.Subscription{}}
		if stopControl, err = ctl.serveControl(ctx, env.cfg.DataDir, hex.EncodeToString(ctlToken)); err != nil {
			sys.logger.Error("dev: control listener", "error", err.Error())
			return
		}
		for _, name := range []string{"stripe", "clerk", "mailchimp", "luma", "slack"} {
			fmt.Fprintf(os.Stderr, "stand-in %-9s %s\n", name+":", st.urls[name])
		}
		fmt.Fprintf(os.Stderr, "wdai dev ready: try `wdai dev token --email you@example.com` and `wdai dev simulate checkout --email you@example.com`\n")
	}
	return serve(ctx, env, true)
}

func devSimulateCommand() *cli.Command {
	return &cli.Command{
		Name:      "simulate",
		Usage:     "make the stand-ins of a running `wdai dev` act: " + strings.Join(simulations, "|"),
		ArgsUsage: "KIND",
		Description: "signup: Clerk's user.created webhook; checkout: a paid subscription checkout (creates the person if needed);\n" +
			"payment-failed: the renewal fails; recover: the payment succeeds; cancel-at-period-end: the member cancels in the\n" +
			"portal; period-end: the paid period ends; rsvp: RSVP to the latest event, then the approval run; rsvp-webhook:\n" +
			"RSVP to the latest event and Luma's signed guest.registered webhook, decided by the worker within seconds;\n" +
			"chat-sync: a Slack account, then the Slack sync.\n" +
			"The stand-ins send signed webhooks to wdai; the command prints them, the state reached, and every provider call.",
		Flags: []cli.Flag{&cli.StringFlag{Name: "email", Required: true, Usage: "the person's address"}},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			env, err := setup()
			if err != nil {
				return err
			}
			if !env.cfg.Dev() {
				return errDevOnly
			}
			kind := cmd.Args().First()
			if cmd.Args().Len() != 1 || !knownSimulation(kind) {
				return fmt.Errorf("name one simulation: %s", strings.Join(simulations, ", "))
			}
			return requestSimulation(ctx, env.cfg.DataDir, kind, cmd.String("email"), cmd.Root().Writer)
		},
	}
}

// requestSimulation asks the running `wdai dev` (found through
// DevControlFile in dataDir) to run a simulation, and copies its report.
func requestSimulation(ctx context.Context, dataDir, kind, email string, out io.Writer) error {
	path := filepath.Join(dataDir, DevControlFile)
	b, err := os.ReadFile(path) //nolint:gosec // the operator's own data folder
	if err != nil {
		return fmt.Errorf("no running `wdai dev` for WDAI_DATA_DIR=%s (%w): start it with `make dev`", dataDir, err)
	}
	var info devControlInfo
	if err := json.Unmarshal(b, &info); err != nil || info.URL == "" {
		return fmt.Errorf("%s is not what `wdai dev` writes; restart `wdai dev`", path)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, info.URL+"/simulate/"+kind+"?email="+url.QueryEscape(email), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+info.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reach `wdai dev` at %s: %w (is it still running?)", info.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := io.Copy(out, io.LimitReader(resp.Body, 1<<20)); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errors.New("the simulation did not complete (see above)")
	}
	return nil
}
