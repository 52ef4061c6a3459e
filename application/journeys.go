package application

import (
	"slices"

	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// Journey names: one for each membership transition that calls for one.
const (
	JourneyWelcome       = "welcome"        // joined: the first activation
	JourneyWelcomeBack   = "welcome_back"   // rejoined; falls back to welcome when unset
	JourneyPaymentFailed = "payment_failed" // each failed payment attempt
	JourneyRecovered     = "recovered"      // past_due or suspended, then paid up
	JourneyWinBack       = "win_back"       // canceled
	JourneyAlumni        = "alumni"         // became alumni (the membership ended)
	JourneyAccessEnding  = "access_ending"  // a complimentary membership ends soon
)

// Journey is a customer-journey step to trigger; an empty one is skipped.
type Journey struct{ JourneyID, StepID string }

// Journeys maps journey names to their ids.
type Journeys map[string]Journey

// resolve returns the configured journey of name; welcome_back falls back
// to welcome.
func (js Journeys) resolve(name string) (Journey, bool) {
	if j, ok := js[name]; ok && j.JourneyID != "" {
		return j, true
	}
	if name == JourneyWelcomeBack {
		return js.resolve(JourneyWelcome)
	}
	return Journey{}, false
}

// journeysFor picks the journeys a member change calls for: the failed
// payment's (its own message, one per invoice and attempt), welcome on
// joining, welcome back on rejoining, recovered when paid up again, and
// win-back and alumni when the membership ends, and the reminder ahead of
// a complimentary membership's end.
func journeysFor(reason string, events []string) []string {
	if reason == ports.ReasonPaymentFailed {
		return []string{JourneyPaymentFailed}
	}
	var out []string
	for _, e := range []struct{ event, journey string }{
		{membership.NameActivated, JourneyWelcome}, {membership.NameReactivated, JourneyWelcomeBack},
		{membership.NamePaymentRecovered, JourneyRecovered}, {membership.NameCanceled, JourneyWinBack}, {membership.NameCanceled, JourneyAlumni},
		{EventAccessEnding, JourneyAccessEnding},
	} {
		if slices.Contains(events, e.event) {
			out = append(out, e.journey)
		}
	}
	return out
}

// journeyIntentKey names a journey of a person for one message: a
// redelivery or a replay of the message uses the same key.
func journeyIntentKey(personID, journeyKey string) string {
	return "email_journey:" + personID + ":" + journeyKey
}

// remember appends keys to a journey memory, keeping the newest
// maxJourneyMemory.
func remember(memory []string, keys ...string) []string {
	memory = append(memory, keys...)
	if n := len(memory); n > maxJourneyMemory {
		memory = memory[n-maxJourneyMemory:]
	}
	return memory
}
