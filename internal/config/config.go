// Package config reads the service's configuration from environment
// variables, once, at start-up. Every problem is collected and reported
// together, one line per variable, so a bad deployment fails fast and says
// everything that is wrong in one go.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/womendefiningai/platform/internal/schedule"
)

// Environment is development or production.
type Environment string

// The environments.
const (
	Development Environment = "development"
	Production  Environment = "production"
)

// UnmarshalText accepts exactly "development" or "production".
func (e *Environment) UnmarshalText(b []byte) error {
	switch v := Environment(strings.TrimSpace(string(b))); v {
	case Development, Production:
		*e = v
		return nil
	default:
		return fmt.Errorf("must be %q or %q, got %q", Development, Production, string(b))
	}
}

// Config is the whole configuration. README.md lists every variable.
type Config struct {
	Env         Environment `env:"WDAI_ENV" envDefault:"development"`
	DatabaseURL string      `env:"DATABASE_URL"`
	// HTTPAddr defaults to 127.0.0.1:8080 in development, :8080 in production.
	HTTPAddr string     `env:"HTTP_ADDR"`
	LogLevel slog.Level `env:"LOG_LEVEL" envDefault:"info"`
	// LogFormat is text or json; text in development, json in production.
	LogFormat string `env:"LOG_FORMAT"`
	// DataDir holds development state such as the embedded PostgreSQL cluster.
	DataDir                string        `env:"WDAI_DATA_DIR" envDefault:".data"`
	DBMaxConns             int32         `env:"DB_MAX_CONNS" envDefault:"8"`
	ShutdownTimeout        time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
	GraphQLComplexityLimit int           `env:"GRAPHQL_COMPLEXITY_LIMIT" envDefault:"5000"`
	// GraphQL edge limits (docs/graphql-edge.md): the body cap, the parser's
	// token limit, and the byte bound of the parsed-document cache.
	GraphQLMaxBodyBytes    int64 `env:"GRAPHQL_MAX_BODY_BYTES" envDefault:"65536"`
	GraphQLMaxTokens       int   `env:"GRAPHQL_MAX_TOKENS" envDefault:"4000"`
	GraphQLQueryCacheBytes int64 `env:"GRAPHQL_QUERY_CACHE_BYTES" envDefault:"16777216"`
	// MetricsAddr serves /metrics on a listener of its own; empty: not served.
	MetricsAddr string `env:"METRICS_ADDR"`

	// AlertSlackWebhookURL receives dead-letter alerts as well as the log.
	AlertSlackWebhookURL string `env:"ALERT_SLACK_WEBHOOK_URL"`
	// CronSecret authenticates GET|POST /jobs/{name}; empty disables the route.
	CronSecret string `env:"CRON_SECRET"`
	// CronLumaApproval and CronSlackSync are "HH:MM" UTC times, comma-separated.
	CronLumaApproval string `env:"CRON_LUMA_APPROVAL" envDefault:"09:00,21:00"`
	CronSlackSync    string `env:"CRON_SLACK_SYNC" envDefault:"09:00,21:00"`
	// Slack (members' workspace status, read only). Unset SLACK_BOT_TOKEN:
	// slack_sync runs are recorded as "skipped: not configured".
	SlackBotToken string `env:"SLACK_BOT_TOKEN"`
	SlackAPIURL   string `env:"SLACK_API_URL"`
	// Luma (community events). Unset LUMA_API_KEY: luma_approval runs are
	// recorded as "skipped: not configured" and createEvent answers
	// NOT_CONFIGURED. LUMA_RATE_LIMIT calls at most in any LUMA_RATE_WINDOW
	// (Luma allows 200 a minute per calendar).
	LumaAPIKey     string        `env:"LUMA_API_KEY"`
	LumaAPIURL     string        `env:"LUMA_API_URL"`
	LumaTimeout    time.Duration `env:"LUMA_TIMEOUT" envDefault:"10s"`
	LumaRateLimit  int           `env:"LUMA_RATE_LIMIT" envDefault:"200"`
	LumaRateWindow time.Duration `env:"LUMA_RATE_WINDOW" envDefault:"1m"`
	// LumaWebhookSecret is the signing secret ("whsec_...") of the Luma
	// webhook endpoint (POST /webhooks/luma: guest.registered decided
	// within a minute). Unset: the route answers 503 and only the
	// twice-daily run decides. Needs LUMA_API_KEY.
	LumaWebhookSecret string `env:"LUMA_WEBHOOK_SECRET"`
	// CronCatchUp: on start, each job's most recent slot runs if it is this recent.
	CronCatchUp time.Duration `env:"CRON_CATCH_UP" envDefault:"1h"`
	// Clerk (sign-in). Unset CLERK_SECRET_KEY: every request is anonymous,
	// a bearer token gets 401, and /webhooks/clerk answers 503.
	ClerkSecretKey     string        `env:"CLERK_SECRET_KEY"`
	ClerkAPIURL        string        `env:"CLERK_API_URL"`
	ClerkWebhookSecret string        `env:"CLERK_WEBHOOK_SECRET"`
	ClerkJWTLeeway     time.Duration `env:"CLERK_JWT_LEEWAY" envDefault:"5s"`
	// ClerkIssuer is the exact iss of session tokens (the instance's
	// Frontend API URL); ClerkAuthorizedParties the frontend origins a
	// token's azp must be one of. Both required with CLERK_SECRET_KEY.
	ClerkIssuer            string   `env:"CLERK_ISSUER"`
	ClerkAuthorizedParties []string `env:"CLERK_AUTHORIZED_PARTIES" envSeparator:","`

	// Stripe (billing). Unset STRIPE_SECRET_KEY: checkout and the portal
	// answer NOT_CONFIGURED and stored events wait as deferred.
	StripeSecretKey          string `env:"STRIPE_SECRET_KEY"`
	StripeWebhookSecret      string `env:"STRIPE_WEBHOOK_SECRET"` // comma-separated, for rotation
	StripeAPIURL             string `env:"STRIPE_API_URL"`
	StripeCheckoutSuccessURL string `env:"STRIPE_CHECKOUT_SUCCESS_URL" envDefault:"http://localhost:3000/membership/welcome"`
	StripeCheckoutCancelURL  string `env:"STRIPE_CHECKOUT_CANCEL_URL" envDefault:"http://localhost:3000/pricing"`
	StripePortalReturnURL    string `env:"STRIPE_PORTAL_RETURN_URL" envDefault:"http://localhost:3000/account"`

	// Mailchimp (email list). Unset key or list: syncs are recorded as
	// "skipped: not configured".
	MailchimpAPIKey string `env:"MAILCHIMP_API_KEY"`
	MailchimpListID string `env:"MAILCHIMP_LIST_ID"`
	MailchimpAPIURL string `env:"MAILCHIMP_API_URL"`
	// MailchimpTimeout bounds one Mailchimp call (Mailchimp's own limit is 120s).
	MailchimpTimeout                time.Duration `env:"MAILCHIMP_TIMEOUT" envDefault:"30s"`
	MailchimpWelcomeJourneyID       string        `env:"MAILCHIMP_WELCOME_JOURNEY_ID"`
	MailchimpWelcomeStepID          string        `env:"MAILCHIMP_WELCOME_STEP_ID"`
	MailchimpPaymentFailedJourneyID string        `env:"MAILCHIMP_PAYMENT_FAILED_JOURNEY_ID"`
	MailchimpPaymentFailedStepID    string        `env:"MAILCHIMP_PAYMENT_FAILED_STEP_ID"`
	MailchimpWinBackJourneyID       string        `env:"MAILCHIMP_WIN_BACK_JOURNEY_ID"`
	MailchimpWinBackStepID          string        `env:"MAILCHIMP_WIN_BACK_STEP_ID"`
	// Rejoined (falls back to the welcome journey when unset), recovered
	// (paid up again) and became alumni (the membership ended).
	MailchimpWelcomeBackJourneyID string `env:"MAILCHIMP_WELCOME_BACK_JOURNEY_ID"`
	MailchimpWelcomeBackStepID    string `env:"MAILCHIMP_WELCOME_BACK_STEP_ID"`
	MailchimpRecoveredJourneyID   string `env:"MAILCHIMP_RECOVERED_JOURNEY_ID"`
	MailchimpRecoveredStepID      string `env:"MAILCHIMP_RECOVERED_STEP_ID"`
	MailchimpAlumniJourneyID      string `env:"MAILCHIMP_ALUMNI_JOURNEY_ID"`
	MailchimpAlumniStepID         string `env:"MAILCHIMP_ALUMNI_STEP_ID"`
	// ErasureCancelAtPeriodEnd: an erased person's subscriptions run to
	// their period end (the customer's personal fields are cleared) instead
	// of being canceled now (and the customer deleted).
	ErasureCancelAtPeriodEnd bool `env:"ERASURE_CANCEL_AT_PERIOD_END" envDefault:"false"`
	// CronMailchimpResync and CronStripeReconcile are "HH:MM" UTC times.
	CronMailchimpResync string `env:"CRON_MAILCHIMP_RESYNC" envDefault:"04:00"`
	CronStripeReconcile string `env:"CRON_STRIPE_RECONCILE" envDefault:"03:00"`
	// CronTiersSync are the UTC times of stripe_tiers_sync.
	CronTiersSync string `env:"CRON_TIERS_SYNC" envDefault:"02:30"`

	// The access ledger's grace policy and reminder (access.go).
	AccessConfig
	// ReconcileStuckAfter: reconciliation re-queues a billing event still
	// 'received' after this long; ReconcileExpireAfter: a deferred event
	// older than this expires with one alert.
	ReconcileStuckAfter  time.Duration `env:"RECONCILE_STUCK_AFTER" envDefault:"15m"`
	ReconcileExpireAfter time.Duration `env:"RECONCILE_EXPIRE_AFTER" envDefault:"168h"`

	// WorkerConsumers is the number of parallel consumers per topic.
	WorkerConsumers int `env:"WORKER_CONSUMERS" envDefault:"2"`
	// WorkerRetryInitial is the first retry's wait; each retry doubles it
	// (with jitter), up to 5s.
	WorkerRetryInitial time.Duration `env:"WORKER_RETRY_INITIAL" envDefault:"200ms"`
	// A transient provider failure (5xx, 429, timeout, refused connection,
	// open breaker) is re-delivered later: the first wait is
	// WorkerTransientRetryInitial, doubling up to WorkerTransientRetryMax
	// (and never below the provider's Retry-After). It is dead-lettered only
	// once WorkerRetryBudget has passed since its first failure.
	WorkerTransientRetryInitial time.Duration `env:"WORKER_TRANSIENT_RETRY_INITIAL" envDefault:"5s"`
	WorkerTransientRetryMax     time.Duration `env:"WORKER_TRANSIENT_RETRY_MAX" envDefault:"1h"`
	WorkerRetryBudget           time.Duration `env:"WORKER_RETRY_BUDGET" envDefault:"24h"`
	// WorkerDBMaxConns sizes the worker's own pool; 0 sizes it from
	// WORKER_CONSUMERS. A size too small for the consumers is refused at
	// start.
	WorkerDBMaxConns int `env:"WORKER_DB_MAX_CONNS" envDefault:"0"`
	// Each provider's circuit breaker opens after ProviderBreakerFailures
	// failed calls in a row and then refuses calls for
	// ProviderBreakerOpenFor before it lets a trial call through.
	ProviderBreakerFailures int           `env:"PROVIDER_BREAKER_FAILURES" envDefault:"5"`
	ProviderBreakerOpenFor  time.Duration `env:"PROVIDER_BREAKER_OPEN_FOR" envDefault:"30s"`
	// Ops: the health view, alert thresholds and shared provider limits (ops.go).
	Ops Ops

	// GraphQLTrustedDocumentsOnly: /graphql runs only the trusted documents
	// of operations/ (by documentId, Apollo's hash or their exact text).
	GraphQLTrustedDocumentsOnly bool `env:"GRAPHQL_TRUSTED_DOCUMENTS_ONLY" envDefault:"false"`
	// Per-caller rate limits of /graphql, shared by every replica through
	// PostgreSQL: requests per minute for a signed-in principal and for an
	// anonymous client address, and calls per minute of mutations that
	// reach a provider (startCheckout, openBillingPortal, createEvent), each
	// alias counted.
	RateLimitPerMinute              int `env:"RATE_LIMIT_PER_MINUTE" envDefault:"600"`
	RateLimitAnonymousPerMinute     int `env:"RATE_LIMIT_ANONYMOUS_PER_MINUTE" envDefault:"120"`
	RateLimitProviderCallsPerMinute int `env:"RATE_LIMIT_PROVIDER_CALLS_PER_MINUTE" envDefault:"10"`
	// RateLimitProxyHops is how many trusted proxies in front of the server
	// append to X-Forwarded-For; 0 limits anonymous callers by the
	// connection's address.
	RateLimitProxyHops int `env:"RATE_LIMIT_PROXY_HOPS" envDefault:"0"`
	// ProviderCallTimeout bounds each provider call a GraphQL request makes
	// (startCheckout, openBillingPortal, createEvent); past it the caller
	// gets PROVIDER_UNAVAILABLE with Retry-After.
	ProviderCallTimeout time.Duration `env:"PROVIDER_CALL_TIMEOUT" envDefault:"10s"`
}

