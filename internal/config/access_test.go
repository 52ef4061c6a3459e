package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/internal/config"
)

func TestAccessPolicyDefaultsAndBounds(t *testing.T) {
	cfg, err := config.LoadFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GracePeriod != 7*24*time.Hour || cfg.ReminderBefore != 7*24*time.Hour {
		t.Fatalf("defaults = %+v, want 7 days each", cfg.AccessConfig)
	}
	for vars, want := range map[string]string{
		"ACCESS_GRACE_PERIOD=-1h":                 "ACCESS_GRACE_PERIOD",
		"ACCESS_GRACE_PERIOD=2161h":               "ACCESS_GRACE_PERIOD",
		"ACCESS_GRACE_PERIOD=a week":              "ACCESS_GRACE_PERIOD",
		"ACCESS_REMINDER_BEFORE=-5m":              "ACCESS_REMINDER_BEFORE",
		"MAILCHIMP_ACCESS_ENDING_JOURNEY_ID=1234": "MAILCHIMP_ACCESS_ENDING_JOURNEY_ID",
	} {
		k, v, _ := strings.Cut(vars, "=")
		if _, err := config.LoadFrom(map[string]string{k: v}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want one naming %s", vars, err, want)
		}
	}
	cfg, err = config.LoadFrom(map[string]string{"ACCESS_GRACE_PERIOD": "0s", "ACCESS_REMINDER_BEFORE": "72h"})
	if err != nil || cfg.GracePeriod != 0 || cfg.ReminderBefore != 72*time.Hour {
		t.Fatalf("no grace and a 3-day reminder: %+v, %v", cfg.AccessConfig, err)
	}
}
