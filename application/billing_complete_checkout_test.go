package application_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

func TestCompleteCheckout(t *testing.T) {
	t.Parallel()
	const email = "ada@example.org"
	checkout := func(mods ...func(*ports.BillingEvent)) ports.BillingEvent {
		ev := ports.BillingEvent{ID: "evt_c", Kind: ports.BillingCheckoutCompleted, CustomerID: blCustomer, SubscriptionID: blSub,
			ClientReferenceID: blPerson, CustomerEmail: email, CustomerName: "  Ada King Lovelace "}
		for _, m := range mods {
			m(&ev)
		}
		return ev
	}
	linkAudit := func(personID, how string) ports.AuditEntry {
		return ports.AuditEntry{ActorKind: "system", ActorID: "billing", Action: "billing.link_customer", SubjectKind: "person", SubjectID: personID,
			Outcome: ports.OutcomeSuccess, Details: map[string]any{"customer_id": blCustomer, "matched_by": how, "event_id": "evt_c"}}
	}
	activatedFor := func(personID string) ports.MemberChangedMessage {
		return ports.MemberChangedMessage{PersonID: personID, Reason: ports.ReasonSubscriptionSync, Events: []string{membership.NameActivated, application.EventAccessStarted}}
	}
	syncs := func(w *billingWorld) {
		w.provider(blSubscription())
		w.priceIsTier()
	}
	noReference := func(w *billingWorld) {
		w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{}, ports.ErrNotFound)
	}
	errCommit := errors.New("commit failed")

	tests := []struct {
		name        string
		ev          ports.BillingEvent
		setup       func(w *billingWorld)
		commitErr   error
		wantErr     blErrCheck
		wantAudits  []ports.AuditEntry
		wantChanged []ports.MemberChangedMessage
		wantAlerts  []map[string]string
	}{
		{
			name: "person named by the client reference is linked to the customer and synced",
			ev:   checkout(),
			setup: func(w *billingWorld) {
				w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson, PrimaryEmail: email}, nil)
				w.people.EXPECT().SetBillingCustomer(gomock.Any(), blPerson, blCustomer).Return(nil)
				syncs(w)
			},
			wantAudits: []ports.AuditEntry{linkAudit(blPerson, "client_reference_id"),
				blMembershipAudit(blPerson, ports.ReasonSubscriptionSync, "active", membership.NameActivated, application.EventAccessStarted)},
			wantChanged: []ports.MemberChangedMessage{activatedFor(blPerson)},
		},
		{
			name: "unknown reference falls back to the person with the checkout email",
			ev:   checkout(),
			setup: func(w *billingWorld) {
				noReference(w)
				w.people.EXPECT().GetByEmail(gomock.Any(), email).Return(ports.Person{ID: "p2", PrimaryEmail: email}, nil)
				w.people.EXPECT().SetBillingCustomer(gomock.Any(), "p2", blCustomer).Return(nil)
				syncs(w)
			},
			wantAudits: []ports.AuditEntry{linkAudit("p2", "email"),
				blMembershipAudit("p2", ports.ReasonSubscriptionSync, "active", membership.NameActivated, application.EventAccessStarted)},
			wantChanged: []ports.MemberChangedMessage{activatedFor("p2")},
		},
		{
			name: "nobody with the email: a person is created from the checkout's name and linked",
			ev:   checkout(),
			setup: func(w *billingWorld) {
				noReference(w)
				w.people.EXPECT().GetByEmail(gomock.Any(), email).Return(ports.Person{}, ports.ErrNotFound)
				w.people.EXPECT().Create(gomock.Any(), email, "Ada", "King Lovelace").Return(ports.Person{ID: "p3", PrimaryEmail: email}, nil)
				w.people.EXPECT().SetBillingCustomer(gomock.Any(), "p3", blCustomer).Return(nil)
				syncs(w)
			},
			wantAudits: []ports.AuditEntry{linkAudit("p3", "created"),
				blMembershipAudit("p3", ports.ReasonSubscriptionSync, "active", membership.NameActivated, application.EventAccessStarted)},
			wantChanged: []ports.MemberChangedMessage{activatedFor("p3")},
		},
		{
			name: "already linked (a redelivery) links nothing again but still syncs",
			ev:   checkout(),
			setup: func(w *billingWorld) {
				w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson, BillingCustomerID: blCustomer}, nil)
				syncs(w)
			},
			wantAudits:  []ports.AuditEntry{blMembershipAudit(blPerson, ports.ReasonSubscriptionSync, "active", membership.NameActivated, application.EventAccessStarted)},
			wantChanged: []ports.MemberChangedMessage{activatedFor(blPerson)},
		},
		{
			name: "checkout without a customer links nothing",
			ev:   checkout(func(ev *ports.BillingEvent) { ev.CustomerID = "" }),
			setup: func(w *billingWorld) {
				w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson}, nil)
				syncs(w)
			},
			wantAudits:  []ports.AuditEntry{blMembershipAudit(blPerson, ports.ReasonSubscriptionSync, "active", membership.NameActivated, application.EventAccessStarted)},
			wantChanged: []ports.MemberChangedMessage{activatedFor(blPerson)},
		},
		{
			name: "checkout without a customer for a linked person raises no second-customer alert",
			ev:   checkout(func(ev *ports.BillingEvent) { ev.CustomerID = "" }),
			setup: func(w *billingWorld) {
				w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson, BillingCustomerID: "cus_0"}, nil)
				syncs(w)
			},
			wantAudits:  []ports.AuditEntry{blMembershipAudit(blPerson, ports.ReasonSubscriptionSync, "active", membership.NameActivated, application.EventAccessStarted)},
			wantChanged: []ports.MemberChangedMessage{activatedFor(blPerson)},
		},
		{
			name: "checkout without a subscription links and calls no provider",
			ev:   checkout(func(ev *ports.BillingEvent) { ev.SubscriptionID = "" }),
			setup: func(w *billingWorld) {
				w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson}, nil)
				w.people.EXPECT().SetBillingCustomer(gomock.Any(), blPerson, blCustomer).Return(nil)
			},
			wantAudits: []ports.AuditEntry{linkAudit(blPerson, "client_reference_id")},
		},
		{
			name: "second customer alerts an operator and keeps the first link",
			ev:   checkout(),
			setup: func(w *billingWorld) {
				w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson, BillingCustomerID: "cus_0"}, nil)
				syncs(w)
			},
			wantAudits:  []ports.AuditEntry{blMembershipAudit(blPerson, ports.ReasonSubscriptionSync, "active", membership.NameActivated, application.EventAccessStarted)},
			wantChanged: []ports.MemberChangedMessage{activatedFor(blPerson)},
			wantAlerts:  []map[string]string{{"person_id": blPerson, "linked_customer": "cus_0", "new_customer": blCustomer, "event_id": "evt_c"}},
		},
		{
			name: "second-customer alert failure is returned before the sync",
			ev:   checkout(),
			setup: func(w *billingWorld) {
				w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson, BillingCustomerID: "cus_0"}, nil)
				w.alertErr = errBLDown
			},
			wantErr: func(err error) bool {
				return errors.Is(err, errBLDown) && strings.Contains(err.Error(), "second customer")
			},
			wantAlerts: []map[string]string{{"person_id": blPerson, "linked_customer": "cus_0", "new_customer": blCustomer, "event_id": "evt_c"}},
		},
		{
			name: "no known person and no email is permanent",
			ev:   checkout(func(ev *ports.BillingEvent) { ev.CustomerEmail = "" }),
			setup: func(w *billingWorld) {
				noReference(w)
			},
			wantErr: blPermanent,
		},
		{
			name: "people store failure is retryable",
			ev:   checkout(),
			setup: func(w *billingWorld) {
				w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{}, errBLDown)
			},
			wantErr: func(err error) bool { return blTransient(err) && errors.Is(err, errBLDown) },
		},
		{
			name: "an email several people hold is not guessed: permanent, nothing linked",
			ev:   checkout(),
			setup: func(w *billingWorld) {
				noReference(w)
				w.people.EXPECT().GetByEmail(gomock.Any(), email).Return(ports.Person{}, fmt.Errorf("%w: p2, p3", ports.ErrAmbiguous))
			},
			wantErr: func(err error) bool { return blPermanent(err) && errors.Is(err, ports.ErrAmbiguous) },
		},
		{
			name: "person creation failure is returned",
			ev:   checkout(),
			setup: func(w *billingWorld) {
				noReference(w)
				w.people.EXPECT().GetByEmail(gomock.Any(), email).Return(ports.Person{}, ports.ErrNotFound)
				w.people.EXPECT().Create(gomock.Any(), email, "Ada", "King Lovelace").Return(ports.Person{}, errBLDown)
			},
			wantErr: func(err error) bool { return blTransient(err) && errors.Is(err, errBLDown) },
		},
		{
			name: "link failure is returned and nothing is synced",
			ev:   checkout(),
			setup: func(w *billingWorld) {
				w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson}, nil)
				w.people.EXPECT().SetBillingCustomer(gomock.Any(), blPerson, blCustomer).Return(errBLDown)
			},
			wantErr: blIs(errBLDown),
		},
		{
			name: "audit failure rolls the link back and nothing is synced",
			ev:   checkout(),
			setup: func(w *billingWorld) {
				w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson}, nil)
				w.people.EXPECT().SetBillingCustomer(gomock.Any(), blPerson, blCustomer).Return(nil)
				w.auditErr = errBLDown
			},
			wantErr: blIs(errBLDown),
		},
		{
			name: "commit failure is returned and nothing is synced",
			ev:   checkout(),
			setup: func(w *billingWorld) {
				w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson}, nil)
				w.people.EXPECT().SetBillingCustomer(gomock.Any(), blPerson, blCustomer).Return(nil)
			},
			commitErr: errCommit,
			wantErr:   blIs(errCommit),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newBillingWorld(t)
			if tc.setup != nil {
				tc.setup(w)
			}
			w.pUoW.commitErr = tc.commitErr
			err := w.checkout().Handle(context.Background(), tc.ev)
			blCheckErr(t, err, tc.wantErr)
			blEqual(t, "audit", w.membershipAudits(), tc.wantAudits)
			// Each activation starts access once: a subscription grant opened, access started.
			var wantAccess []string
			if len(tc.wantChanged) > 0 {
				wantAccess = []string{"access.grant_opened", "access.started"}
			}
			blEqual(t, "access audit", w.accessActions(), wantAccess)
			blEqual(t, "member.changed", w.memberChanged(), tc.wantChanged)
			var alerts []map[string]string
			for _, a := range w.alerts {
				alerts = append(alerts, a.Fields)
			}
			blEqual(t, "alerts", alerts, tc.wantAlerts)
		})
	}
}