// Dev reports whether development conveniences (GraphiQL, introspection,
// the embedded database, migrating at start) are on.
func (c Config) Dev() bool { return c.Env == Development }

// Load reads the configuration from the process environment.
func Load() (Config, error) { return load(env.Options{}) }

// LoadFrom reads the configuration from the given variables only (tests).
func LoadFrom(vars map[string]string) (Config, error) {
	return load(env.Options{Environment: vars})
}

func load(opts env.Options) (Config, error) {
	var cfg Config
	var problems []string
	if err := env.ParseWithOptions(&cfg, opts); err != nil {
		problems = append(problems, describe(err)...)
	}
	cfg.applyEnvDefaults()
	// A variable that failed to parse is not also reported as out of range.
	for _, v := range cfg.validate() {
		if !reportedAlready(problems, v) {
			problems = append(problems, v)
		}
	}
	if len(problems) > 0 {
		return Config{}, &Error{Problems: problems}
	}
	return cfg, nil
}

// validate returns one line per problem of c, grouped by what they configure.
func (c Config) validate() []string {
	var p []string
	for _, check := range []func() []string{
		c.validateServer, c.validateLogging, c.validateCron, c.validateClerk, c.validateURLs,
		c.validateStripe, c.validateMailchimp, c.validateSlack, c.validateLuma, c.validateWorker, c.validateRateLimits,
		c.validateOps, c.validateDatabaseTLS, c.validateAccess,
	} {
		p = append(p, check()...)
	}
	return p
}

