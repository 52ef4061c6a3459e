package application_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

func TestReachPeriodEnd(t *testing.T) {
	t.Parallel()
	ended := blNow.Add(-time.Hour)
	endsAt := func(at time.Time) func(*membership.SnapshotParams) {
		return func(p *membership.SnapshotParams) { p.CancelAtPeriodEnd, p.CurrentPeriodEnd = true, at }
	}
	scheduledUntil := func(at time.Time) []membership.SnapshotParams {
		return []membership.SnapshotParams{blSnap(membership.ProviderActive, blNow.Add(-48*time.Hour), endsAt(at))}
	}
	in := application.ReachPeriodEndInput{PersonID: blPerson, SubscriptionID: blSub}
	// The subscription grant ended at the period end; no access check has
	// run since, so the cancellation is where access ends (once).
	canceled := []ports.MemberChangedMessage{{PersonID: blPerson, Reason: ports.ReasonPeriodEnd, Events: []string{membership.NameCanceled, application.EventAccessEnded}}}
	errCommit := errors.New("commit failed")

	tests := []struct {
		name        string
		given       []membership.SnapshotParams
		in          application.ReachPeriodEndInput
		configured  bool
		setup       func(w *billingWorld)
		commitErr   error
		wantErr     blErrCheck
		wantChanged []ports.MemberChangedMessage
		wantAudits  []ports.AuditEntry
		wantStatus  membership.Status
	}{
		{
			name:  "due, with the provider still reporting the scheduled cancellation: canceled once",
			given: scheduledUntil(ended), in: in, configured: true,
			setup: func(w *billingWorld) {
				w.provider(blSubscription(func(s *ports.BillingSubscription) { s.CancelAtPeriodEnd, s.CurrentPeriodEnd = true, ended }))
				w.priceIsTier()
			},
			wantChanged: canceled,
			wantAudits:  []ports.AuditEntry{blMembershipAudit(blPerson, ports.ReasonPeriodEnd, "active", membership.NameCanceled, application.EventAccessEnded)},
			wantStatus:  membership.StatusCanceled,
		},
		{
			name:  "due, with the provider's deletion already there: canceled once",
			given: scheduledUntil(ended), in: in, configured: true,
			setup: func(w *billingWorld) {
				w.provider(blSubscription(func(s *ports.BillingSubscription) { s.Status, s.CurrentPeriodEnd = membership.ProviderCanceled, ended }))
				w.priceIsTier()
			},
			wantChanged: canceled,
			wantAudits:  []ports.AuditEntry{blMembershipAudit(blPerson, ports.ReasonPeriodEnd, "canceled", membership.NameCanceled, application.EventAccessEnded)},
			wantStatus:  membership.StatusCanceled,
		},
		{
			name:  "billing unconfigured skips the sync and cancels from what is stored",
			given: scheduledUntil(ended), in: in, configured: false,
			wantChanged: canceled,
			wantAudits:  []ports.AuditEntry{blMembershipAudit(blPerson, ports.ReasonPeriodEnd, "", membership.NameCanceled, application.EventAccessEnded)},
			wantStatus:  membership.StatusCanceled,
		},
		{
			name:  "no subscription id: nothing to fetch, cancels from what is stored",
			given: scheduledUntil(ended), in: application.ReachPeriodEndInput{PersonID: blPerson}, configured: true,
			wantChanged: canceled,
			wantAudits: []ports.AuditEntry{{ActorKind: "system", ActorID: "billing", Action: "membership.change", SubjectKind: "person", SubjectID: blPerson,
				Outcome: ports.OutcomeSuccess, Details: map[string]any{"subscription_id": "", "events": []string{membership.NameCanceled, application.EventAccessEnded}, "reason": ports.ReasonPeriodEnd}}},
			wantStatus: membership.StatusCanceled,
		},
		{
			name:  "not due yet (the period was extended): nothing happens",
			given: scheduledUntil(blNow.Add(24 * time.Hour)), in: in, configured: false,
			wantStatus: membership.StatusActive,
		},
		{
			name:  "no scheduled cancellation (it was withdrawn): nothing happens",
			given: []membership.SnapshotParams{blSnap(membership.ProviderActive, blNow.Add(-time.Hour))}, in: in, configured: false,
			wantStatus: membership.StatusActive,
		},
		{
			name:  "provider failure is returned and nothing is canceled",
			given: scheduledUntil(ended), in: in, configured: true,
			setup: func(w *billingWorld) {
				w.billing.EXPECT().GetSubscription(gomock.Any(), blSub).Return(ports.BillingSubscription{}, errBLDown)
			},
			wantErr:    func(err error) bool { return blTransient(err) && errors.Is(err, errBLDown) },
			wantStatus: membership.StatusActive,
		},
		{
			name:    "message without a person is malformed: permanent invalid input",
			in:      application.ReachPeriodEndInput{SubscriptionID: blSub},
			wantErr: func(err error) bool { return ports.IsPermanent(err) && errors.Is(err, application.ErrInvalidInput) },
		},
		{
			name:  "commit failure is returned and nothing is announced",
			given: scheduledUntil(ended), in: in, configured: false,
			commitErr: errCommit,
			wantErr:   blIs(errCommit),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newBillingWorld(t)
			w.configured(tc.configured)
			if len(tc.given) > 0 {
				w.given(blPerson, tc.given...)
			}
			if tc.setup != nil {
				tc.setup(w)
			}
			w.mUoW.commitErr = tc.commitErr
			err := w.periodEnd().Handle(context.Background(), tc.in)
			blCheckErr(t, err, tc.wantErr)
			blEqual(t, "member.changed", w.memberChanged(), tc.wantChanged)
			blEqual(t, "audit", w.membershipAudits(), tc.wantAudits)
			var wantAccess []string
			if len(tc.wantChanged) > 0 {
				wantAccess = []string{"access.ended"}
			}
			blEqual(t, "access audit", w.accessActions(), wantAccess)
			if tc.wantChanged != nil && (w.member(blPerson).Visible() || w.book.isActive(blPerson)) {
				t.Errorf("access ended but the member is still visible (%v) or recorded active (%v)", w.member(blPerson).Visible(), w.book.isActive(blPerson))
			}
			if len(w.scheduled) > 0 || len(w.accessScheduled) > 0 || len(w.alerts) > 0 {
				t.Errorf("scheduled %v, alerts %v; want none", w.scheduled, w.alerts)
			}
			if tc.wantStatus != 0 {
				if got := w.member(blPerson).Status(); got != tc.wantStatus {
					t.Errorf("membership = %s, want %s", got, tc.wantStatus)
				}
			}
		})
	}
}
