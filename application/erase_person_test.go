package application_test

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// erasureFixture is ErasePerson over mocks; integration states live in a map.
type erasureFixture struct {
	billing *mocks.MockBilling
	list    *mocks.MockEmailList
	audits  []ports.AuditEntry
	states  map[string]ports.IntegrationState
	h       application.ErasePerson
}

func newErasureFixture(t *testing.T, atPeriodEnd bool) *erasureFixture {
	t.Helper()
	ctrl := gomock.NewController(t)
	f := &erasureFixture{billing: mocks.NewMockBilling(ctrl), list: mocks.NewMockEmailList(ctrl), states: map[string]ports.IntegrationState{}}
	f.billing.EXPECT().Configured().Return(true).AnyTimes()
	memberships := mocks.NewMockMembershipReader(ctrl)
	memberships.EXPECT().Get(gomock.Any(), "p1").Return(membershipOf(t, "p1", "community", membership.ProviderActive), nil).AnyTimes()
	integrations := mocks.NewMockIntegrations(ctrl)
	integrations.EXPECT().Get(gomock.Any(), "p1", gomock.Any()).DoAndReturn(func(_ context.Context, _, provider string) (ports.IntegrationState, error) {
		st, ok := f.states[provider]
		if !ok {
			return ports.IntegrationState{}, ports.ErrNotFound
		}
		return st, nil
	}).AnyTimes()
	integrations.EXPECT().Put(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, st ports.IntegrationState) (int64, error) {
		st.Version++
		f.states[st.Provider] = st
		return st.Version, nil
	}).AnyTimes()
	audit := mocks.NewMockAuditLog(ctrl)
	audit.EXPECT().Record(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, e ports.AuditEntry) error {
		f.audits = append(f.audits, e)
		return nil
	}).AnyTimes()
	h, err := application.NewErasePerson(application.ErasePersonDeps{Billing: f.billing, List: f.list, Memberships: memberships,
		Integrations: integrations, Audit: audit, AtPeriodEnd: atPeriodEnd})
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	return f
}

func (f *erasureFixture) outcomes() map[string][]string {
	out := map[string][]string{}
	for _, e := range f.audits {
		out[e.Action] = append(out[e.Action], e.Outcome)
	}
	return out
}

var erasure = application.ErasePersonInput{PersonID: "p1", Email: "ada@example.test", CustomerID: "cus_1"}

func TestErasePersonAFailedProviderStepIsRetriedAloneAndNeverHoldsTheOther(t *testing.T) {
	t.Parallel()
	f := newErasureFixture(t, false)
	current := ports.BillingSubscription{ID: "sub_1", Status: membership.ProviderActive}
	boom := ports.Transient("billing", errors.New("503"), 0)
	gomock.InOrder(
		f.billing.EXPECT().GetSubscription(gomock.Any(), "sub_1").Return(current, nil),
		f.billing.EXPECT().CancelSubscription(gomock.Any(), "sub_1", false).Return(boom),
		// The retry: the subscription is canceled now, then the customer deleted.
		f.billing.EXPECT().GetSubscription(gomock.Any(), "sub_1").Return(current, nil),
		f.billing.EXPECT().CancelSubscription(gomock.Any(), "sub_1", false).Return(nil),
		f.billing.EXPECT().EraseCustomer(gomock.Any(), "cus_1", true).Return(nil),
	)
	// The email list succeeds on the first attempt and is not called again.
	f.list.EXPECT().DeletePermanently(gomock.Any(), "ada@example.test").Return(nil).Times(1)

	if err := f.h.Handle(context.Background(), erasure); !errors.Is(err, boom) {
		t.Fatalf("first attempt: %v, want the billing failure (the worker retries)", err)
	}
	if got := f.outcomes(); len(got["person.erase.billing"]) != 1 || got["person.erase.billing"][0] != ports.OutcomeFailure ||
		len(got["person.erase.email_list"]) != 1 || got["person.erase.email_list"][0] != ports.OutcomeSuccess {
		t.Fatalf("audit after the first attempt = %v", got)
	}
	if err := f.h.Handle(context.Background(), erasure); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if err := f.h.Handle(context.Background(), erasure); err != nil {
		t.Fatalf("a redelivery after success: %v", err)
	}
	if got := f.outcomes()["person.erase.billing"]; len(got) != 2 || got[1] != ports.OutcomeSuccess {
		t.Fatalf("billing audit = %v, want a failure then one success", got)
	}
}

func TestErasePersonAtPeriodEndKeepsTheCustomerAndClearsIt(t *testing.T) {
	t.Parallel()
	f := newErasureFixture(t, true)
	f.billing.EXPECT().GetSubscription(gomock.Any(), "sub_1").Return(ports.BillingSubscription{ID: "sub_1", Status: membership.ProviderActive}, nil)
	f.billing.EXPECT().CancelSubscription(gomock.Any(), "sub_1", true).Return(nil)
	f.billing.EXPECT().EraseCustomer(gomock.Any(), "cus_1", false).Return(nil)
	f.list.EXPECT().DeletePermanently(gomock.Any(), "ada@example.test").Return(nil)
	if err := f.h.Handle(context.Background(), erasure); err != nil {
		t.Fatal(err)
	}
	if f.states["billing_erasure"].Status != "erased" || f.states[application.EmailListIntegration].Status != "erased" {
		t.Fatalf("steps not recorded: %+v", f.states)
	}
}