// validateServer checks the database, the HTTP server and GraphQL.
func (c Config) validateServer() []string {
	var p []string
	if c.Env == Production && strings.TrimSpace(c.DatabaseURL) == "" {
		p = append(p, "DATABASE_URL: required when WDAI_ENV=production (the embedded database is for development only)")
	}
	if err := validateAddr(c.HTTPAddr); err != nil {
		p = append(p, "HTTP_ADDR: "+err.Error())
	}
	if c.DBMaxConns < 1 || c.DBMaxConns > 100 {
		p = append(p, fmt.Sprintf("DB_MAX_CONNS: must be between 1 and 100, got %d", c.DBMaxConns))
	}
	if c.ShutdownTimeout <= 0 {
		p = append(p, fmt.Sprintf("SHUTDOWN_TIMEOUT: must be positive, got %s", c.ShutdownTimeout))
	}
	if c.GraphQLComplexityLimit < 1 {
		p = append(p, fmt.Sprintf("GRAPHQL_COMPLEXITY_LIMIT: must be positive, got %d", c.GraphQLComplexityLimit))
	}
	return append(p, c.validateGraphQLEdge()...)
}

// validateGraphQLEdge checks the GraphQL limits and the metrics listener.
func (c Config) validateGraphQLEdge() []string {
	var p []string
	if c.GraphQLMaxBodyBytes < 1<<10 || c.GraphQLMaxBodyBytes > 16<<20 {
		p = append(p, fmt.Sprintf("GRAPHQL_MAX_BODY_BYTES: must be between 1024 and 16777216, got %d", c.GraphQLMaxBodyBytes))
	}
	if c.GraphQLMaxTokens < 100 || c.GraphQLMaxTokens > 100_000 {
		p = append(p, fmt.Sprintf("GRAPHQL_MAX_TOKENS: must be between 100 and 100000, got %d", c.GraphQLMaxTokens))
	}
	if c.GraphQLQueryCacheBytes < 1<<20 || c.GraphQLQueryCacheBytes > 1<<30 {
		p = append(p, fmt.Sprintf("GRAPHQL_QUERY_CACHE_BYTES: must be between 1048576 and 1073741824, got %d", c.GraphQLQueryCacheBytes))
	}
	if c.MetricsAddr != "" {
		if err := validateAddr(c.MetricsAddr); err != nil {
			p = append(p, "METRICS_ADDR: "+err.Error())
		} else if sameListener(c.MetricsAddr, c.HTTPAddr) {
			p = append(p, "METRICS_ADDR: must differ from HTTP_ADDR (metrics are not served on the public listener)")
		}
	}
	return p
}

