package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/internal/config"
)

func TestOpsDefaultsAreTheSeedsThresholds(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Ops
	if o.AlertWebhookSuccessWarning != 0.99 || o.AlertWebhookSuccessCritical != 0.95 || o.AlertJobFailureWarning != 0.05 ||
		o.AlertJobFailureCritical != 0.10 || o.AlertAPIP95Warning != 500*time.Millisecond || o.AlertAPIP95Critical != 2*time.Second ||
		o.AlertDeadLettersWarning != 10 || o.AlertDeadLettersCritical != 50 || o.AlertRateLimitHitsWarning != 10 ||
		o.AlertRateLimitHitsCritical != 100 || o.MailchimpMaxConnections != 10 || o.AlertEvaluateInterval != time.Minute {
		t.Fatalf("defaults = %+v", o)
	}
}

func TestOpsRefusesInvertedThresholds(t *testing.T) {
	t.Parallel()
	_, err := config.LoadFrom(map[string]string{"ALERT_WEBHOOK_SUCCESS_CRITICAL": "0.999", "ALERT_DEAD_LETTERS_CRITICAL": "5",
		"MAILCHIMP_MAX_CONNECTIONS": "0", "ALERT_EVALUATE_INTERVAL": "10ms"})
	if err == nil {
		t.Fatal("inverted thresholds were accepted")
	}
	for _, want := range []string{"ALERT_WEBHOOK_SUCCESS_CRITICAL", "ALERT_DEAD_LETTERS_CRITICAL", "MAILCHIMP_MAX_CONNECTIONS", "ALERT_EVALUATE_INTERVAL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
