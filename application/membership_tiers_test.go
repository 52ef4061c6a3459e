package application_test

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

func TestMembershipTiersReturnsCatalogInOrder(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	catalog := mocks.NewMockTierCatalog(ctrl)
	want := []ports.MembershipTier{{ID: "community", Name: "Community"}, {ID: "leader", Name: "Leader"}}
	catalog.EXPECT().ListTiers(gomock.Any()).Return(want, nil).Times(1)

	h, err := application.NewMembershipTiersHandler(catalog)
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.Handle(context.Background())
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if len(got) != 2 || got[0].ID != "community" || got[1].ID != "leader" {
		t.Fatalf("tiers = %+v, want %+v", got, want)
	}
}

func TestMembershipTiersWrapsStoreFailure(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	catalog := mocks.NewMockTierCatalog(ctrl)
	boom := errors.New("connection refused")
	catalog.EXPECT().ListTiers(gomock.Any()).Return(nil, boom)

	h, err := application.NewMembershipTiersHandler(catalog)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap %v", err, boom)
	}
}

func TestMembershipTiersRefusesNilCatalog(t *testing.T) {
	t.Parallel()
	if _, err := application.NewMembershipTiersHandler(nil); err == nil {
		t.Fatal("NewMembershipTiersHandler(nil) succeeded, want an error at start-up")
	}
}