// validateCron checks the schedules of the jobs and their secret.
func (c Config) validateCron() []string {
	var p []string
	if c.CronSecret != "" && len(c.CronSecret) < 16 {
		p = append(p, "CRON_SECRET: must be at least 16 characters")
	}
	for name, v := range map[string]string{"CRON_LUMA_APPROVAL": c.CronLumaApproval, "CRON_SLACK_SYNC": c.CronSlackSync,
		"CRON_MAILCHIMP_RESYNC": c.CronMailchimpResync, "CRON_STRIPE_RECONCILE": c.CronStripeReconcile, "CRON_TIERS_SYNC": c.CronTiersSync} {
		if _, err := schedule.ParseTimes(v); err != nil {
			p = append(p, name+": "+err.Error())
		}
	}
	if c.CronCatchUp <= 0 {
		p = append(p, fmt.Sprintf("CRON_CATCH_UP: must be positive, got %s", c.CronCatchUp))
	}
	if c.ReconcileStuckAfter <= 0 {
		p = append(p, fmt.Sprintf("RECONCILE_STUCK_AFTER: must be positive, got %s", c.ReconcileStuckAfter))
	}
	if c.ReconcileExpireAfter <= 0 {
		p = append(p, fmt.Sprintf("RECONCILE_EXPIRE_AFTER: must be positive, got %s", c.ReconcileExpireAfter))
	}
	return p
}

