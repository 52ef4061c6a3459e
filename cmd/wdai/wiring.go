package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/womendefiningai/platform/adapters/alert"
	"github.com/womendefiningai/platform/adapters/clerk"
	"github.com/womendefiningai/platform/adapters/mailchimp"
	"github.com/womendefiningai/platform/adapters/messaging"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/adapters/stripe"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/internal/breaker"
	"github.com/womendefiningai/platform/internal/callstats"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/devauth"
	"github.com/womendefiningai/platform/ports"
)

// The jobs the platform runs, by the names the scheduler, /jobs/{name} and
// `wdai job run` use. A job whose provider is not configured records its
// runs as skipped: not configured.
const (
	jobEventApproval   = "luma_approval"
	jobChatSync        = "slack_sync"
	jobEmailListResync = "mailchimp_resync"
	jobBillingRecon    = "stripe_reconcile"
	jobTiersSync       = "stripe_tiers_sync"
)

// system holds every concrete part, built once per process.
type system struct {
	cfg     config.Config
	logger  *slog.Logger
	pool    *pgxpool.Pool
	uow     *postgres.UnitOfWork
	alerter ports.Alerter
	app     *application.App
	clock   ports.Clock
	// signIn verifies sessions (unconfigured without CLERK_SECRET_KEY);
	// identityWebhook is nil without CLERK_WEBHOOK_SECRET.
	signIn          ports.SessionVerifier
	identityWebhook *clerk.WebhookVerifier
	// breakers guard every provider's calls (shared by HTTP and the
	// worker); providers are kept for the worker's system (workerSystem).
	breakers  *breaker.Set
	providers providers
	// calls counts every provider call of this process (health, metrics).
	calls *callstats.Recorder
	// gatherer is the HTTP metrics' registry (nil without HTTP): the
	// health sampler reads the API latency from it.
	gatherer prometheus.Gatherer
	// graphiqlHeaders prefill GraphiQL's headers (`wdai dev`: sign in as).
	graphiqlHeaders map[string]string
}

// resyncPageBudget bounds one page of the email-list resync, and
// reconcilePageBudget one page of the billing reconciliation.
const (
	resyncPageBudget    = 15 * time.Second
	reconcilePageBudget = 15 * time.Second
)

// jobPageTimeout is the time of one delivery of a job.run message (one
// page): two page budgets, so that a quick retry of a page gets a whole
// budget, and the writes around them.
const jobPageTimeout = 2*15*time.Second + 10*time.Second

// routerMaxRetries is the router's retries after the first attempt; the job
// runner must know it to tell the last attempt.
const routerMaxRetries = 3

func buildSystem(cfg config.Config, pool *pgxpool.Pool, logger *slog.Logger) (*system, error) {
	return buildSystemWith(cfg, pool, logger, ports.SystemClock{})
}

// buildSystemWith is buildSystem with the clock given (tests control it).
func buildSystemWith(cfg config.Config, pool *pgxpool.Pool, logger *slog.Logger, clock ports.Clock) (*system, error) {
	uow, err := newUnitOfWork(pool)
	if err != nil {
		return nil, err
	}
	alerter, err := buildAlerter(cfg, logger)
	if err != nil {
		return nil, err
	}
	s := &system{cfg: cfg, logger: logger, pool: pool, uow: uow, alerter: alerter, clock: clock,
		breakers: breaker.New(breaker.Config{Failures: uint32(cfg.ProviderBreakerFailures), OpenFor: cfg.ProviderBreakerOpenFor}, //nolint:gosec // bounded by config validation
			providerStripe, providerMailchimp, providerClerk)}
	s.calls = callstats.New(newProcessID(), s.breakers.States, providerNames...)
	s.breakers.Observe(s.calls)
	if err := limitProviders(s); err != nil {
		return nil, err
	}
	p, err := buildProviders(cfg, s.breakers)
	if err != nil {
		return nil, err
	}
	s.providers = p
	s.signIn, s.identityWebhook = p.signIn, p.identityWebhook
	if s.app, err = buildApp(s, p); err != nil {
		return nil, err
	}
	return s, nil
}

