package main

// The operators' side of the process: the integrations the health view
// reports on, the sampler that records this process's provider calls,
// breakers and API latency, the alert evaluator, and the health gauges of
// /metrics.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/womendefiningai/platform/adapters/luma"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/adapters/slack"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ops"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/sharedlimit"
	"github.com/womendefiningai/platform/ports"
)

// providerNames are the providers, in the health view's order.
var providerNames = []string{providerStripe, providerClerk, providerMailchimp, luma.Provider, slack.ProviderName}

// healthServices says which providers are configured.
func healthServices(cfg config.Config) []application.Service {
	configured := map[string]bool{
		providerStripe:     cfg.StripeSecretKey != "",
		providerClerk:      cfg.ClerkSecretKey != "",
		providerMailchimp:  cfg.MailchimpAPIKey != "" && cfg.MailchimpListID != "",
		luma.Provider:      cfg.LumaAPIKey != "",
		slack.ProviderName: cfg.SlackBotToken != "",
	}
	out := make([]application.Service, 0, len(providerNames))
	for _, name := range providerNames {
		out = append(out, application.Service{Name: name, Configured: configured[name]})
	}
	return out
}

// alertThresholds are the configured thresholds (validated by config).
func alertThresholds(o config.Ops) application.AlertThresholds {
	return application.AlertThresholds{
		application.MeasureWebhookSuccessRate: {Warning: o.AlertWebhookSuccessWarning, Critical: o.AlertWebhookSuccessCritical, Direction: ops.Below},
		application.MeasureJobFailureRate:     {Warning: o.AlertJobFailureWarning, Critical: o.AlertJobFailureCritical, Direction: ops.Above},
		application.MeasureAPIP95:             {Warning: o.AlertAPIP95Warning.Seconds(), Critical: o.AlertAPIP95Critical.Seconds(), Direction: ops.Above},
		application.MeasureOpenDeadLetters:    {Warning: float64(o.AlertDeadLettersWarning), Critical: float64(o.AlertDeadLettersCritical), Direction: ops.Above},
		application.MeasureRateLimitHits:      {Warning: float64(o.AlertRateLimitHitsWarning), Critical: float64(o.AlertRateLimitHitsCritical), Direction: ops.Above},
	}
}

// health builds the health view and the alert evaluation.
func (b *appBuilder) health(app *application.App) {
	store := postgres.NewHealth(b.s.pool)
	q := &app.Queries
	q.GetIntegrationHealth = keep(application.NewGetIntegrationHealth(store, b.s.calls, b.s.clock, application.HealthSettings{
		Services: healthServices(b.s.cfg), Windows: application.DefaultHealthWindows, Thresholds: alertThresholds(b.s.cfg.Ops)})).into(&b.err)
	if b.err != nil {
		return
	}
	app.Commands.EvaluateAlerts = keep(application.NewEvaluateAlerts(q.GetIntegrationHealth, store, b.s.alerter)).into(&b.err)
}

// newProcessID names this process in the shared samples: host, pid and a
// random suffix (a restarted process is a new one).
func newProcessID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// healthSampler records this process's sample: the provider calls since the
// last one, the breakers' states, and the API requests and their p95 since
// the last one (from the HTTP duration histogram; none without HTTP).
type healthSampler struct {
	sys       *system
	store     *postgres.Health
	gatherer  prometheus.Gatherer
	processID string
	last      map[float64]uint64 // cumulative bucket counts at the last sample
	lastCount uint64
}

func newHealthSampler(sys *system, gatherer prometheus.Gatherer) *healthSampler {
	return &healthSampler{sys: sys, store: postgres.NewHealth(sys.pool), gatherer: gatherer, processID: sys.calls.ProcessID()}
}

// sample records one sample; calls it could not record are kept for the
// next one.
func (h *healthSampler) sample(ctx context.Context) error {
	calls := h.sys.calls.Drain()
	n, p95 := h.apiLatency()
	err := h.store.Record(ctx, ports.ProcessSample{ProcessID: h.processID, At: h.sys.clock.Now(), Calls: calls,
		Breakers: h.sys.breakers.States(), APIRequests: n, APIP95: p95})
	if err != nil {
		h.sys.calls.Restore(calls)
	}
	return err
}

// apiLatency returns the requests since the last sample and their 95th
// percentile, interpolated within the histogram's bucket like Prometheus's
// histogram_quantile.
func (h *healthSampler) apiLatency() (int64, time.Duration) {
	if h.gatherer == nil {
		return 0, 0
	}
	families, err := h.gatherer.Gather()
	if err != nil {
		return 0, 0
	}
	cum, count := map[float64]uint64{}, uint64(0)
	for _, f := range families {
		if f.GetName() != "http_request_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			addHistogram(cum, &count, m.GetHistogram())
		}
	}
	prev, prevCount := h.last, h.lastCount
	h.last, h.lastCount = cum, count
	if count <= prevCount {
		return 0, 0
	}
	return int64(count - prevCount), quantile(0.95, cum, prev, count-prevCount) //nolint:gosec // a request count
}