// validateClerk checks the identity provider.
func (c Config) validateClerk() []string {
	var p []string
	if c.ClerkSecretKey == "" && (c.ClerkAPIURL != "" || c.ClerkWebhookSecret != "") {
		p = append(p, "CLERK_SECRET_KEY: required when Clerk is configured (CLERK_API_URL or CLERK_WEBHOOK_SECRET is set)")
	}
	if c.ClerkWebhookSecret != "" && !strings.HasPrefix(c.ClerkWebhookSecret, "whsec_") {
		p = append(p, "CLERK_WEBHOOK_SECRET: must start with whsec_ (the signing secret of the Clerk webhook endpoint)")
	}
	if c.ClerkJWTLeeway < 0 || c.ClerkJWTLeeway > time.Minute {
		p = append(p, fmt.Sprintf("CLERK_JWT_LEEWAY: must be between 0 and 1m, got %s", c.ClerkJWTLeeway))
	}
	if c.ClerkSecretKey == "" && (c.ClerkIssuer != "" || len(c.ClerkAuthorizedParties) > 0) {
		p = append(p, "CLERK_SECRET_KEY: required when CLERK_ISSUER or CLERK_AUTHORIZED_PARTIES is set")
	}
	if c.ClerkSecretKey != "" {
		p = append(p, validateClerkTokens(c.ClerkIssuer, c.ClerkAuthorizedParties)...)
	}
	return p
}

// validateClerkTokens checks what session tokens are matched against: the
// exact issuer and the allowed frontend origins (azp).
func validateClerkTokens(issuer string, parties []string) []string {
	var p []string
	if u, err := url.Parse(issuer); issuer == "" || err != nil || u.Scheme != "https" || u.Host == "" || strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" {
		p = append(p, "CLERK_ISSUER: required with CLERK_SECRET_KEY: the instance's Frontend API URL, exactly as in the iss of its session tokens (https://clerk.example.com)")
	}
	if len(parties) == 0 {
		p = append(p, "CLERK_AUTHORIZED_PARTIES: required with CLERK_SECRET_KEY: the comma-separated origins of the frontends allowed to present session tokens (https://app.example.com)")
	}
	var bad []string
	for _, o := range parties {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || o != u.Scheme+"://"+u.Host || o != strings.ToLower(o) {
			bad = append(bad, strconv.Quote(o))
		}
	}
	if len(bad) > 0 {
		p = append(p, "CLERK_AUTHORIZED_PARTIES: not origins: "+strings.Join(bad, ", ")+" (write scheme://host[:port] in lower case, without a path or trailing slash)")
	}
	return p
}

