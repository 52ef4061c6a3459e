package application_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

func TestSyncSubscription(t *testing.T) {
	t.Parallel()
	sync := application.SyncSubscriptionInput{SubscriptionID: blSub, Reason: ports.ReasonSubscriptionSync}
	withPerson := application.SyncSubscriptionInput{SubscriptionID: blSub, PersonID: blPerson, Reason: ports.ReasonSubscriptionSync}
	// Activation starts access: the ledger opens a subscription grant, and
	// member.changed says access_started with the membership's events.
	activated := ports.MemberChangedMessage{PersonID: blPerson, Reason: ports.ReasonSubscriptionSync, Events: []string{membership.NameActivated, application.EventAccessStarted}}
	activatedAudit := blMembershipAudit(blPerson, ports.ReasonSubscriptionSync, "active", membership.NameActivated, application.EventAccessStarted)
	accessStarted := []string{"access.grant_opened", "access.started"}
	unknownPrice := func(s *ports.BillingSubscription) { s.PriceID = "price_mystery" }
	priceUnknown := func(w *billingWorld) {
		w.tiers.EXPECT().TierForPrice(gomock.Any(), "price_mystery").Return(ports.MembershipTier{}, ports.ErrNotFound)
	}
	errCommit := errors.New("commit failed")

	tests := []struct {
		name      string
		given     []membership.SnapshotParams // blPerson's stored membership
		in        application.SyncSubscriptionInput
		setup     func(w *billingWorld)
		commitErr error
		wantErr   blErrCheck
		// What a user sees:
		wantChanged   []ports.MemberChangedMessage
		wantScheduled []blScheduled
		wantAudits    []ports.AuditEntry  // other than the access ledger's
		wantAccess    []string            // the access ledger's audit actions
		wantChecks    []blAccessScheduled // access checks scheduled
		wantAlerts    []map[string]string // the fields of each alert
		wantStatus    membership.Status   // blPerson's membership afterwards; 0: not checked
		wantTier      string
	}{
		{
			name: "new subscription activates the owner's membership, announces and audits it",
			in:   sync,
			setup: func(w *billingWorld) {
				w.provider(blSubscription())
				w.ownedBy(blSub, blPerson)
				w.priceIsTier()
			},
			wantChanged: []ports.MemberChangedMessage{activated}, wantAudits: []ports.AuditEntry{activatedAudit}, wantAccess: accessStarted,
			wantStatus: membership.StatusActive, wantTier: blTier,
		},
		{
			name: "a known person skips the owner look-up",
			in:   withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription())
				w.priceIsTier()
			},
			wantChanged: []ports.MemberChangedMessage{activated}, wantAudits: []ports.AuditEntry{activatedAudit}, wantAccess: accessStarted,
			wantStatus: membership.StatusActive, wantTier: blTier,
		},
		{
			name: "owner falls back to the person linked to the billing customer",
			in:   sync,
			setup: func(w *billingWorld) {
				w.provider(blSubscription())
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), blSub).Return("", ports.ErrNotFound)
				w.finder.EXPECT().GetByBillingCustomer(gomock.Any(), blCustomer).Return(ports.Person{ID: blPerson, BillingCustomerID: blCustomer}, nil)
				w.priceIsTier()
			},
			wantChanged: []ports.MemberChangedMessage{activated}, wantAudits: []ports.AuditEntry{activatedAudit}, wantAccess: accessStarted,
			wantStatus: membership.StatusActive, wantTier: blTier,
		},
		{
			name: "no owner yet defers, retryable, and changes nothing",
			in:   sync,
			setup: func(w *billingWorld) {
				w.provider(blSubscription())
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), blSub).Return("", ports.ErrNotFound)
				w.finder.EXPECT().GetByBillingCustomer(gomock.Any(), blCustomer).Return(ports.Person{}, ports.ErrNotFound)
			},
			wantErr: func(err error) bool {
				return blTransient(err) && strings.Contains(err.Error(), "no person is linked to customer "+blCustomer)
			},
		},
		{
			name: "owner look-up failure is returned",
			in:   sync,
			setup: func(w *billingWorld) {
				w.provider(blSubscription())
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), blSub).Return("", errBLDown)
			},
			wantErr: blIs(errBLDown),
		},
		{
			name: "customer look-up failure is returned, not deferred",
			in:   sync,
			setup: func(w *billingWorld) {
				w.provider(blSubscription())
				w.reader.EXPECT().PersonForSubscription(gomock.Any(), blSub).Return("", ports.ErrNotFound)
				w.finder.EXPECT().GetByBillingCustomer(gomock.Any(), blCustomer).Return(ports.Person{}, errBLDown)
			},
			wantErr: func(err error) bool { return errors.Is(err, errBLDown) && !strings.Contains(err.Error(), "deferred") },
		},
		{
			name:  "stale snapshot changes and announces nothing, and raises no alert",
			given: []membership.SnapshotParams{blSnap(membership.ProviderActive, blNow.Add(time.Hour))},
			in:    withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription(unknownPrice, func(s *ports.BillingSubscription) { s.Status = membership.ProviderCanceled }))
				priceUnknown(w)
			},
			wantStatus: membership.StatusActive, wantTier: blTier,
		},
		{
			name:  "unchanged subscription announces nothing",
			given: []membership.SnapshotParams{blSnap(membership.ProviderActive, blNow.Add(-time.Hour))},
			in:    withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription())
				w.priceIsTier()
			},
			wantStatus: membership.StatusActive, wantTier: blTier,
		},
		{
			name:  "a payment failure on the provider announces payment_failed with the attempt",
			given: []membership.SnapshotParams{blSnap(membership.ProviderActive, blNow.Add(-time.Hour))},
			in:    withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription(func(s *ports.BillingSubscription) {
					s.Status, s.LatestInvoiceAttempt = membership.ProviderPastDue, 2
				}))
				w.priceIsTier()
			},
			// The grace window opens: access goes on (no access_ended), and
			// its end is checked when it closes.
			wantChanged: []ports.MemberChangedMessage{{PersonID: blPerson, Reason: ports.ReasonSubscriptionSync, Events: []string{membership.NamePaymentFailed}}},
			wantAudits:  []ports.AuditEntry{blMembershipAudit(blPerson, ports.ReasonSubscriptionSync, "past_due", membership.NamePaymentFailed)},
			wantAccess:  []string{"access.grant_closed", "access.grant_opened"},
			wantChecks:  []blAccessScheduled{blCheck(blNow.Add(blPolicy.GracePeriod))},
			wantStatus:  membership.StatusPastDue, wantTier: blTier,
		},
		{
			name: "unknown price records tier unknown and alerts once",
			in:   withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription(unknownPrice))
				priceUnknown(w)
			},
			wantChanged: []ports.MemberChangedMessage{activated}, wantAudits: []ports.AuditEntry{activatedAudit}, wantAccess: accessStarted,
			wantAlerts: []map[string]string{{"subscription_id": blSub, "price_id": "price_mystery", "person_id": blPerson}},
			wantStatus: membership.StatusActive, wantTier: "unknown",
		},
		{
			name: "unknown-price alert failure is returned after the change is applied",
			in:   withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription(unknownPrice))
				priceUnknown(w)
				w.alertErr = errBLDown
			},
			wantErr:     func(err error) bool { return errors.Is(err, errBLDown) && strings.Contains(err.Error(), "applied") },
			wantChanged: []ports.MemberChangedMessage{activated}, wantAudits: []ports.AuditEntry{activatedAudit}, wantAccess: accessStarted,
			wantAlerts: []map[string]string{{"subscription_id": blSub, "price_id": "price_mystery", "person_id": blPerson}},
			wantStatus: membership.StatusActive, wantTier: "unknown",
		},
		{
			name: "subscription unknown to the provider is permanent",
			in:   sync,
			setup: func(w *billingWorld) {
				w.billing.EXPECT().GetSubscription(gomock.Any(), blSub).Return(ports.BillingSubscription{}, ports.ErrNotFound)
			},
			wantErr: blPermanent,
		},
		{
			name: "provider failure is retryable",
			in:   sync,
			setup: func(w *billingWorld) {
				w.billing.EXPECT().GetSubscription(gomock.Any(), blSub).Return(ports.BillingSubscription{}, errBLDown)
			},
			wantErr: func(err error) bool { return blTransient(err) && errors.Is(err, errBLDown) },
		},
		{
			name: "provider unconfigured is reported as such",
			in:   sync,
			setup: func(w *billingWorld) {
				w.billing.EXPECT().GetSubscription(gomock.Any(), blSub).Return(ports.BillingSubscription{}, ports.ErrNotConfigured)
			},
			wantErr: blIs(ports.ErrNotConfigured),
		},
		{
			name: "tier catalogue failure is returned and nothing is applied",
			in:   withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription())
				w.tiers.EXPECT().TierForPrice(gomock.Any(), blPrice).Return(ports.MembershipTier{}, errBLDown)
			},
			wantErr: blIs(errBLDown),
		},
		{
			name: "tier without a name is refused and nothing is applied",
			in:   withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription())
				w.tiers.EXPECT().TierForPrice(gomock.Any(), blPrice).Return(ports.MembershipTier{ID: " "}, nil)
			},
			wantErr: blIs(membership.ErrInvalidTier),
		},
		{
			name: "subscription with a status the domain does not know is permanent",
			in:   withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription(func(s *ports.BillingSubscription) { s.Status = 0 }))
				w.priceIsTier()
			},
			wantErr: func(err error) bool { return ports.IsPermanent(err) && errors.Is(err, membership.ErrInvalidSnapshot) },
		},
		{
			name: "scheduled cancellation schedules the period end at the period end",
			in:   withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription(func(s *ports.BillingSubscription) { s.CancelAtPeriodEnd = true }))
				w.priceIsTier()
			},
			wantChanged: []ports.MemberChangedMessage{{PersonID: blPerson, Reason: ports.ReasonSubscriptionSync,
				Events: []string{membership.NameActivated, membership.NameCancellationScheduled, application.EventAccessStarted}}},
			wantScheduled: []blScheduled{{Topic: ports.TopicMembershipPeriodEnd,
				Body: ports.PeriodEndMessage{PersonID: blPerson, SubscriptionID: blSub, At: blPeriodEnd}, At: blPeriodEnd}},
			wantAudits: []ports.AuditEntry{blMembershipAudit(blPerson, ports.ReasonSubscriptionSync, "active",
				membership.NameActivated, membership.NameCancellationScheduled, application.EventAccessStarted)},
			// The subscription grant ends at the period end, which
			// membership.period_end announces: no second check races it.
			wantAccess: accessStarted, wantChecks: nil,
			wantStatus: membership.StatusActive, wantTier: blTier,
		},
		{
			name: "scheduling failure rolls the change back",
			in:   withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription(func(s *ports.BillingSubscription) { s.CancelAtPeriodEnd = true }))
				w.priceIsTier()
				w.scheduleErr = errBLDown
			},
			// The access check at the period end is scheduled first now
			// (the access refresh runs before the change is announced).
			wantErr: func(err error) bool { return errors.Is(err, errBLDown) && strings.Contains(err.Error(), "schedule") },
		},
		{
			name: "publish failure rolls the change back",
			in:   withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription())
				w.priceIsTier()
				w.publishErr = errBLDown
			},
			wantErr: blIs(errBLDown),
		},
		{
			name: "audit failure rolls the change back",
			in:   withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription())
				w.priceIsTier()
				w.auditErr = errBLDown
			},
			wantErr: blIs(errBLDown),
		},
		{
			name: "membership lock failure is returned",
			in:   withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription())
				w.priceIsTier()
				w.updateErr = errBLDown
			},
			wantErr: blIs(errBLDown),
		},
		{
			name: "commit failure is returned and no unknown-price alert is raised",
			in:   withPerson,
			setup: func(w *billingWorld) {
				w.provider(blSubscription(unknownPrice))
				priceUnknown(w)
			},
			commitErr: errCommit,
			wantErr:   blIs(errCommit),
		},
		{
			name: "no subscription id does nothing",
			in:   application.SyncSubscriptionInput{PersonID: blPerson, Reason: ports.ReasonSubscriptionSync},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newBillingWorld(t)
			if len(tc.given) > 0 {
				w.given(blPerson, tc.given...)
			}
			if tc.setup != nil {
				tc.setup(w)
			}
			w.mUoW.commitErr = tc.commitErr
			err := w.sync().Handle(context.Background(), tc.in)
			blCheckErr(t, err, tc.wantErr)
			blEqual(t, "member.changed", w.memberChanged(), tc.wantChanged)
			blEqual(t, "scheduled", w.scheduled, tc.wantScheduled)
			blEqual(t, "audit", w.membershipAudits(), tc.wantAudits)
			blEqual(t, "access audit", w.accessActions(), tc.wantAccess)
			blEqual(t, "access checks", w.accessScheduled, tc.wantChecks)
			var alerts []map[string]string
			for _, a := range w.alerts {
				if a.Severity != ports.SeverityWarning {
					t.Errorf("alert severity = %s, want warning", a.Severity)
				}
				alerts = append(alerts, a.Fields)
			}
			blEqual(t, "alerts", alerts, tc.wantAlerts)
			if tc.wantStatus != 0 {
				m := w.member(blPerson)
				if m.Status() != tc.wantStatus || m.Tier().String() != tc.wantTier {
					t.Errorf("membership = %s on %q, want %s on %q", m.Status(), m.Tier(), tc.wantStatus, tc.wantTier)
				}
			}
		})
	}
}
