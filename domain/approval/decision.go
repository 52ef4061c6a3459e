package approval

import "fmt"

// Outcome is what to do with an RSVP.
type Outcome uint8

// The outcomes.
const (
	Approve      Outcome = iota + 1 // approve the RSVP
	Decline                         // decline the RSVP
	LeavePending                    // do nothing; an organiser or a later run decides
)

// ParseOutcome returns the outcome named by s: "approve", "decline" or
// "leave_pending".
func ParseOutcome(s string) (Outcome, error) {
	for _, o := range []Outcome{Approve, Decline, LeavePending} {
		if o.String() == s {
			return o, nil
		}
	}
	return 0, fmt.Errorf("approval: unknown outcome %q", s)
}

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Approve:
		return "approve"
	case Decline:
		return "decline"
	case LeavePending:
		return "leave_pending"
	default:
		return fmt.Sprintf("Outcome(%d)", uint8(o))
	}
}

// Reason says why an outcome was chosen, for the audit log and run summary.
type Reason uint8

// The reasons.
const (
	ReasonAdmin                Reason = iota + 1 // the person is an admin
	ReasonLeader                                 // the person is a leader
	ReasonActiveMember                           // an active member
	ReasonActiveUntilPeriodEnd                   // an active member whose cancellation takes effect later
	ReasonPastDueGrace                           // a payment failed; approved in the grace window
	ReasonPastDue                                // a payment failed and the grace window is over
	ReasonPeriodEnded                            // a scheduled cancellation whose period end has passed
	ReasonPendingMembership                      // checkout begun, not paid
	ReasonCanceledMembership                     // the membership has ended
	ReasonNoMembership                           // a person with no membership
	ReasonNoMatchingPerson                       // no person has the guest's email verified
	ReasonSuspendedMembership                    // the billing provider stopped collecting (unpaid, paused)
	ReasonComplimentary                          // a complimentary membership (a scholarship)
	ReasonManualGrant                            // an operator's manual grant of access
)

// lastReason is the last valid Reason.
const lastReason = ReasonManualGrant

var reasonNames = [...]string{
	ReasonAdmin:                "admin",
	ReasonLeader:               "leader",
	ReasonActiveMember:         "active_member",
	ReasonActiveUntilPeriodEnd: "active_until_period_end",
	ReasonPastDueGrace:         "past_due_grace",
	ReasonPastDue:              "past_due",
	ReasonPeriodEnded:          "period_ended",
	ReasonPendingMembership:    "pending_membership",
	ReasonCanceledMembership:   "canceled_membership",
	ReasonNoMembership:         "no_membership",
	ReasonNoMatchingPerson:     "no_matching_person",
	ReasonSuspendedMembership:  "suspended_membership",
	ReasonComplimentary:        "complimentary",
	ReasonManualGrant:          "manual_grant",
}

// ParseReason returns the reason named by s, e.g. "past_due_grace".
func ParseReason(s string) (Reason, error) {
	for r := ReasonAdmin; r <= lastReason; r++ {
		if reasonNames[r] == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("approval: unknown reason %q", s)
}

// String returns the reason's name.
func (r Reason) String() string {
	if r < ReasonAdmin || r > lastReason {
		return fmt.Sprintf("Reason(%d)", uint8(r))
	}
	return reasonNames[r]
}

// Decision is what to do with one RSVP, and why.
type Decision struct {
	Outcome Outcome
	Reason  Reason
}
