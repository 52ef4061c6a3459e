package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

func TestBillingInboxInsertsOnceAndKeepsTheKind(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	inbox := postgres.NewBillingInbox(pool)
	ev := ports.BillingEvent{ID: "evt_1", Kind: ports.BillingPaymentFailed, Type: "invoice.payment_failed", Created: time.Now().UTC().Truncate(time.Microsecond),
		Payload: []byte(`{"id": "evt_1"}`), InvoiceID: "in_1", CustomerID: "cus_1", AttemptCount: 2}
	if ok, err := inbox.Insert(ctx, ev, "webhook"); err != nil || !ok {
		t.Fatalf("first Insert = %v, %v", ok, err)
	}
	dup := ev
	dup.Kind, dup.Type = ports.BillingEventOther, "changed"
	if ok, err := inbox.Insert(ctx, dup, "reconcile"); err != nil || ok {
		t.Fatalf("duplicate Insert = %v, %v; want false, nil", ok, err)
	}
	got, err := inbox.Get(ctx, "evt_1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != ports.BillingPaymentFailed || got.Type != ev.Type || got.Source != "webhook" || got.Status != ports.InboxReceived ||
		got.InvoiceID != "in_1" || got.AttemptCount != 2 || !got.Created.Equal(ev.Created) {
		t.Fatalf("Get = %+v", got)
	}
	bad := ev
	bad.ID, bad.Kind = "evt_2", "refund"
	if _, err := inbox.Insert(ctx, bad, "webhook"); err == nil {
		t.Fatal("an unknown kind was stored")
	}
}

// TestBillingInboxAddRefusesAStoredID: Add outside a unit of work stores a
// new event at once and answers ErrAlreadyStored for an id already stored,
// by Add or by Insert, keeping the stored event as it was.
func TestBillingInboxAddRefusesAStoredID(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	inbox := postgres.NewBillingInbox(pool)
	ev := ports.BillingEvent{ID: "evt_add", Kind: ports.BillingSubscriptionChanged, Type: "customer.subscription.updated",
		Created: time.Now(), Payload: []byte(`{"id": "evt_add"}`), SubscriptionID: "sub_1"}
	if err := inbox.Add(ctx, ev, "webhook"); err != nil {
		t.Fatal(err)
	}
	dup := ev
	dup.Type = "changed"
	if err := inbox.Add(ctx, dup, "reconcile"); !errors.Is(err, ports.ErrAlreadyStored) {
		t.Fatalf("Add of a stored id = %v, want ErrAlreadyStored", err)
	}
	inserted := ev
	inserted.ID = "evt_inserted"
	if ok, err := inbox.Insert(ctx, inserted, "webhook"); err != nil || !ok {
		t.Fatalf("Insert = %v, %v", ok, err)
	}
	if err := inbox.Add(ctx, inserted, "webhook"); !errors.Is(err, ports.ErrAlreadyStored) {
		t.Fatalf("Add of an id Insert stored = %v, want ErrAlreadyStored", err)
	}
	if got, err := inbox.Get(ctx, "evt_add"); err != nil || got.Type != ev.Type || got.Source != "webhook" {
		t.Fatalf("stored event = %+v, %v", got, err)
	}
	bad := ev
	bad.ID, bad.Kind = "evt_bad", "refund"
	if err := inbox.Add(ctx, bad, "webhook"); err == nil || errors.Is(err, ports.ErrAlreadyStored) {
		t.Fatalf("Add of an unknown kind = %v", err)
	}
}

func TestBillingEventKindMigrationClassifiesStoredEvents(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	m, err := postgres.NewMigrator(pool)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Close() }()
	for {
		v, err := m.Down(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v <= 8 {
			break
		}
	}
	want := map[string]ports.BillingEventKind{
		"customer.subscription.created": ports.BillingSubscriptionChanged,
		"customer.subscription.updated": ports.BillingSubscriptionChanged,
		"customer.subscription.deleted": ports.BillingSubscriptionChanged,
		"checkout.session.completed":    ports.BillingCheckoutCompleted,
		"invoice.payment_failed":        ports.BillingPaymentFailed,
		"invoice.paid":                  ports.BillingEventOther,
	}
	for typ := range want {
		if _, err := pool.Exec(ctx, `INSERT INTO billing_inbox (event_id, type, created, payload, source) VALUES ($1, $1, now(), '{}', 'webhook')`, typ); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	inbox := postgres.NewBillingInbox(pool)
	for typ, kind := range want {
		got, err := inbox.Get(ctx, typ)
		if err != nil || got.Kind != kind {
			t.Errorf("%s: kind %q, %v; want %q", typ, got.Kind, err, kind)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE billing_inbox SET kind = 'refund'`); err == nil {
		t.Error("the column took an unknown kind")
	}
}
