package graph_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"
	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

func newApp(t testing.TB, tiers []ports.MembershipTier, err error) *application.App {
	t.Helper()
	catalog := mocks.NewMockTierCatalog(gomock.NewController(t))
	catalog.EXPECT().ListTiers(gomock.Any()).Return(tiers, err).AnyTimes()
	return &application.App{Queries: application.Queries{ListMembershipTiers: built(application.NewListMembershipTiers(catalog))}}
}

// built returns a use case from its constructor; a refusal is a mistake
// in the test's wiring, so it panics (the test fails with it).
func built[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestMembershipTiersQuery(t *testing.T) {
	t.Parallel()
	app := newApp(t, []ports.MembershipTier{
		{ID: "community", Name: "Community", Description: "d", PriceDisplay: "$15 / month", SortOrder: 10},
	}, nil)
	c := client.New(graph.NewHandler(app, graph.Options{}))

	var resp struct {
		MembershipTiers []struct {
			ID, Name, PriceDisplay string
			SortOrder              int
		}
	}
	c.MustPost(`{ membershipTiers { id name priceDisplay sortOrder } }`, &resp)
	if len(resp.MembershipTiers) != 1 {
		t.Fatalf("tiers = %+v", resp.MembershipTiers)
	}
	got := resp.MembershipTiers[0]
	if got.ID != "community" || got.Name != "Community" || got.PriceDisplay != "$15 / month" || got.SortOrder != 10 {
		t.Fatalf("tier = %+v", got)
	}
}

func TestStoreFailureIsMaskedAsInternal(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, errors.New("dial tcp 10.0.0.7:5432: secret-host unreachable"))
	c := client.New(graph.NewHandler(app, graph.Options{}))

	var resp struct{ MembershipTiers []struct{ ID string } }
	err := c.Post(`{ membershipTiers { id } }`, &resp)
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	if strings.Contains(msg, "secret-host") {
		t.Fatalf("internal detail leaked to the client: %s", msg)
	}
	if !strings.Contains(msg, graph.CodeInternal) {
		t.Fatalf("error %s lacks code %s", msg, graph.CodeInternal)
	}
}

func TestComplexityLimitRejectsCostlyOperation(t *testing.T) {
	t.Parallel()
	app := newApp(t, []ports.MembershipTier{{ID: "a"}}, nil)
	c := client.New(graph.NewHandler(app, graph.Options{ComplexityLimit: 2}))

	var resp map[string]any
	err := c.Post(`{ membershipTiers { id name description priceDisplay sortOrder } }`, &resp)
	if err == nil || !strings.Contains(err.Error(), "COMPLEXITY_LIMIT_EXCEEDED") {
		t.Fatalf("err = %v, want a complexity error", err)
	}
}

func TestIntrospectionOnlyWhenEnabled(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, nil)
	var resp map[string]any
	if err := client.New(graph.NewHandler(app, graph.Options{})).Post(`{ __schema { queryType { name } } }`, &resp); err == nil {
		t.Error("introspection answered with it disabled")
	}
	if err := client.New(graph.NewHandler(app, graph.Options{Introspection: true})).Post(`{ __schema { queryType { name } } }`, &resp); err != nil {
		t.Errorf("introspection enabled but failed: %v", err)
	}
}
