package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/alert"
	"github.com/womendefiningai/platform/adapters/clerk"
	"github.com/womendefiningai/platform/adapters/mailchimp"
	"github.com/womendefiningai/platform/adapters/messaging"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/adapters/stripe"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/ports"
)

// system holds every concrete part, built once per process.
type system struct {
	cfg     config.Config
	logger  *slog.Logger
	pool    *pgxpool.Pool
	uow     *postgres.UnitOfWork
	alerter ports.Alerter
	app     *application.App
	jobs    *application.JobRegistry
	runJob  application.RunJobHandler
	clock   ports.Clock
	// identity is nil when Clerk is not configured.
	identity *identity
}

// identity is the sign-in side: session verification and the webhook.
type identity struct {
	verifier     ports.SessionVerifier
	authenticate application.AuthenticateHandler
	sync         application.SyncIdentityHandler
	webhook      *clerk.WebhookVerifier // nil without CLERK_WEBHOOK_SECRET
}

func buildIdentity(cfg config.Config, pool *pgxpool.Pool, uow ports.UnitOfWork) (*identity, error) {
	if cfg.ClerkSecretKey == "" {
		return nil, nil
	}
	ccfg := clerk.Config{SecretKey: cfg.ClerkSecretKey, APIURL: cfg.ClerkAPIURL, Leeway: cfg.ClerkJWTLeeway}
	verifier, err := clerk.NewVerifier(ccfg)
	if err != nil {
		return nil, err
	}
	directory, err := clerk.NewDirectory(ccfg)
	if err != nil {
		return nil, err
	}
	auth, err := application.NewAuthenticateHandler(postgres.NewPeopleStore(pool), directory)
	if err != nil {
		return nil, err
	}
	sync, err := application.NewSyncIdentityHandler(uow, directory)
	if err != nil {
		return nil, err
	}
	id := &identity{verifier: verifier, authenticate: auth, sync: sync}
	if cfg.ClerkWebhookSecret != "" {
		if id.webhook, err = clerk.NewWebhookVerifier(cfg.ClerkWebhookSecret); err != nil {
			return nil, err
		}
	}
	return id, nil
}

// routerMaxRetries is the router's retries after the first attempt; the job
// runner must know it to tell the last attempt.
const routerMaxRetries = 3

func buildSystem(cfg config.Config, pool *pgxpool.Pool, logger *slog.Logger) (*system, error) {
	return buildSystemWith(cfg, pool, logger, ports.SystemClock{})
}

// buildSystemWith is buildSystem with the clock given (tests control it).
func buildSystemWith(cfg config.Config, pool *pgxpool.Pool, logger *slog.Logger, clock ports.Clock) (*system, error) {
	uow, err := postgres.NewUnitOfWork(pool, postgres.TxFactories{
		Publisher:   func(tx pgx.Tx) ports.Publisher { return messaging.NewTxPublisher(tx) },
		Scheduler:   func(tx pgx.Tx) ports.Scheduler { return messaging.NewTxScheduler(tx) },
		DeadLetters: func(tx pgx.Tx) ports.DeadLetters { return messaging.NewDeadLetterStore(tx) },
	})
	if err != nil {
		return nil, err
	}
	alerter, err := buildAlerter(cfg, logger)
	if err != nil {
		return nil, err
	}
	s := &system{cfg: cfg, logger: logger, pool: pool, uow: uow, alerter: alerter, clock: clock}
	if s.identity, err = buildIdentity(cfg, pool, uow); err != nil {
		return nil, err
	}
	if s.app, err = buildApp(s); err != nil {
		return nil, err
	}
	return s, nil
}