func addHistogram(cum map[float64]uint64, count *uint64, hist *dto.Histogram) {
	if hist == nil {
		return
	}
	*count += hist.GetSampleCount()
	for _, b := range hist.GetBucket() {
		cum[b.GetUpperBound()] += b.GetCumulativeCount()
	}
}

func quantile(q float64, cum, prev map[float64]uint64, total uint64) time.Duration {
	bounds := make([]float64, 0, len(cum))
	for b := range cum {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	rank := q * float64(total)
	lower, below := 0.0, 0.0
	for _, b := range bounds {
		n := float64(cum[b] - prev[b])
		if n >= rank {
			frac := 1.0
			if n > below {
				frac = (rank - below) / (n - below)
			}
			return time.Duration((lower + (b-lower)*frac) * float64(time.Second))
		}
		lower, below = b, n
	}
	// Past the last bucket: report its bound, the most the histogram can say.
	if len(bounds) > 0 {
		return time.Duration(bounds[len(bounds)-1] * float64(time.Second))
	}
	return 0
}

// runHealthSampler records a sample every HEALTH_SAMPLE_INTERVAL, and a
// last one at shutdown.
func runHealthSampler(ctx context.Context, sys *system, gatherer prometheus.Gatherer) {
	h := newHealthSampler(sys, gatherer)
	t := time.NewTicker(sys.cfg.Ops.HealthSampleInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := h.sample(final); err != nil {
				sys.logger.Warn("record the last health sample", "error", err.Error())
			}
			return
		case <-t.C:
			if err := h.sample(ctx); err != nil && ctx.Err() == nil {
				sys.logger.Warn("record a health sample", "error", err.Error())
			}
		}
	}
}

// runAlertEvaluator evaluates the alerts every ALERT_EVALUATE_INTERVAL; one
// replica claims each slot.
func runAlertEvaluator(ctx context.Context, sys *system) error {
	every := sys.cfg.Ops.AlertEvaluateInterval
	for {
		now := sys.clock.Now()
		next := now.Truncate(every).Add(every)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(next.Sub(now)):
		}
		res, err := sys.app.Commands.EvaluateAlerts.Handle(ctx, next)
		if err != nil && ctx.Err() == nil {
			sys.logger.Warn("evaluate alerts", "error", err.Error())
		}
		for _, n := range res.Notices {
			sys.logger.Debug("alert level changed", "measure", n.Measure, "from", string(n.From), "to", string(n.To))
		}
	}
}

// healthCollector exports the health view as gauges, read at each scrape
// (one statement). Labels are bounded: services, measures, jobs and inbox
// statuses are the platform's own fixed sets.
type healthCollector struct {
	sys                                                       *system
	service, breaker, rateHits, errorRate, level, jobRuns     *prometheus.Desc
	webhookRate, webhookP95, deadLetters, backlog, apiP95, up *prometheus.Desc
}

func newHealthCollector(sys *system) *healthCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &healthCollector{sys: sys,
		service:     d("wdai_service_state", "Each integration's state: 0 ok, 1 degraded, 2 down, -1 not configured.", "service"),
		breaker:     d("wdai_service_breaker_state", "The worst breaker state a replica reported in the last two minutes: 0 closed, 1 half-open, 2 open.", "service"),
		rateHits:    d("wdai_service_rate_limit_hits", "Rate-limit answers and waits for a shared limit in the last hour, over every replica.", "service"),
		errorRate:   d("wdai_service_error_ratio", "Failed calls over all calls in the last hour, over every replica.", "service"),
		level:       d("wdai_alert_level", "Each watched measure's level: 0 ok, 1 warning, 2 critical.", "measure"),
		jobRuns:     d("wdai_job_runs", "Job runs created in the last 24 hours, by outcome.", "job", "outcome"),
		webhookRate: d("wdai_webhook_success_ratio", "Billing webhooks applied over applied and failed, in the last 24 hours."),
		webhookP95:  d("wdai_webhook_apply_p95_seconds", "95th percentile from a billing webhook's receipt to its application, last 24 hours."),
		deadLetters: d("wdai_dead_letters_open", "Dead letters waiting for an operator."),
		backlog:     d("wdai_billing_inbox_backlog", "Billing inbox rows waiting, by status.", "status"),
		apiP95:      d("wdai_api_p95_seconds", "The worst API p95 a replica reported over the last 5 minutes."),
		up:          d("wdai_health_read_ok", "1 when the health view could be read from the database."),
	}
}

