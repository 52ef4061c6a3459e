package config

import (
	"fmt"
	"time"
)

// Ops configures the health view, the alerts and the provider limits held
// across replicas. README.md lists every variable.
type Ops struct {
	// HealthSampleInterval is how often each process records its provider
	// calls, breaker states and API latency in the database.
	HealthSampleInterval time.Duration `env:"HEALTH_SAMPLE_INTERVAL" envDefault:"15s"`
	// AlertEvaluateInterval is how often one replica compares the measures
	// with the thresholds below.
	AlertEvaluateInterval time.Duration `env:"ALERT_EVALUATE_INTERVAL" envDefault:"1m"`
	// The seed's alert thresholds.
	AlertWebhookSuccessWarning  float64       `env:"ALERT_WEBHOOK_SUCCESS_WARNING" envDefault:"0.99"`
	AlertWebhookSuccessCritical float64       `env:"ALERT_WEBHOOK_SUCCESS_CRITICAL" envDefault:"0.95"`
	AlertJobFailureWarning      float64       `env:"ALERT_JOB_FAILURE_WARNING" envDefault:"0.05"`
	AlertJobFailureCritical     float64       `env:"ALERT_JOB_FAILURE_CRITICAL" envDefault:"0.10"`
	AlertAPIP95Warning          time.Duration `env:"ALERT_API_P95_WARNING" envDefault:"500ms"`
	AlertAPIP95Critical         time.Duration `env:"ALERT_API_P95_CRITICAL" envDefault:"2s"`
	AlertDeadLettersWarning     int           `env:"ALERT_DEAD_LETTERS_WARNING" envDefault:"10"`
	AlertDeadLettersCritical    int           `env:"ALERT_DEAD_LETTERS_CRITICAL" envDefault:"50"`
	AlertRateLimitHitsWarning   int           `env:"ALERT_RATE_LIMIT_HITS_WARNING" envDefault:"10"`
	AlertRateLimitHitsCritical  int           `env:"ALERT_RATE_LIMIT_HITS_CRITICAL" envDefault:"100"`

	// MailchimpMaxConnections is Mailchimp's simultaneous connections per
	// account, held across every replica.
	MailchimpMaxConnections int `env:"MAILCHIMP_MAX_CONNECTIONS" envDefault:"10"`
	// StripeRatePerSecond is Stripe's documented rate (100 operations a
	// second in live mode; 25 in test mode), held across replicas.
	StripeRatePerSecond int `env:"STRIPE_RATE_PER_SECOND" envDefault:"100"`
	// Slack's tiers: Tier 2 (users.list) and Tier 3 (users.lookupByEmail)
	// calls per minute, held across replicas.
	SlackTier2PerMinute int `env:"SLACK_TIER2_PER_MINUTE" envDefault:"20"`
	SlackTier3PerMinute int `env:"SLACK_TIER3_PER_MINUTE" envDefault:"50"`

	// DatabaseAllowInsecure lets the server use a database connection
	// without TLS to a host that is not this machine.
	DatabaseAllowInsecure bool `env:"DATABASE_ALLOW_INSECURE" envDefault:"false"`
}

// validateOps checks the intervals, thresholds and limits.
func (c Config) validateOps() []string {
	o := c.Ops
	var p []string
	for name, d := range map[string]time.Duration{"HEALTH_SAMPLE_INTERVAL": o.HealthSampleInterval, "ALERT_EVALUATE_INTERVAL": o.AlertEvaluateInterval} {
		if d < time.Second || d > time.Hour {
			p = append(p, fmt.Sprintf("%s: must be between 1s and 1h, got %s", name, d))
		}
	}
	pair := func(name string, warning, critical float64, below bool) {
		switch {
		case warning < 0 || critical < 0:
			p = append(p, fmt.Sprintf("%s_WARNING/_CRITICAL: must not be negative", name))
		case below && critical > warning:
			p = append(p, fmt.Sprintf("%s_CRITICAL: must be at most %s_WARNING (%g), got %g", name, name, warning, critical))
		case !below && critical < warning:
			p = append(p, fmt.Sprintf("%s_CRITICAL: must be at least %s_WARNING (%g), got %g", name, name, warning, critical))
		}
	}
	pair("ALERT_WEBHOOK_SUCCESS", o.AlertWebhookSuccessWarning, o.AlertWebhookSuccessCritical, true)
	if o.AlertWebhookSuccessWarning > 1 {
		p = append(p, fmt.Sprintf("ALERT_WEBHOOK_SUCCESS_WARNING: a rate between 0 and 1, got %g", o.AlertWebhookSuccessWarning))
	}
	pair("ALERT_JOB_FAILURE", o.AlertJobFailureWarning, o.AlertJobFailureCritical, false)
	pair("ALERT_API_P95", o.AlertAPIP95Warning.Seconds(), o.AlertAPIP95Critical.Seconds(), false)
	pair("ALERT_DEAD_LETTERS", float64(o.AlertDeadLettersWarning), float64(o.AlertDeadLettersCritical), false)
	pair("ALERT_RATE_LIMIT_HITS", float64(o.AlertRateLimitHitsWarning), float64(o.AlertRateLimitHitsCritical), false)
	for name, v := range map[string]int{"MAILCHIMP_MAX_CONNECTIONS": o.MailchimpMaxConnections, "STRIPE_RATE_PER_SECOND": o.StripeRatePerSecond,
		"SLACK_TIER2_PER_MINUTE": o.SlackTier2PerMinute, "SLACK_TIER3_PER_MINUTE": o.SlackTier3PerMinute} {
		if v < 1 || v > 10000 {
			p = append(p, fmt.Sprintf("%s: must be between 1 and 10000, got %d", name, v))
		}
	}
	return p
}
