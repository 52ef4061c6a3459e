package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// SyncSubscriptionInput names a subscription to apply. PersonID, when
// known (a checkout just linked them, a scheduled period end), skips the
// owner look-up. Reason travels with member.changed.
type SyncSubscriptionInput struct {
	SubscriptionID string
	PersonID       string
	Reason         string
}

// SyncSubscription fetches a subscription from billing (the truth, at the
// adapter's pinned API version), locks the person's membership and applies
// it as a snapshot. Duplicates and out-of-order deliveries converge, because
// every sync applies the provider's current state, stamped with the shared
// database's time right after the fetch (never a replica's own clock, which
// may be skewed), and a stale one is ignored.
type SyncSubscription struct {
	billing ports.Billing
	owners  subscriptionOwners
	tiers   ports.TierCatalog
	change  membershipChange
	alerter ports.Alerter
}

// SyncSubscriptionDeps are the ports SyncSubscription uses.
type SyncSubscriptionDeps struct {
	Billing     ports.Billing
	Memberships ports.MembershipReader
	People      ports.PersonFinder
	Tiers       ports.TierCatalog
	UoW         ports.UnitOfWork[ports.MembershipTx]
	Alerter     ports.Alerter
	Clock       ports.Clock
	// SnapshotClock stamps each fetched snapshot; every replica reads the
	// same one.
	SnapshotClock ports.SharedClock
	// Access is the grace policy the access ledger follows.
	Access AccessPolicy
}

// NewSyncSubscription refuses nil dependencies.
func NewSyncSubscription(d SyncSubscriptionDeps) (SyncSubscription, error) {
	if anyNil(d.Billing, d.Memberships, d.People, d.Tiers, d.UoW, d.Alerter, d.Clock, d.SnapshotClock) {
		return SyncSubscription{}, nilDependency("sync subscription")
	}
	return SyncSubscription{billing: d.Billing, owners: subscriptionOwners{memberships: d.Memberships, people: d.People},
		tiers: d.Tiers, change: membershipChange{uow: d.UoW, clock: d.Clock, stamp: d.SnapshotClock, access: d.Access}, alerter: d.Alerter}, nil
}

// Handle applies the subscription; an empty id does nothing. It returns an
// error wrapping errDeferred when no person owns the subscription yet, and
// ErrNotConfigured without billing.
func (h SyncSubscription) Handle(ctx context.Context, in SyncSubscriptionInput) error {
	if in.SubscriptionID == "" {
		return nil
	}
	sub, err := h.billing.GetSubscription(ctx, in.SubscriptionID)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.Permanent(fmt.Errorf("subscription %s does not exist at the billing provider", in.SubscriptionID))
	}
	if err != nil {
		return fmt.Errorf("fetch subscription: %w", err)
	}
	// The snapshot's time is the database's, read after the fetch: the
	// same clock for every replica.
	taken, err := h.change.stamp.Now(ctx)
	if err != nil {
		return fmt.Errorf("stamp the subscription snapshot: %w", err)
	}
	personID := in.PersonID
	if personID == "" {
		if personID, err = h.owners.of(ctx, sub.ID, sub.CustomerID); err != nil {
			return err
		}
	}
	tier, unknownPrice, err := h.tierFor(ctx, sub.PriceID)
	if err != nil {
		return err
	}
	snap, err := membership.NewSnapshot(membership.SnapshotParams{
		SubscriptionID: sub.ID, Status: sub.Status, Tier: tier, CancelAtPeriodEnd: sub.CancelAtPeriodEnd,
		CurrentPeriodEnd: sub.CurrentPeriodEnd, TakenAt: taken, PaymentAttempt: sub.LatestInvoiceAttempt,
	})
	if err != nil {
		return ports.Permanent(fmt.Errorf("subscription %s: %w", sub.ID, err))
	}
	ch := change{personID: personID, subscriptionID: sub.ID, reason: in.Reason, details: map[string]any{"status": sub.Status.String()}}
	duplicates := false
	applied, err := h.change.apply(ctx, ch, func(m *membership.Membership) ([]membership.Event, error) {
		events, err := m.ApplySnapshot(snap)
		duplicates = m.DuplicateSubscriptionIDs() != nil
		if stale := (membership.StaleSnapshotError{}); errors.As(err, &stale) {
			return nil, nil
		}
		return events, err
	})
	if err != nil {
		return err
	}
	if duplicates {
		// Checked on every sync while the person holds duplicates, so that
		// an alert that failed is sent by the retry.
		if err := alertDuplicates(ctx, h.change.uow, h.alerter, personID); err != nil {
			return err
		}
	}
	if !unknownPrice || !applied {
		return nil
	}
	err = h.alerter.Alert(ctx, ports.Alert{Severity: ports.SeverityWarning, Title: "Subscription price maps to no tier",
		Detail: "A membership was recorded with tier \"unknown\". Map the price to a tier in membership_tiers.",
		Fields: map[string]string{"subscription_id": sub.ID, "price_id": sub.PriceID, "person_id": personID}})
	if err != nil {
		return fmt.Errorf("subscription %s applied, but the unknown-price alert failed: %w", sub.ID, err)
	}
	return nil
}

func (h SyncSubscription) tierFor(ctx context.Context, priceID string) (membership.Tier, bool, error) {
	t, err := h.tiers.TierForPrice(ctx, priceID)
	if errors.Is(err, ports.ErrNotFound) {
		return membership.UnknownTier(), true, nil
	}
	if err != nil {
		return membership.Tier{}, false, err
	}
	tier, err := membership.NewTier(t.ID)
	return tier, false, err
}
