package ledger

import (
	"time"

	"github.com/womendefiningai/platform/domain/membership"
)

// BillingActor is GrantedBy for the grants Plan makes.
const BillingActor = "billing"

// DefaultGracePeriod is how long access continues after a failed payment
// unless configured otherwise.
const DefaultGracePeriod = 7 * 24 * time.Hour

// Billing is what Plan needs to know of a membership.
type Billing struct {
	Status            membership.Status
	Tier              string
	CancelAtPeriodEnd bool
	CurrentPeriodEnd  time.Time
}

// BillingOf returns the billing facts of m; the zero Billing (no
// membership) for nil.
func BillingOf(m *membership.Membership) Billing {
	if m == nil {
		return Billing{}
	}
	return Billing{
		Status: m.Status(), Tier: m.Tier().String(),
		CancelAtPeriodEnd: m.CancelAtPeriodEnd(), CurrentPeriodEnd: m.CurrentPeriodEnd(),
	}
}

// ChangeKind says what a Change does to the ledger.
type ChangeKind uint8

// The kinds of change.
const (
	Opened  ChangeKind = iota + 1 // a new grant
	Closed                        // a grant ended now
	Updated                       // a grant's end or tier moved (a cancellation scheduled or withdrawn, a new tier)
)

// String names the kind for the audit log.
func (k ChangeKind) String() string {
	switch k {
	case Opened:
		return "opened"
	case Closed:
		return "closed"
	case Updated:
		return "updated"
	default:
		return "unknown"
	}
}

// Change is one write Plan asks for: Grant is the new or updated grant
// (an updated one keeps its ID).
type Change struct {
	Kind  ChangeKind
	Grant Grant
}

// Plan returns the changes that bring the subscription and grace grants of
// person personID in step with billing at now (see the package
// documentation); none when they already are, so planning twice changes
// nothing the second time. Complimentary and manual grants are never
// touched. grace is the grace period.
func Plan(personID string, grants []Grant, b Billing, now time.Time, grace time.Duration) []Change {
	sub, hasSub := latestOpen(grants, SourceSubscription, now)
	var changes []Change
	closeSub := func(reason string) {
		if hasSub {
			changes = append(changes, Change{Kind: Closed, Grant: sub.endedAt(now, BillingActor, reason)})
		}
	}
	switch b.Status {
	case membership.StatusActive:
		until := time.Time{}
		if b.CancelAtPeriodEnd {
			until = b.CurrentPeriodEnd
		}
		if !until.IsZero() && !now.Before(until) {
			closeSub("the subscription's period ended")
			break
		}
		switch {
		case !hasSub:
			changes = append(changes, Change{Kind: Opened, Grant: Grant{
				PersonID: personID, Source: SourceSubscription, Tier: b.Tier, From: now, Until: until,
				GrantedBy: BillingActor, Reason: "subscription paid",
			}})
		case !sub.Until.Equal(until) || sub.Tier != b.Tier:
			sub.Until, sub.Tier = until, b.Tier
			changes = append(changes, Change{Kind: Updated, Grant: sub})
		}
		if g, ok := latestOpen(grants, SourceGrace, now); ok && g.CurrentAt(now) {
			changes = append(changes, Change{Kind: Closed, Grant: g.endedAt(now, BillingActor, "payment recovered")})
		}
	case membership.StatusPastDue:
		if !hasSub {
			break // already in grace, or never paid: nothing to start
		}
		closeSub("payment failed")
		if _, inGrace := latestOpen(grants, SourceGrace, now); !inGrace && grace > 0 {
			changes = append(changes, Change{Kind: Opened, Grant: Grant{
				PersonID: personID, Source: SourceGrace, Tier: sub.Tier, From: now, Until: now.Add(grace),
				GrantedBy: BillingActor, Reason: "payment failed: grace period",
			}})
		}
	case membership.StatusSuspended:
		// The provider stopped collecting: a grace window that a failed
		// payment opened runs on; a subscription paused while paid up gets
		// none.
		closeSub("subscription suspended")
	case membership.StatusCanceled, membership.StatusPending:
		closeSub("subscription ended")
	default:
		closeSub("no membership")
	}
	return changes
}

// latestOpen returns the grant of source src that has not ended by now and
// started last, if any.
func latestOpen(grants []Grant, src Source, now time.Time) (Grant, bool) {
	var best Grant
	found := false
	for _, g := range grants {
		if g.Source == src && g.openAt(now) && (!found || g.From.After(best.From)) {
			best, found = g, true
		}
	}
	return best, found
}