// newUnitOfWork is the one way to run a transaction: the stores of
// adapters/postgres, with the outbox and dead letters of adapters/messaging.
func newUnitOfWork(pool *pgxpool.Pool) (*postgres.UnitOfWork, error) {
	return postgres.NewUnitOfWork(pool, postgres.TxFactories{
		Publisher:   func(q postgres.Querier) ports.Publisher { return messaging.NewTxPublisher(q) },
		Scheduler:   func(q postgres.Querier) ports.Scheduler { return messaging.NewTxScheduler(q) },
		DeadLetters: func(q postgres.Querier) ports.DeadLetters { return messaging.NewDeadLetterStore(q) },
	})
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
		db.CloseContext(ctx)
		return nil, nil, err
	}
	if err := m.Close(); err != nil {
		env.logger.Warn("close the migrator", "error", err.Error())
	}
	sys, err := buildSystem(env.cfg, db.Pool, env.logger)
	if err != nil {
		db.CloseContext(ctx)
		return nil, nil, err
	}
	// The close func runs after ctx is cancelled (at shutdown): it keeps
	// ctx's values, not its cancellation.
	closeCtx := context.WithoutCancel(ctx)
	return sys, func() { db.CloseContext(closeCtx) }, nil
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

// providers are the provider adapters, each in its unconfigured form when
// its credentials are missing.
type providers struct {
	billing         *stripe.Billing
	list            *mailchimp.Client
	signIn          ports.SessionVerifier
	directory       ports.IdentityDirectory
	identityWebhook *clerk.WebhookVerifier
	chat            ports.ChatDirectory
	events          ports.EventPlatform // built with the app: it shares a limit in the database
}

// Provider names, for their circuit breakers and metrics.
const (
	providerStripe    = "stripe"
	providerMailchimp = "mailchimp"
	providerClerk     = "clerk"
)

// buildProviders builds the provider adapters; each one's HTTP calls go
// through its circuit breaker in breakers.
func buildProviders(cfg config.Config, breakers *breaker.Set) (providers, error) {
	var p providers
	var err error
	p.billing = stripe.Unconfigured()
	if cfg.StripeSecretKey != "" {
		if p.billing, err = stripe.NewBilling(stripe.Config{SecretKey: cfg.StripeSecretKey, APIURL: cfg.StripeAPIURL,
			HTTPClient: breakers.Client(providerStripe, nil, 80*time.Second)}); err != nil {
			return p, err
		}
	}
	if p.list, err = mailchimp.New(mailchimp.Config{APIKey: cfg.MailchimpAPIKey, ListID: cfg.MailchimpListID, APIURL: cfg.MailchimpAPIURL,
		HTTPClient: breakers.Client(providerMailchimp, &http.Client{Timeout: cfg.MailchimpTimeout}, 0)}); err != nil {
		return p, err
	}
	if p.chat, err = buildChatDirectory(cfg, breakers); err != nil {
		return p, err
	}
	p.signIn, p.directory = clerk.UnconfiguredVerifier(), clerk.UnconfiguredDirectory()
	if cfg.ClerkSecretKey != "" {
		ccfg := clerk.Config{SecretKey: cfg.ClerkSecretKey, APIURL: cfg.ClerkAPIURL, Leeway: cfg.ClerkJWTLeeway,
			Issuer: cfg.ClerkIssuer, AuthorizedParties: cfg.ClerkAuthorizedParties,
			HTTPClient: breakers.Client(providerClerk, nil, 5*time.Second)}
		if p.signIn, err = clerk.NewVerifier(ccfg); err != nil {
			return p, err
		}
		if p.directory, err = clerk.NewDirectory(ccfg); err != nil {
			return p, err
		}
		if cfg.ClerkWebhookSecret != "" {
			if p.identityWebhook, err = clerk.NewWebhookVerifier(cfg.ClerkWebhookSecret); err != nil {
				return p, err
			}
		}
	}
	// Development sign-in (`wdai dev token`): never in production.
	if cfg.Dev() {
		if p.signIn, err = devauth.NewVerifier(cfg.DataDir, p.signIn); err != nil {
			return p, err
		}
	}
	return p, nil
}

// scopes are the transaction scopes the use cases run in.
type scopes struct {
	membership  ports.UnitOfWork[ports.MembershipTx]
	people      ports.UnitOfWork[ports.PeopleTx]
	link        ports.UnitOfWork[ports.CustomerLinkTx]
	email       ports.UnitOfWork[ports.EmailSyncTx]
	inbox       ports.UnitOfWork[ports.BillingInboxTx]
	jobs        ports.UnitOfWork[ports.JobTx]
	deadLetters ports.UnitOfWork[ports.DeadLetterTx]
	access      ports.UnitOfWork[ports.AccessTx]
}

