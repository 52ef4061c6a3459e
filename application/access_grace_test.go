package application_test

import (
	"context"
	"testing"
	"time"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// syncAt syncs blSub as the provider reports it with mods at the world's
// now (the snapshot is stamped then, so later syncs are newer).
func (w *billingWorld) syncAt(mods ...func(*ports.BillingSubscription)) {
	w.t.Helper()
	w.provider(blSubscription(mods...))
	w.priceIsTier()
	h, err := application.NewSyncSubscription(application.SyncSubscriptionDeps{Billing: w.billing, Memberships: w.reader, People: w.finder,
		Tiers: w.tiers, UoW: blTxOf(w, w.mUoW), Alerter: w.alerter, Clock: w.clock(), SnapshotClock: sharedAt{w.now}, Access: blPolicy})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := h.Handle(context.Background(), application.SyncSubscriptionInput{SubscriptionID: blSub, PersonID: blPerson, Reason: ports.ReasonSubscriptionSync}); err != nil {
		w.t.Fatal(err)
	}
}

func pastDue(s *ports.BillingSubscription) {
	s.Status, s.LatestInvoiceAttempt = membership.ProviderPastDue, 1
}

// accessEvents are the access events of every member.changed published.
func (w *billingWorld) accessEvents() []string {
	var out []string
	for _, m := range w.memberChanged() {
		for _, e := range m.Events {
			if e == application.EventAccessStarted || e == application.EventAccessEnded {
				out = append(out, e)
			}
		}
	}
	return out
}

// One grace policy, through the real membership change and the scheduled
// check: a failed payment keeps access for the grace window whatever the
// provider's retries; the check at its end ends access and hides the
// member, however often it runs; recovery opens a new subscription grant.
// Each transition is audited once.
func TestGracePeriodKeepsAccessThenEndsItAndRecoveryRestoresIt(t *testing.T) {
	t.Parallel()
	w := newBillingWorld(t)
	w.given(blPerson, blSnap(membership.ProviderActive, blNow.Add(-72*time.Hour)))
	w.listed()

	w.syncAt(pastDue) // the payment fails at blNow
	graceEnd := blNow.Add(blPolicy.GracePeriod)
	if w.accessEvents() != nil || !w.book.isActive(blPerson) || !w.member(blPerson).Visible() {
		t.Fatalf("after the failure: access events %v, active %v, listed %v; want access to go on", w.accessEvents(), w.book.isActive(blPerson), w.member(blPerson).Visible())
	}
	blEqual(t, "access checks", w.accessScheduled, []blAccessScheduled{blCheck(graceEnd)})
	a := ledger.Explain(w.book.of(blPerson), blNow)
	if !a.Has(ledger.SourceGrace) || a.Has(ledger.SourceSubscription) || !a.Until.Equal(graceEnd) {
		t.Fatalf("access in the grace window = %+v, want the grace grant alone, until %s", a, graceEnd)
	}

	w.now = graceEnd.Add(-time.Second) // still in the window; the provider still retries
	w.syncAt(pastDue, func(s *ports.BillingSubscription) { s.LatestInvoiceAttempt = 2 })
	if w.accessEvents() != nil || !w.book.isActive(blPerson) {
		t.Fatalf("a retry in the window ended access: %v", w.accessEvents())
	}

	w.now = graceEnd // the check scheduled at the window's end; redelivered once
	for range 2 {
		if err := w.checkAccess().Handle(context.Background(), application.CheckAccessInput{PersonID: blPerson}); err != nil {
			t.Fatal(err)
		}
	}
	blEqual(t, "access events at the end of grace", w.accessEvents(), []string{application.EventAccessEnded})
	if w.book.isActive(blPerson) || w.member(blPerson).Visible() || w.member(blPerson).Status() != membership.StatusPastDue {
		t.Fatalf("after grace: active %v, listed %v, status %s; want no access, hidden, still past_due at the provider",
			w.book.isActive(blPerson), w.member(blPerson).Visible(), w.member(blPerson).Status())
	}

	w.now = graceEnd.Add(24 * time.Hour) // paid after the window
	w.syncAt()
	blEqual(t, "access events after recovery", w.accessEvents(), []string{application.EventAccessEnded, application.EventAccessStarted})
	if a := ledger.Explain(w.book.of(blPerson), w.now); !a.Active || !a.Has(ledger.SourceSubscription) || !a.Until.IsZero() {
		t.Fatalf("access after recovery = %+v, want an open subscription grant", a)
	}
	blEqual(t, "audits by action", w.countActions(), map[string]int{
		"access.grant_closed": 1, // the subscription, at the failure (the grace grant ran out by itself)
		"access.grant_opened": 2, // the grace window, then the new subscription
		"access.ended":        1,
		"access.started":      1,
	})
}

// Recovery inside the window closes the grace grant early; access never
// stopped, so nothing starts or ends, and the old check finds nothing to do.
func TestRecoveryInsideTheGraceWindow(t *testing.T) {
	t.Parallel()
	w := newBillingWorld(t)
	w.given(blPerson, blSnap(membership.ProviderActive, blNow.Add(-72*time.Hour)))
	w.syncAt(pastDue)
	w.now = blNow.Add(48 * time.Hour)
	w.syncAt()
	w.now = blNow.Add(blPolicy.GracePeriod) // the check scheduled at the failure
	if err := w.checkAccess().Handle(context.Background(), application.CheckAccessInput{PersonID: blPerson}); err != nil {
		t.Fatal(err)
	}
	if w.accessEvents() != nil || !w.book.isActive(blPerson) {
		t.Fatalf("access events %v, active %v; want access throughout", w.accessEvents(), w.book.isActive(blPerson))
	}
	blEqual(t, "audits by action", w.countActions(), map[string]int{
		"access.grant_closed": 2, // the subscription at the failure, the grace window at recovery
		"access.grant_opened": 2, // the grace window, the new subscription
	})
	var grace ledger.Grant
	for _, g := range w.book.of(blPerson) {
		if g.Source == ledger.SourceGrace {
			grace = g
		}
	}
	if !grace.Until.Equal(blNow.Add(48*time.Hour)) || grace.RevokeReason != "payment recovered" {
		t.Errorf("grace grant %+v, want it closed at recovery", grace)
	}
}
