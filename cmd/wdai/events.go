package main

import (
	"context"
	"net/http"
	"time"

	"github.com/womendefiningai/platform/adapters/httpapi"
	"github.com/womendefiningai/platform/adapters/luma"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/approval"
	"github.com/womendefiningai/platform/internal/breaker"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/ports"
)

// approvalPageBudget bounds one page of the approval job (one guest-list
// call and up to application.RSVPPageSize updates at Luma's rate), inside
// the router's handler timeout.
const approvalPageBudget = 15 * time.Second

// buildEventPlatform returns the Luma client, unconfigured without a key.
// Its calls go through Luma's circuit breaker, and every replica spends
// from one rate allowance kept in PostgreSQL.
func buildEventPlatform(cfg config.Config, breakers *breaker.Set, shared ports.RateLimiter) (*luma.Client, error) {
	return luma.New(luma.Config{APIKey: cfg.LumaAPIKey, APIURL: cfg.LumaAPIURL,
		HTTPClient: breakers.Client(luma.Provider, &http.Client{Timeout: cfg.LumaTimeout}, 0),
		RateLimit:  cfg.LumaRateLimit, RateWindow: cfg.LumaRateWindow, Shared: shared})
}

// events builds the community events' use cases: creation, reading, the
// approval job's pages, the registration webhook's, and reading the audit
// log.
func (b *appBuilder) events(app *application.App) {
	uow := keep(postgres.Scope[ports.EventTx](b.s.uow)).into(&b.err)
	b.p.events = keep(buildEventPlatform(b.s.cfg, b.s.breakers, postgres.NewRateLimiter(b.s.pool))).into(&b.err)
	if b.err != nil {
		return
	}
	c, q := &app.Commands, &app.Queries
	store, decisions := postgres.NewEventStore(b.s.pool), postgres.NewRSVPDecisions(b.s.pool)
	c.CreateEvent = keep(application.NewCreateEvent(uow, store, b.p.events, b.s.clock, b.s.alerter)).into(&b.err)
	c.DecideRSVPs = keep(application.NewDecideRSVPs(decisions, uow, b.p.events, approval.DefaultPolicy(), b.s.clock)).into(&b.err)
	c.ApproveRSVPs = keep(application.NewApproveRSVPs(b.p.events, store, c.DecideRSVPs, decisions, b.s.alerter)).into(&b.err)
	// The guest.registered webhook: stored with its message at once, then
	// decided by the worker through DecideRSVPs' path for one guest.
	inbox := keep(postgres.Scope[ports.GuestInboxTx](b.s.uow)).into(&b.err)
	c.IngestGuestRegistration = keep(application.NewIngestGuestRegistration(inbox)).into(&b.err)
	c.DecideRegisteredGuest = keep(application.NewDecideRegisteredGuest(postgres.NewGuestInbox(b.s.pool), store, c.DecideRSVPs)).into(&b.err)
	q.ListEvents = keep(application.NewListEvents(store, b.s.clock)).into(&b.err)
	q.GetEvent = keep(application.NewGetEvent(store)).into(&b.err)
	q.ListAuditLog = keep(application.NewListAuditLog(postgres.NewAuditReader(b.s.pool))).into(&b.err)
}

// eventsWebhook is POST /webhooks/luma: Luma's guest.registered deliveries,
// verified with LUMA_WEBHOOK_SECRET, stored once and decided by the worker;
// 503 NOT_CONFIGURED without the secret.
func eventsWebhook(sys *system) (http.Handler, error) {
	if sys.cfg.LumaWebhookSecret == "" {
		return httpapi.NotConfigured("the Luma webhook (LUMA_WEBHOOK_SECRET)"), nil
	}
	verifier, err := luma.NewWebhookVerifier(sys.cfg.LumaWebhookSecret)
	if err != nil {
		return nil, err
	}
	return httpapi.EventsWebhookHandler(verifier.Parse, func(ctx context.Context, r ports.GuestRegistration) error {
		_, err := sys.app.Commands.IngestGuestRegistration.Handle(ctx, r)
		return err
	}, sys.logger), nil
}