func buildScopes(u *postgres.UnitOfWork) (scopes, error) {
	var s scopes
	var err error
	if s.membership, err = postgres.Scope[ports.MembershipTx](u); err != nil {
		return s, err
	}
	if s.people, err = postgres.Scope[ports.PeopleTx](u); err != nil {
		return s, err
	}
	if s.link, err = postgres.Scope[ports.CustomerLinkTx](u); err != nil {
		return s, err
	}
	if s.email, err = postgres.Scope[ports.EmailSyncTx](u); err != nil {
		return s, err
	}
	if s.inbox, err = postgres.Scope[ports.BillingInboxTx](u); err != nil {
		return s, err
	}
	if s.jobs, err = postgres.Scope[ports.JobTx](u); err != nil {
		return s, err
	}
	if s.access, err = postgres.Scope[ports.AccessTx](u); err != nil {
		return s, err
	}
	s.deadLetters, err = postgres.Scope[ports.DeadLetterTx](u)
	return s, err
}

// stores are the PostgreSQL stores used outside transactions.
type stores struct {
	tiers        *postgres.TierStore
	people       *postgres.PeopleStore
	memberships  *postgres.MembershipStore
	inbox        *postgres.BillingInbox
	integrations *postgres.IntegrationStore
	deadLetters  *messaging.DeadLetterStore
	access       *postgres.AccessStore
}

func buildApp(s *system, p providers) (*application.App, error) {
	sc, err := buildScopes(s.uow)
	if err != nil {
		return nil, err
	}
	st := stores{tiers: postgres.NewTierStore(s.pool), people: postgres.NewPeopleStore(s.pool), memberships: postgres.NewMembershipStore(s.pool),
		inbox: postgres.NewBillingInbox(s.pool), integrations: postgres.NewIntegrationStore(s.pool), deadLetters: messaging.NewDeadLetterStore(s.pool),
		access: postgres.NewAccessStore(s.pool)}
	b := appBuilder{s: s, p: p, sc: sc, st: st}
	app := &application.App{}
	for _, step := range []func(*application.App){b.people, b.billing, b.access, b.email, b.chat, b.events, b.jobs, b.deadLetters, b.agents, b.health} {
		if step(app); b.err != nil {
			return nil, b.err
		}
	}
	return app, nil
}

// appBuilder builds the use cases area by area, keeping the first error.
type appBuilder struct {
	s   *system
	p   providers
	sc  scopes
	st  stores
	err error
}

// built is a constructor's result: keep(application.NewX(...)).into(&b.err)
// returns the use case and records the first error.
type built[T any] struct {
	v   T
	err error
}

func keep[T any](v T, err error) built[T] { return built[T]{v: v, err: err} }

func (k built[T]) into(first *error) T {
	if k.err != nil && *first == nil {
		*first = k.err
	}
	return k.v
}

func (b *appBuilder) people(app *application.App) {
	c, q, st := &app.Commands, &app.Queries, b.st
	c.Authenticate = keep(application.NewAuthenticate(st.people, b.p.directory, b.s.clock)).into(&b.err)
	c.SyncIdentity = keep(application.NewSyncIdentity(b.sc.people, b.p.directory)).into(&b.err)
	c.UpdateMyProfile = keep(application.NewUpdateMyProfile(b.sc.people)).into(&b.err)
	c.SetMyVisibility = keep(application.NewSetMyVisibility(b.sc.membership, b.s.clock)).into(&b.err)
	c.SetPersonRole = keep(application.NewSetPersonRole(b.sc.people)).into(&b.err)
	q.ListMembershipTiers = keep(application.NewListMembershipTiers(st.tiers)).into(&b.err)
	q.GetMe = keep(application.NewGetMe(st.people)).into(&b.err)
	q.GetMember = keep(application.NewGetMember(st.people, st.memberships, st.access, b.s.clock)).into(&b.err)
	q.ListMembers = keep(application.NewListMembers(st.people, b.s.clock)).into(&b.err)
	q.GetMemberships = keep(application.NewGetMemberships(st.memberships, st.access, b.s.clock)).into(&b.err)
	q.FindPersonByEmail = keep(application.NewFindPersonByEmail(st.people)).into(&b.err)
}

