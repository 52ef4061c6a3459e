package config

import (
	"fmt"
	"time"
)

// AccessConfig is the access ledger's one grace policy and the scholarship
// reminder.
type AccessConfig struct {
	// GracePeriod: after a failed payment, access continues this long,
	// whatever the billing provider's retry settings are; then it ends even
	// if the provider still retries, and a recovered payment restores it.
	GracePeriod time.Duration `env:"ACCESS_GRACE_PERIOD" envDefault:"168h"`
	// ReminderBefore: a complimentary membership's holder is reminded this
	// long before it ends (the access-ending journey); 0 sends none.
	ReminderBefore time.Duration `env:"ACCESS_REMINDER_BEFORE" envDefault:"168h"`
	// The journey step triggered by the reminder (both or neither).
	EndingJourneyID string `env:"MAILCHIMP_ACCESS_ENDING_JOURNEY_ID"`
	EndingStepID    string `env:"MAILCHIMP_ACCESS_ENDING_STEP_ID"`
}

// validateAccess checks the grace policy and the reminder.
func (c Config) validateAccess() []string {
	var p []string
	if a := c.GracePeriod; a < 0 || a > 90*24*time.Hour {
		p = append(p, fmt.Sprintf("ACCESS_GRACE_PERIOD: must be between 0 and 2160h (90 days), got %s", a))
	}
	if r := c.ReminderBefore; r < 0 || r > 90*24*time.Hour {
		p = append(p, fmt.Sprintf("ACCESS_REMINDER_BEFORE: must be between 0 and 2160h (90 days), got %s", r))
	}
	if (c.EndingJourneyID == "") != (c.EndingStepID == "") {
		p = append(p, "MAILCHIMP_ACCESS_ENDING_JOURNEY_ID and MAILCHIMP_ACCESS_ENDING_STEP_ID: set both or neither")
	}
	return p
}
