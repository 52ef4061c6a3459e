package application_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

func TestListMembershipTiers(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection refused")
	catalog := []ports.MembershipTier{
		{ID: "community", Name: "Community", PriceDisplay: "$10/month", PriceID: "price_c", SortOrder: 1},
		{ID: "leader", Name: "Leader", PriceDisplay: "$30/month", SortOrder: 2}, // no price yet
	}
	tests := []struct {
		name    string
		tiers   []ports.MembershipTier
		err     error
		want    []application.MembershipTier
		wantErr error
	}{
		{"the catalog in display order, unchanged", catalog, nil, catalog, nil},
		{"no tiers on offer", []ports.MembershipTier{}, nil, []application.MembershipTier{}, nil},
		{"the catalog fails", nil, boom, nil, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mocks.NewMockTierCatalog(gomock.NewController(t))
			c.EXPECT().ListTiers(gomock.Any()).Return(tt.tiers, tt.err).Times(1)
			h, err := application.NewListMembershipTiers(c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(context.Background()) // public: no principal needed
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want it to wrap %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("tiers = %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := application.NewListMembershipTiers(nil); err == nil {
		t.Fatal("NewListMembershipTiers(nil) succeeded, want an error at start-up")
	}
	var typedNil *mocks.MockTierCatalog
	if _, err := application.NewListMembershipTiers(typedNil); err == nil {
		t.Fatal("NewListMembershipTiers(typed nil) succeeded, want an error at start-up")
	}
}