// openSystem is the start of every command that is not serve: configuration,
// database, schema check (migrating up in development) and wiring. The
// returned func closes the pool and stops an embedded cluster.
func openSystem(ctx context.Context) (*system, func(), error) {
	env, err := setup()
	if err != nil {
		return nil, nil, err
	}
	db, err := openDatabase(ctx, env.cfg, env.logger)
	if err != nil {
		return nil, nil, err
	}
	m, err := newCheckedMigrator(ctx, env, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	_ = m.Close()
	sys, err := buildSystem(env.cfg, db.Pool, env.logger)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return sys, db.Close, nil
}

// buildAlerter always logs, and also posts to Slack when configured.
func buildAlerter(cfg config.Config, logger *slog.Logger) (ports.Alerter, error) {
	alerters := alert.Fanout{alert.NewLog(logger)}
	if cfg.AlertSlackWebhookURL != "" {
		slack, err := alert.NewSlack(cfg.AlertSlackWebhookURL, &http.Client{Timeout: 10 * time.Second})
		if err != nil {
			return nil, err
		}
		alerters = append(alerters, slack)
	}
	return alerters, nil
}

func buildApp(s *system) (*application.App, error) {
	tierStore := postgres.NewTierStore(s.pool)
	peopleStore, membershipStore := postgres.NewPeopleStore(s.pool), postgres.NewMembershipStore(s.pool)
	tiers, err := application.NewMembershipTiersHandler(tierStore)
	if err != nil {
		return nil, err
	}
	deadLetters, err := application.NewDeadLettersHandler(messaging.NewDeadLetterStore(s.pool))
	if err != nil {
		return nil, err
	}
	resolve, err := application.NewResolveDeadLetterHandler(s.uow)
	if err != nil {
		return nil, err
	}
	people, err := application.NewPeopleHandler(peopleStore, membershipStore, s.uow)
	if err != nil {
		return nil, err
	}
	billingAPI, err := buildBillingAPI(s.cfg)
	if err != nil {
		return nil, err
	}
	ingest, err := postgres.NewBillingIngest(s.pool, func(ctx context.Context, msgs ...ports.Message) ([]postgres.Statement, error) {
		stmts, err := messaging.OutboxStatements(ctx, msgs...)
		out := make([]postgres.Statement, len(stmts))
		for i, st := range stmts {
			out[i] = postgres.Statement(st)
		}
		return out, err
	})
	if err != nil {
		return nil, err
	}
	billing, err := application.NewBillingHandler(application.BillingDeps{
		Billing: billingAPI, UoW: s.uow, Tiers: tierStore, People: peopleStore, Memberships: membershipStore,
		Inbox: postgres.NewBillingInbox(s.pool), Ingest: ingest, Alerter: s.alerter, Clock: s.clock,
		Config: application.BillingConfig{
			CheckoutSuccessURL: s.cfg.StripeCheckoutSuccessURL, CheckoutCancelURL: s.cfg.StripeCheckoutCancelURL, PortalReturnURL: s.cfg.StripePortalReturnURL,
		},
	})
	if err != nil {
		return nil, err
	}
	list, err := mailchimp.New(mailchimp.Config{APIKey: s.cfg.MailchimpAPIKey, ListID: s.cfg.MailchimpListID, APIURL: s.cfg.MailchimpAPIURL,
		HTTPClient: &http.Client{Timeout: s.cfg.MailchimpTimeout}})
	if err != nil {
		return nil, err
	}
	emailSync, err := application.NewEmailSyncHandler(list, peopleStore, membershipStore, postgres.NewIntegrationStore(s.pool), application.EmailSyncConfig{
		Journeys: map[string]application.Journey{
			application.JourneyWelcome:       {JourneyID: s.cfg.MailchimpWelcomeJourneyID, StepID: s.cfg.MailchimpWelcomeStepID},
			application.JourneyPaymentFailed: {JourneyID: s.cfg.MailchimpPaymentFailedJourneyID, StepID: s.cfg.MailchimpPaymentFailedStepID},
			application.JourneyWinBack:       {JourneyID: s.cfg.MailchimpWinBackJourneyID, StepID: s.cfg.MailchimpWinBackStepID},
		},
	})
	if err != nil {
		return nil, err
	}

	jobs := application.DefaultJobs()
	jobs[application.JobMailchimpResync] = func(ctx context.Context) (map[string]any, error) {
		res, err := emailSync.Resync(ctx, false, nil)
		if res.Skipped {
			return map[string]any{"outcome": "skipped", "reason": "not configured"}, err
		}
		return map[string]any{"outcome": "synced", "people": res.People, "batch_calls": res.BatchCalls, "tag_calls": res.TagCalls, "errors": res.Errors}, err
	}
	jobs[application.JobStripeReconcile] = func(ctx context.Context) (map[string]any, error) {
		res, err := billing.Reconcile(ctx, time.Now().Add(-application.DefaultReconcileWindow), false, nil)
		if errors.Is(err, ports.ErrNotConfigured) {
			return map[string]any{"outcome": "skipped", "reason": "not configured"}, nil
		}
		return map[string]any{"outcome": "reconciled", "seen": res.Seen, "present": res.Present, "enqueued": res.Enqueued, "requeued": res.Requeued}, err
	}
	if s.jobs, err = application.NewJobRegistry(jobs); err != nil {
		return nil, err
	}
	enqueue, err := application.NewEnqueueJobHandler(s.uow, s.jobs)
	if err != nil {
		return nil, err
	}
	if s.runJob, err = application.NewRunJobHandler(s.uow, s.jobs, routerMaxRetries+1); err != nil {
		return nil, err
	}
	return &application.App{
		Commands: application.Commands{ResolveDeadLetter: resolve, EnqueueJob: enqueue, Billing: billing, EmailSync: emailSync},
		Queries:  application.Queries{MembershipTiers: tiers, DeadLetters: deadLetters, People: people},
	}, nil
}

// buildBillingAPI returns the Stripe client, or nil when STRIPE_SECRET_KEY
// is unset (billing then answers "not configured").
func buildBillingAPI(cfg config.Config) (ports.Billing, error) {
	if cfg.StripeSecretKey == "" {
		return nil, nil
	}
	return stripe.NewBilling(stripe.Config{SecretKey: cfg.StripeSecretKey, APIURL: cfg.StripeAPIURL})
}
