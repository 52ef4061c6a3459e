package membership

import (
	"errors"
	"fmt"
)

// Status is the standing of a membership. The zero Status is invalid.
type Status uint8

// The membership statuses.
const (
	StatusPending   Status = iota + 1 // checkout begun, not paid
	StatusActive                      // paid up (including a trial, and a scheduled cancellation before its period end)
	StatusPastDue                     // a payment failed; the provider is retrying
	StatusCanceled                    // the membership has ended, or never began
	StatusSuspended                   // the provider stopped collecting (unpaid, paused): still a member, access suspended
)

// ErrUnknownStatus is wrapped by the errors ParseStatus and
// ParseProviderStatus return.
var ErrUnknownStatus = errors.New("membership: unknown status")

// ParseStatus returns the status named by s: "pending", "active", "past_due",
// "suspended" or "canceled".
func ParseStatus(s string) (Status, error) {
	for _, st := range []Status{StatusPending, StatusActive, StatusPastDue, StatusSuspended, StatusCanceled} {
		if st.String() == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("%w %q", ErrUnknownStatus, s)
}

// String returns the status's name.
func (s Status) String() string {
	switch s {
	case StatusPending:
		return "pending"
	case StatusActive:
		return "active"
	case StatusPastDue:
		return "past_due"
	case StatusCanceled:
		return "canceled"
	case StatusSuspended:
		return "suspended"
	default:
		return fmt.Sprintf("Status(%d)", uint8(s))
	}
}

// IsMember reports whether the status is that of a current member: active,
// past_due while the provider retries the payment, or suspended while the
// subscription exists but nothing is collected. A suspended member is not
// alumni. Whether anyone has a member's access is not the status's to say:
// the access ledger (domain/ledger) decides.
func (s Status) IsMember() bool {
	switch s {
	case StatusActive, StatusPastDue, StatusSuspended:
		return true
	case StatusPending, StatusCanceled:
		return false
	default:
		return false
	}
}

func (s Status) valid() bool { return s >= StatusPending && s <= StatusSuspended }

// standingRank orders statuses by standing, best highest. A membership
// follows the subscription with the best standing.
func (s Status) standingRank() int {
	switch s {
	case StatusActive:
		return 5
	case StatusPastDue:
		return 4
	case StatusSuspended:
		return 3
	case StatusPending:
		return 2
	case StatusCanceled:
		return 1
	default:
		return 0
	}
}

// lifecycleRank orders statuses along a subscription's life, latest highest.
// It only breaks ties between snapshots taken at the same instant.
func (s Status) lifecycleRank() int {
	switch s {
	case StatusPending:
		return 1
	case StatusActive:
		return 2
	case StatusPastDue:
		return 3
	case StatusSuspended:
		return 4
	case StatusCanceled:
		return 5
	default:
		return 0
	}
}

// ProviderStatus is a subscription status in the billing provider's
// vocabulary. The zero ProviderStatus is invalid.
type ProviderStatus uint8

// The provider's subscription statuses.
const (
	ProviderIncomplete        ProviderStatus = iota + 1 // incomplete
	ProviderIncompleteExpired                           // incomplete_expired
	ProviderTrialing                                    // trialing
	ProviderActive                                      // active
	ProviderPastDue                                     // past_due
	ProviderCanceled                                    // canceled
	ProviderUnpaid                                      // unpaid
	ProviderPaused                                      // paused
)

var providerStatuses = []ProviderStatus{
	ProviderIncomplete, ProviderIncompleteExpired, ProviderTrialing, ProviderActive,
	ProviderPastDue, ProviderCanceled, ProviderUnpaid, ProviderPaused,
}

// ParseProviderStatus returns the provider status named by s, e.g.
// "incomplete_expired".
func ParseProviderStatus(s string) (ProviderStatus, error) {
	for _, p := range providerStatuses {
		if p.String() == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w %q from billing provider", ErrUnknownStatus, s)
}

// String returns the provider's name for the status.
func (p ProviderStatus) String() string {
	switch p {
	case ProviderIncomplete:
		return "incomplete"
	case ProviderIncompleteExpired:
		return "incomplete_expired"
	case ProviderTrialing:
		return "trialing"
	case ProviderActive:
		return "active"
	case ProviderPastDue:
		return "past_due"
	case ProviderCanceled:
		return "canceled"
	case ProviderUnpaid:
		return "unpaid"
	case ProviderPaused:
		return "paused"
	default:
		return fmt.Sprintf("ProviderStatus(%d)", uint8(p))
	}
}

// Status maps the provider status onto a membership status (see the package
// documentation). An invalid provider status maps to the invalid zero Status.
func (p ProviderStatus) Status() Status {
	switch p {
	case ProviderTrialing, ProviderActive:
		return StatusActive
	case ProviderPastDue:
		return StatusPastDue
	case ProviderUnpaid, ProviderPaused:
		return StatusSuspended
	case ProviderCanceled, ProviderIncompleteExpired:
		return StatusCanceled
	case ProviderIncomplete:
		return StatusPending
	default:
		return 0
	}
}