func (b *appBuilder) billing(app *application.App) {
	c, st, cfg := &app.Commands, b.st, b.s.cfg
	c.IngestBillingEvent = keep(application.NewIngestBillingEvent(b.sc.inbox)).into(&b.err)
	c.SyncSubscription = keep(application.NewSyncSubscription(application.SyncSubscriptionDeps{
		Billing: b.p.billing, Memberships: st.memberships, People: st.people, Tiers: st.tiers,
		UoW: b.sc.membership, Alerter: b.s.alerter, Clock: b.s.clock, SnapshotClock: postgres.NewDatabaseClock(b.s.pool), Access: b.accessPolicy(),
	})).into(&b.err)
	c.CompleteCheckout = keep(application.NewCompleteCheckout(b.sc.link, c.SyncSubscription, b.s.alerter)).into(&b.err)
	c.NotifyPaymentFailed = keep(application.NewNotifyPaymentFailed(c.SyncSubscription, st.memberships, st.people, b.sc.inbox)).into(&b.err)
	c.ProcessBillingEvent = keep(application.NewProcessBillingEvent(application.ProcessBillingEventDeps{
		Inbox: st.inbox, Billing: b.p.billing, Sync: c.SyncSubscription, Checkout: c.CompleteCheckout, PaymentFailed: c.NotifyPaymentFailed,
	})).into(&b.err)
	c.ReachPeriodEnd = keep(application.NewReachPeriodEnd(b.p.billing, c.SyncSubscription, b.sc.membership, b.s.clock)).into(&b.err)
	c.StartCheckout = keep(application.NewStartCheckout(application.StartCheckoutDeps{Billing: b.p.billing, Tiers: st.tiers, People: st.people,
		Checkouts: postgres.NewOpenCheckoutStore(b.s.pool), Clock: b.s.clock,
		URLs: application.CheckoutURLs{Success: cfg.StripeCheckoutSuccessURL, Cancel: cfg.StripeCheckoutCancelURL}})).into(&b.err)
	c.OpenBillingPortal = keep(application.NewOpenBillingPortal(b.p.billing, st.people, cfg.StripePortalReturnURL)).into(&b.err)
	c.SyncTiers = keep(application.NewSyncTiers(b.p.billing, st.tiers)).into(&b.err)
	requeue := application.DefaultRequeue
	requeue.StuckAfter, requeue.ExpireAfter = cfg.ReconcileStuckAfter, cfg.ReconcileExpireAfter
	c.ReconcileBilling = keep(application.NewReconcileBilling(application.ReconcileBillingDeps{
		Billing: b.p.billing, Inbox: st.inbox, Ingest: c.IngestBillingEvent, UoW: b.sc.inbox, Alerter: b.s.alerter, Requeue: requeue,
	})).into(&b.err)
}

func (b *appBuilder) email(app *application.App) {
	c, st, cfg := &app.Commands, b.st, b.s.cfg
	deps := application.EmailSyncDeps{List: b.p.list, People: st.people, Memberships: st.memberships, Access: st.access, Clock: b.s.clock,
		Integrations: st.integrations, UoW: b.sc.email,
		Journeys: application.Journeys{
			application.JourneyWelcome:       {JourneyID: cfg.MailchimpWelcomeJourneyID, StepID: cfg.MailchimpWelcomeStepID},
			application.JourneyPaymentFailed: {JourneyID: cfg.MailchimpPaymentFailedJourneyID, StepID: cfg.MailchimpPaymentFailedStepID},
			application.JourneyWinBack:       {JourneyID: cfg.MailchimpWinBackJourneyID, StepID: cfg.MailchimpWinBackStepID},
			application.JourneyWelcomeBack:   {JourneyID: cfg.MailchimpWelcomeBackJourneyID, StepID: cfg.MailchimpWelcomeBackStepID},
			application.JourneyRecovered:     {JourneyID: cfg.MailchimpRecoveredJourneyID, StepID: cfg.MailchimpRecoveredStepID},
			application.JourneyAlumni:        {JourneyID: cfg.MailchimpAlumniJourneyID, StepID: cfg.MailchimpAlumniStepID},
			application.JourneyAccessEnding:  {JourneyID: cfg.EndingJourneyID, StepID: cfg.EndingStepID},
		}}
	c.SyncMemberEmail = keep(application.NewSyncMemberEmail(deps)).into(&b.err)
	c.MoveMemberEmail = keep(application.NewMoveMemberEmail(deps)).into(&b.err)
	c.ErasePerson = keep(application.NewErasePerson(application.ErasePersonDeps{Billing: b.p.billing, List: b.p.list, Memberships: st.memberships,
		Integrations: st.integrations, Audit: postgres.NewAuditLog(b.s.pool), AtPeriodEnd: cfg.ErasureCancelAtPeriodEnd})).into(&b.err)
	c.ResyncEmailList = keep(application.NewResyncEmailList(application.ResyncEmailListDeps{List: b.p.list, People: st.people, Person: st.people,
		Memberships: st.memberships, Access: st.access, Clock: b.s.clock, Integrations: st.integrations, UoW: deps.UoW})).into(&b.err)
}