// The customer's deferred events are queued again in the transaction that
// links the customer: with it, or not at all.
func TestCompleteCheckoutRequeuesTheCustomersDeferredEventsWithTheLink(t *testing.T) {
	t.Parallel()
	for _, commitErr := range []error{nil, errors.New("commit failed")} {
		w := newBillingWorld(t)
		w.waiting = map[string][]string{blCustomer: {"evt_sub_updated", "evt_payment_failed"}}
		w.people.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson, PrimaryEmail: "ada@example.org"}, nil)
		w.people.EXPECT().SetBillingCustomer(gomock.Any(), blPerson, blCustomer).Return(nil)
		w.pUoW.commitErr = commitErr
		if commitErr == nil {
			w.provider(blSubscription())
			w.priceIsTier()
		}
		err := w.checkout().Handle(context.Background(), ports.BillingEvent{ID: "evt_c", Kind: ports.BillingCheckoutCompleted,
			CustomerID: blCustomer, SubscriptionID: blSub, ClientReferenceID: blPerson})
		if !errors.Is(err, commitErr) {
			t.Fatalf("commit error %v: Handle = %v", commitErr, err)
		}
		var want []string
		if commitErr == nil {
			want = []string{"evt_sub_updated", "evt_payment_failed"}
		}
		blEqual(t, "queued", w.queuedEvents(), want)
	}
}
