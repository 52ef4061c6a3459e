package application_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

func TestStartCheckout(t *testing.T) {
	t.Parallel()
	urls := application.CheckoutURLs{Success: "https://wdai.test/welcome", Cancel: "https://wdai.test/join"}
	const checkoutURL = "https://checkout.test/c/1"
	expires := blNow.Add(application.CheckoutLifetime)
	// The lookup asks for a checkout still open an hour from now.
	reuseAt := blNow.Add(application.CheckoutReuseMargin)
	signedIn := func(t *testing.T) context.Context { return blUser(t, blPerson) }
	system := func(t *testing.T) context.Context {
		p, err := access.NewSystem("worker")
		if err != nil {
			t.Fatal(err)
		}
		return application.WithPrincipal(context.Background(), p)
	}
	anonymous := func(*testing.T) context.Context { return context.Background() }
	tierWithPrice := func(w *billingWorld) {
		w.tiers.EXPECT().GetTier(gomock.Any(), blTier).Return(ports.MembershipTier{ID: blTier, PriceID: blPrice}, nil)
	}
	customer := func(w *billingWorld) {
		w.configured(true)
		tierWithPrice(w)
		w.personRead.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson, PrimaryEmail: "ada@example.org", BillingCustomerID: blCustomer}, nil)
	}

	tests := []struct {
		name    string
		ctx     func(t *testing.T) context.Context
		tier    string // blTier when empty
		setup   func(w *billingWorld)
		open    func(co *mocks.MockOpenCheckouts) // nil: none open
		wantReq *ports.CheckoutRequest            // the provider call; nil: none made
		wantURL string
		wantErr blErrCheck
	}{
		{
			name:  "an open checkout of the same tier and customer is handed out again without a provider call",
			ctx:   signedIn,
			setup: customer,
			open: func(co *mocks.MockOpenCheckouts) {
				co.EXPECT().OpenCheckout(gomock.Any(), blPerson, blTier, reuseAt).Return(ports.OpenCheckout{PersonID: blPerson, TierID: blTier,
					CustomerID: blCustomer, URL: "https://checkout.test/c/open", ExpiresAt: blNow.Add(5 * time.Hour)}, nil)
			},
			wantURL: "https://checkout.test/c/open",
		},
		{
			name:  "an open checkout made before the person became a customer is replaced by a new one for the customer",
			ctx:   signedIn,
			setup: customer,
			open: func(co *mocks.MockOpenCheckouts) {
				co.EXPECT().OpenCheckout(gomock.Any(), blPerson, blTier, reuseAt).Return(ports.OpenCheckout{PersonID: blPerson, TierID: blTier,
					URL: "https://checkout.test/c/completed", ExpiresAt: blNow.Add(5 * time.Hour)}, nil)
			},
			wantReq: &ports.CheckoutRequest{PriceID: blPrice, CustomerID: blCustomer, CustomerEmail: "ada@example.org", ClientReferenceID: blPerson,
				SuccessURL: urls.Success, CancelURL: urls.Cancel, ExpiresAt: expires},
			wantURL: checkoutURL,
		},
		{
			name:  "a failing look-up of open checkouts is returned, and no session is created",
			ctx:   signedIn,
			setup: customer,
			open: func(co *mocks.MockOpenCheckouts) {
				co.EXPECT().OpenCheckout(gomock.Any(), blPerson, blTier, reuseAt).Return(ports.OpenCheckout{}, errBLDown)
			},
			wantErr: blIs(errBLDown),
		},
		{
			name: "member with a billing customer reuses it, with our person id as the reference",
			ctx:  signedIn,
			setup: func(w *billingWorld) {
				w.configured(true)
				tierWithPrice(w)
				w.personRead.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson, PrimaryEmail: "ada@example.org", BillingCustomerID: blCustomer}, nil)
			},
			wantReq: &ports.CheckoutRequest{PriceID: blPrice, CustomerID: blCustomer, CustomerEmail: "ada@example.org", ClientReferenceID: blPerson,
				SuccessURL: urls.Success, CancelURL: urls.Cancel, ExpiresAt: expires},
			wantURL: checkoutURL,
		},
		{
			name: "member without a customer prefills the email",
			ctx:  signedIn,
			setup: func(w *billingWorld) {
				w.configured(true)
				tierWithPrice(w)
				w.personRead.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson, PrimaryEmail: "ada@example.org"}, nil)
			},
			wantReq: &ports.CheckoutRequest{PriceID: blPrice, CustomerEmail: "ada@example.org", ClientReferenceID: blPerson,
				SuccessURL: urls.Success, CancelURL: urls.Cancel, ExpiresAt: expires},
			wantURL: checkoutURL,
		},
		{
			name:    "not signed in is forbidden",
			ctx:     anonymous,
			wantErr: blIs(access.ErrForbidden),
		},
		{
			name:    "a system principal is not a person and is forbidden",
			ctx:     system,
			wantErr: blIs(access.ErrForbidden),
		},
		{
			name:    "billing unconfigured",
			ctx:     signedIn,
			setup:   func(w *billingWorld) { w.configured(false) },
			wantErr: blIs(ports.ErrNotConfigured),
		},
		{
			name: "unknown tier is not found",
			ctx:  signedIn,
			tier: "gold",
			setup: func(w *billingWorld) {
				w.configured(true)
				w.tiers.EXPECT().GetTier(gomock.Any(), "gold").Return(ports.MembershipTier{}, ports.ErrNotFound)
			},
			wantErr: blIs(application.ErrNotFound),
		},
		{
			name: "tier without a price is invalid input",
			ctx:  signedIn,
			setup: func(w *billingWorld) {
				w.configured(true)
				w.tiers.EXPECT().GetTier(gomock.Any(), blTier).Return(ports.MembershipTier{ID: blTier}, nil)
			},
			wantErr: blIs(application.ErrInvalidInput),
		},
		{
			name: "people store failure is returned",
			ctx:  signedIn,
			setup: func(w *billingWorld) {
				w.configured(true)
				tierWithPrice(w)
				w.personRead.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{}, errBLDown)
			},
			wantErr: blIs(errBLDown),
		},
		{
			name: "provider failure is returned",
			ctx:  signedIn,
			setup: func(w *billingWorld) {
				w.configured(true)
				tierWithPrice(w)
				w.personRead.EXPECT().Get(gomock.Any(), blPerson).Return(ports.Person{ID: blPerson, PrimaryEmail: "ada@example.org"}, nil)
				w.billing.EXPECT().CreateCheckoutSession(gomock.Any(), gomock.Any()).Return("", errBLDown)
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
			co := mocks.NewMockOpenCheckouts(gomock.NewController(t))
			if tc.open != nil {
				tc.open(co)
			} else {
				co.EXPECT().OpenCheckout(gomock.Any(), blPerson, gomock.Any(), reuseAt).Return(ports.OpenCheckout{}, ports.ErrNotFound).MaxTimes(1)
			}
			if tc.wantReq != nil {
				w.billing.EXPECT().CreateCheckoutSession(gomock.Any(), *tc.wantReq).Return(checkoutURL, nil)
				// The new session is remembered with the expiry sent to the provider.
				co.EXPECT().SaveOpenCheckout(gomock.Any(), ports.OpenCheckout{PersonID: blPerson, TierID: blTier, CustomerID: tc.wantReq.CustomerID,
					URL: checkoutURL, ExpiresAt: expires})
			}
			h, err := application.NewStartCheckout(application.StartCheckoutDeps{Billing: w.billing, Tiers: w.tiers, People: w.personRead,
				Checkouts: co, Clock: w.clock(), URLs: urls})
			if err != nil {
				t.Fatal(err)
			}
			tier := tc.tier
			if tier == "" {
				tier = blTier
			}
			got, err := h.Handle(tc.ctx(t), tier)
			blCheckErr(t, err, tc.wantErr)
			if got != tc.wantURL {
				t.Errorf("url = %q, want %q", got, tc.wantURL)
			}
		})
	}
}