// jobs registers every job with its runner; it needs the email and billing
// use cases built first.
func (b *appBuilder) jobs(app *application.App) {
	c := &app.Commands
	registry := keep(application.NewPagedJobRegistry(nil, map[string]application.PagedJob{
		// One page lists up to 1,000 billing events; the window follows the
		// wall clock, not a test's. A page only reads and ingests
		// idempotently, so one in flight at a crash runs again.
		jobBillingRecon: {Page: c.ReconcileBilling.Page(ports.SystemClock{}), Budget: reconcilePageBudget, Repeatable: true},
		// The only page reads up to 1,000 prices (10 calls) and writes the
		// tiers idempotently; unconfigured, the run is recorded as skipped.
		jobTiersSync: {Page: c.SyncTiers.Page, Budget: reconcilePageBudget, Repeatable: true},
		// One page is one batch call of up to 500 people and their tag
		// updates; its budget stays inside the router's handler timeout.
		jobEmailListResync: {Page: c.ResyncEmailList.Page, Budget: resyncPageBudget},
		// One page is one directory page of up to 1,000 accounts, or 1,000
		// unmatched members; unconfigured, the run is recorded as skipped.
		jobChatSync: {Page: c.SyncChatStatus.Page, Budget: chatPageBudget},
		// One page is one event's guest-list page of up to 25 guests and
		// their updates; unconfigured, the run is recorded as skipped.
		jobEventApproval: {Page: c.ApproveRSVPs.Handle, Budget: approvalPageBudget},
	})).into(&b.err)
	if b.err != nil {
		return
	}
	c.EnqueueJob = keep(application.NewEnqueueJob(b.sc.jobs, registry)).into(&b.err)
	c.RunJob = keep(application.NewRunJob(b.sc.jobs, registry, routerMaxRetries+1)).into(&b.err)
	app.Queries.ListJobs = keep(application.NewListJobs(registry)).into(&b.err)
	runs := postgres.NewJobRuns(b.s.pool)
	app.Queries.ListJobRuns = keep(application.NewListJobRuns(runs, registry)).into(&b.err)
	app.Queries.GetJobRun = keep(application.NewGetJobRun(runs)).into(&b.err)
}

// agents: agent keys (their own transaction scope, audited), the key check
// and the audit of every agent call.
func (b *appBuilder) agents(app *application.App) {
	c, pool := &app.Commands, b.s.pool
	uow := keep(postgres.Scope[ports.AgentKeyTx](b.s.uow)).into(&b.err)
	keys, reports, people := postgres.NewAgentKeyStore(pool), postgres.NewAgentReports(pool), postgres.NewPeopleStore(pool)
	c.CreateAgentKey = keep(application.NewCreateAgentKey(uow)).into(&b.err)
	c.RevokeAgentKey = keep(application.NewRevokeAgentKey(uow)).into(&b.err)
	c.AuthenticateAgent = keep(application.NewAuthenticateAgent(keys)).into(&b.err)
	c.RecordAgentCall = keep(application.NewRecordAgentCall(postgres.NewAuditLog(pool))).into(&b.err)
	q := &app.Queries
	q.ListAgentKeys = keep(application.NewListAgentKeys(keys)).into(&b.err)
	q.GetMembershipSummary = keep(application.NewGetMembershipSummary(reports)).into(&b.err)
	q.ListPastDueMembers = keep(application.NewListPastDueMembers(people)).into(&b.err)
	q.ListPaymentFailures = keep(application.NewListPaymentFailures(reports, people)).into(&b.err)
	q.FindMemberByEmail = keep(application.NewFindMemberByEmail(people)).into(&b.err)
	q.GetMemberTimeline = keep(application.NewGetMemberTimeline(reports)).into(&b.err)
	q.ListRSVPDecisions = keep(application.NewListRSVPDecisions(reports)).into(&b.err)
}

func (b *appBuilder) deadLetters(app *application.App) {
	app.Commands.ReplayDeadLetter = keep(application.NewReplayDeadLetter(b.sc.deadLetters)).into(&b.err)
	app.Commands.AbandonDeadLetter = keep(application.NewAbandonDeadLetter(b.sc.deadLetters)).into(&b.err)
	app.Queries.ListDeadLetters = keep(application.NewListDeadLetters(b.st.deadLetters)).into(&b.err)
	app.Queries.GetDeadLetter = keep(application.NewGetDeadLetter(b.st.deadLetters)).into(&b.err)
	app.Queries.ListDuplicateSubscriptions = keep(application.NewListDuplicateSubscriptions(postgres.NewDuplicateSubscriptions(b.s.pool))).into(&b.err)
}