func (c *healthCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.service, c.breaker, c.rateHits, c.errorRate, c.level, c.jobRuns, c.webhookRate, c.webhookP95,
		c.deadLetters, c.backlog, c.apiP95, c.up} {
		ch <- d
	}
}

var (
	serviceStateValue = map[ops.ServiceState]float64{ops.StateOK: 0, ops.StateDegraded: 1, ops.StateDown: 2, ops.StateNotConfigured: -1}
	breakerValue      = map[string]float64{ops.BreakerClosed: 0, ops.BreakerHalfOpen: 1, ops.BreakerOpen: 2}
	levelValue        = map[ops.Level]float64{ops.OK: 0, ops.Warning: 1, ops.Critical: 2}
)

func (c *healthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, _ := access.NewSystem("metrics")
	h, err := c.sys.app.Queries.GetIntegrationHealth.Handle(application.WithPrincipal(ctx, p))
	g := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	up := 1.0
	if err != nil || (len(h.Services) > 0 && h.Services[0].State == ops.StateDown) {
		up = 0
	}
	g(c.up, up)
	if err != nil {
		return
	}
	for _, s := range h.Services {
		g(c.service, serviceStateValue[s.State], s.Name)
		g(c.breaker, breakerValue[s.Breaker], s.Name)
		g(c.rateHits, float64(s.RateLimitHits), s.Name)
		g(c.errorRate, s.ErrorRate, s.Name)
	}
	for _, l := range h.Levels {
		g(c.level, levelValue[l.Level], l.Measure)
	}
	for _, j := range h.Jobs {
		for st, n := range j.Outcomes {
			g(c.jobRuns, float64(n), j.Job, string(st))
		}
	}
	g(c.webhookRate, h.WebhookSuccessRate)
	g(c.webhookP95, h.Webhooks.P95.Seconds())
	g(c.deadLetters, float64(h.Webhooks.OpenDeadLetters))
	for st, n := range h.Webhooks.Backlog {
		g(c.backlog, float64(n), st)
	}
	g(c.apiP95, h.Measures.APIP95.Seconds())
}

// startHealthSampler runs the sampler until the returned func is called;
// the func waits for its last sample, so call it before the pool closes.
func startHealthSampler(ctx context.Context, sys *system, gatherer prometheus.Gatherer) (stop func()) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		runHealthSampler(sctx, sys, gatherer)
	}()
	go func() {
		<-ctx.Done()
		cancel()
	}()
	return func() {
		cancel()
		<-done
	}
}

// limitProviders holds each provider to its published limit across every
// replica, inside its circuit breaker: Mailchimp's simultaneous
// connections (a semaphore in PostgreSQL), Stripe's requests per second and
// Slack's tiers (the shared rate limiter). Luma's client spends from the
// shared limiter itself (LUMA_RATE_LIMIT). A wait counts as a rate-limit
// hit of the provider.
func limitProviders(s *system) error {
	o := s.cfg.Ops
	leases, err := postgres.NewProviderLeases(s.pool, providerMailchimp, o.MailchimpMaxConnections, s.cfg.MailchimpTimeout+30*time.Second)
	if err != nil {
		return err
	}
	leases.Waited = func() { s.calls.Waited(providerMailchimp) }
	s.breakers.Limit(providerMailchimp, func(rt http.RoundTripper) http.RoundTripper { return sharedlimit.Connections(rt, leases) })
	shared := postgres.NewRateLimiter(s.pool)
	stripeRate := sharedlimit.Rate{Key: "provider:" + providerStripe, Rate: ports.Rate{Limit: o.StripeRatePerSecond, Period: time.Second}}
	s.breakers.Limit(providerStripe, func(rt http.RoundTripper) http.RoundTripper {
		return sharedlimit.Requests(rt, shared, func(*http.Request) sharedlimit.Rate { return stripeRate }, func() { s.calls.Waited(providerStripe) })
	})
	// Slack's tiers are sustained rates that allow occasional bursts: each
	// allowance refills at the tier's rate and holds two minutes of it. Over
	// it, a call is deferred (a made-up 429), as the chat sync defers on
	// Slack's own 429: to its next run.
	tier2 := sharedlimit.Rate{Key: "provider:slack:tier2", Rate: ports.Rate{Limit: 2 * o.SlackTier2PerMinute, Period: 2 * time.Minute}}
	tier3 := sharedlimit.Rate{Key: "provider:slack:tier3", Rate: ports.Rate{Limit: 2 * o.SlackTier3PerMinute, Period: 2 * time.Minute}}
	s.breakers.Limit(slack.ProviderName, func(rt http.RoundTripper) http.RoundTripper {
		return sharedlimit.Deferring(rt, shared, func(r *http.Request) sharedlimit.Rate {
			if strings.HasSuffix(r.URL.Path, "/users.list") { // Tier 2; users.lookupByEmail and the rest: Tier 3
				return tier2
			}
			return tier3
		})
	})
	return nil
}
