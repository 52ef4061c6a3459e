package application_test

import (
	"context"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

func TestOpenBillingPortal(t *testing.T) {
	t.Parallel()
	const returnURL, portalURL = "https://wdai.test/account", "https://billing.test/p/1"
	tests := []struct {
		name       string
		ctx        func(t *testing.T) context.Context
		setup      func(w *billingWorld)
		wantPortal bool // the provider call for blCustomer is made
		wantErr    blErrCheck
	}{
		{
			name: "member with a billing customer gets the customer's portal",
			ctx:  func(t *testing.T) context.Context { return blUser(t, blPerson) },
			setup: func(w *billingWorld) {
				w.configured(true)
				w.personRead.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson, BillingCustomerID: blCustomer}, nil)
			},
			wantPortal: true,
		},
		{
			name: "member without a billing customer is told to join first",
			ctx:  func(t *testing.T) context.Context { return blUser(t, blPerson) },
			setup: func(w *billingWorld) {
				w.configured(true)
				w.personRead.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson}, nil)
			},
			wantErr: blIs(application.ErrInvalidInput),
		},
		{
			name:    "not signed in is forbidden",
			ctx:     func(*testing.T) context.Context { return context.Background() },
			wantErr: blIs(access.ErrForbidden),
		},
		{
			name:    "billing unconfigured",
			ctx:     func(t *testing.T) context.Context { return blUser(t, blPerson) },
			setup:   func(w *billingWorld) { w.configured(false) },
			wantErr: blIs(ports.ErrNotConfigured),
		},
		{
			name: "people store failure is returned",
			ctx:  func(t *testing.T) context.Context { return blUser(t, blPerson) },
			setup: func(w *billingWorld) {
				w.configured(true)
				w.personRead.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{}, errBLDown)
			},
			wantErr: blIs(errBLDown),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newBillingWorld(t)
			if tc.setup != nil {
				tc.setup(w)
			}
			if tc.wantPortal {
				w.billing.EXPECT().CreatePortalSession(gomock.Any(), blCustomer, returnURL).Return(portalURL, nil)
			}
			h, err := application.NewOpenBillingPortal(w.billing, w.personRead, returnURL)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(tc.ctx(t))
			blCheckErr(t, err, tc.wantErr)
			if want := map[bool]string{true: portalURL}[tc.wantPortal]; got != want {
				t.Errorf("url = %q, want %q", got, want)
			}
		})
	}
}