// validateURLs checks that the configured URLs are http(s) URLs.
func (c Config) validateURLs() []string {
	var p []string
	for name, v := range map[string]string{"ALERT_SLACK_WEBHOOK_URL": c.AlertSlackWebhookURL, "CLERK_API_URL": c.ClerkAPIURL, "STRIPE_API_URL": c.StripeAPIURL, "STRIPE_CHECKOUT_SUCCESS_URL": c.StripeCheckoutSuccessURL,
		"STRIPE_CHECKOUT_CANCEL_URL": c.StripeCheckoutCancelURL, "STRIPE_PORTAL_RETURN_URL": c.StripePortalReturnURL, "MAILCHIMP_API_URL": c.MailchimpAPIURL} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p = append(p, name+": must be an http(s) URL")
		}
	}
	return p
}

// validateStripe checks the billing provider.
func (c Config) validateStripe() []string {
	var p []string
	if c.StripeWebhookSecret != "" && c.StripeSecretKey == "" {
		p = append(p, "STRIPE_SECRET_KEY: required when STRIPE_WEBHOOK_SECRET is set (events are fetched from the API to be applied)")
	}
	if strings.HasSuffix(strings.TrimRight(c.StripeAPIURL, "/"), "/v1") {
		p = append(p, "STRIPE_API_URL: must be the server root, without /v1")
	}
	return p
}

// validateMailchimp checks the email list and its journeys.
func (c Config) validateMailchimp() []string {
	var p []string
	if c.MailchimpTimeout <= 0 || c.MailchimpTimeout > 2*time.Minute {
		p = append(p, fmt.Sprintf("MAILCHIMP_TIMEOUT: must be between 0 and 2m, got %s", c.MailchimpTimeout))
	}
	if (c.MailchimpAPIKey == "") != (c.MailchimpListID == "") {
		p = append(p, "MAILCHIMP_API_KEY and MAILCHIMP_LIST_ID: set both or neither")
	}
	for name, pair := range map[string][2]string{
		"MAILCHIMP_WELCOME":        {c.MailchimpWelcomeJourneyID, c.MailchimpWelcomeStepID},
		"MAILCHIMP_PAYMENT_FAILED": {c.MailchimpPaymentFailedJourneyID, c.MailchimpPaymentFailedStepID},
		"MAILCHIMP_WIN_BACK":       {c.MailchimpWinBackJourneyID, c.MailchimpWinBackStepID},
		"MAILCHIMP_WELCOME_BACK":   {c.MailchimpWelcomeBackJourneyID, c.MailchimpWelcomeBackStepID},
		"MAILCHIMP_RECOVERED":      {c.MailchimpRecoveredJourneyID, c.MailchimpRecoveredStepID},
		"MAILCHIMP_ALUMNI":         {c.MailchimpAlumniJourneyID, c.MailchimpAlumniStepID},
	} {
		if (pair[0] == "") != (pair[1] == "") {
			p = append(p, name+"_JOURNEY_ID and "+name+"_STEP_ID: set both or neither")
		}
	}
	return p
}

// validateWorker checks the worker and the data folder.
func (c Config) validateWorker() []string {
	var p []string
	if c.WorkerRetryInitial < time.Millisecond || c.WorkerRetryInitial > 5*time.Second {
		p = append(p, fmt.Sprintf("WORKER_RETRY_INITIAL: must be between 1ms and 5s, got %s", c.WorkerRetryInitial))
	}
	if c.WorkerConsumers < 1 || c.WorkerConsumers > 32 {
		p = append(p, fmt.Sprintf("WORKER_CONSUMERS: must be between 1 and 32, got %d", c.WorkerConsumers))
	}
	p = append(p, c.validateRetries()...)
	if strings.TrimSpace(c.DataDir) == "" {
		p = append(p, "WDAI_DATA_DIR: must not be empty")
	}
	return p
}

// validateRetries checks the transient retry policy, the worker's pool
// and the providers' breakers.
func (c Config) validateRetries() []string {
	var p []string
	if c.WorkerTransientRetryInitial < 10*time.Millisecond || c.WorkerTransientRetryInitial > time.Hour {
		p = append(p, fmt.Sprintf("WORKER_TRANSIENT_RETRY_INITIAL: must be between 10ms and 1h, got %s", c.WorkerTransientRetryInitial))
	}
	if c.WorkerTransientRetryMax < c.WorkerTransientRetryInitial || c.WorkerTransientRetryMax > 24*time.Hour {
		p = append(p, fmt.Sprintf("WORKER_TRANSIENT_RETRY_MAX: must be between WORKER_TRANSIENT_RETRY_INITIAL and 24h, got %s", c.WorkerTransientRetryMax))
	}
	if c.WorkerRetryBudget < time.Second || c.WorkerRetryBudget > 30*24*time.Hour {
		p = append(p, fmt.Sprintf("WORKER_RETRY_BUDGET: must be between 1s and 720h, got %s", c.WorkerRetryBudget))
	}
	if c.WorkerDBMaxConns < 0 || c.WorkerDBMaxConns > 500 {
		p = append(p, fmt.Sprintf("WORKER_DB_MAX_CONNS: must be between 0 (sized from WORKER_CONSUMERS) and 500, got %d", c.WorkerDBMaxConns))
	}
	if c.ProviderBreakerFailures < 1 || c.ProviderBreakerFailures > 1000 {
		p = append(p, fmt.Sprintf("PROVIDER_BREAKER_FAILURES: must be between 1 and 1000, got %d", c.ProviderBreakerFailures))
	}
	if c.ProviderBreakerOpenFor < 100*time.Millisecond || c.ProviderBreakerOpenFor > time.Hour {
		p = append(p, fmt.Sprintf("PROVIDER_BREAKER_OPEN_FOR: must be between 100ms and 1h, got %s", c.ProviderBreakerOpenFor))
	}
	return p
}

// validateRateLimits checks the per-caller limits of /graphql.
func (c Config) validateRateLimits() []string {
	var p []string
	for _, v := range []struct {
		name string
		n    int
	}{
		{"RATE_LIMIT_PER_MINUTE", c.RateLimitPerMinute},
		{"RATE_LIMIT_ANONYMOUS_PER_MINUTE", c.RateLimitAnonymousPerMinute},
		{"RATE_LIMIT_PROVIDER_CALLS_PER_MINUTE", c.RateLimitProviderCallsPerMinute},
	} {
		if v.n < 1 || v.n > 1_000_000 {
			p = append(p, fmt.Sprintf("%s: must be between 1 and 1000000, got %d", v.name, v.n))
		}
	}
	if c.RateLimitProxyHops < 0 || c.RateLimitProxyHops > 10 {
		p = append(p, fmt.Sprintf("RATE_LIMIT_PROXY_HOPS: must be between 0 and 10, got %d", c.RateLimitProxyHops))
	}
	if c.ProviderCallTimeout < 100*time.Millisecond || c.ProviderCallTimeout > 2*time.Minute {
		p = append(p, fmt.Sprintf("PROVIDER_CALL_TIMEOUT: must be between 100ms and 2m, got %s", c.ProviderCallTimeout))
	}
	return p
}

func validateAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port or :port, got %q", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port must be a number from 0 to 65535, got %q", port)
	}
	if host != "" && strings.ContainsAny(host, " /") {
		return fmt.Errorf("invalid host %q", host)
	}
	return nil
}

func reportedAlready(problems []string, p string) bool {
	name, _, _ := strings.Cut(p, ":")
	for _, q := range problems {
		if strings.HasPrefix(q, name+":") {
			return true
		}
	}
	return false
}

// Error lists every configuration problem, one per line.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	return "invalid configuration:\n  " + strings.Join(e.Problems, "\n  ")
}

// describe turns the library's errors into "VARIABLE: problem" lines.
func describe(err error) []string {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return []string{err.Error()}
	}
	out := make([]string, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			out = append(out, fmt.Sprintf("%s: %s%s", varName(pe.Name), validValues(varName(pe.Name)), rootCause(pe.Err)))
			continue
		}
		out = append(out, e.Error())
	}
	return out
}

func varName(field string) string {
	if f, ok := reflect.TypeFor[Config]().FieldByName(field); ok {
		if tag := f.Tag.Get("env"); tag != "" {
			return strings.Split(tag, ",")[0]
		}
	}
	return field
}

func rootCause(err error) string {
	var num *strconv.NumError
	if errors.As(err, &num) {
		return fmt.Sprintf("%q is not a valid number", num.Num)
	}
	return err.Error()
}
