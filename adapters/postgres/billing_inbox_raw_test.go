package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// TestBillingInboxStoresWhatJsonbRefuses: a signed event whose JSON holds
// \u0000, an unpaired surrogate escape or bytes that are not UTF-8 (in the
// payload and in the fields taken from it) is stored, and read back with
// its payload byte for byte. The same inserts without the raw column fail
// (the check that the cases are real).
func TestBillingInboxStoresWhatJsonbRefuses(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	inbox := postgres.NewBillingInbox(pool)
	cases := map[string][]byte{
		"nul escape":        []byte(`{"id":"evt","data":{"object":{"customer_details":{"name":"A\u0000B"}}}}`),
		"invalid utf-8":     append([]byte(`{"id":"evt","name":"`), 0xff, 0xfe, '"', '}'),
		"lone high":         []byte(`{"id":"evt","name":"\ud800x"}`),
		"lone low":          []byte(`{"id":"evt","name":"\udc00"}`),
		"escaped backslash": []byte(`{"id":"evt","name":"\\u0000 is text"}`),
		"pair":              []byte(`{"id":"evt","name":"\ud83d\ude00"}`),
	}
	i := 0
	for name, payload := range cases {
		i++
		if _, err := pool.Exec(ctx, `SELECT $1::text::jsonb`, string(bytes.ToValidUTF8(payload, []byte("?")))); err == nil && name != "escaped backslash" && name != "pair" && name != "invalid utf-8" {
			t.Errorf("%s: jsonb accepts it; the case tests nothing", name)
		}
		ev := ports.BillingEvent{ID: fmt.Sprintf("evt_raw_%d", i), Kind: ports.BillingCheckoutCompleted, Type: "checkout.session.completed",
			Created: time.Now().UTC(), Payload: payload, CustomerName: "A\x00B\xff", CustomerEmail: "a\x00@example.test"}
		if ok, err := inbox.Insert(ctx, ev, "webhook"); err != nil || !ok {
			t.Fatalf("%s: Insert = %v, %v", name, ok, err)
		}
		got, err := inbox.Get(ctx, ev.ID)
		if err != nil {
			t.Fatalf("%s: Get: %v", name, err)
		}
		if name != "escaped backslash" && name != "pair" && !bytes.Equal(got.Payload, payload) {
			t.Errorf("%s: payload read back as %q, want %q", name, got.Payload, payload)
		}
		if got.CustomerName != "AB\uFFFD" || got.CustomerEmail != "a@example.test" {
			t.Errorf("%s: fields read back as %q, %q", name, got.CustomerName, got.CustomerEmail)
		}
	}
	var raw, jsonb int
	if err := pool.QueryRow(ctx, `SELECT count(payload_raw), count(payload) FROM billing_inbox`).Scan(&raw, &jsonb); err != nil {
		t.Fatal(err)
	}
	if raw != 4 || jsonb != 2 {
		t.Fatalf("%d raw and %d jsonb payloads, want 4 and 2", raw, jsonb)
	}
}

// TestBillingInboxStoresAnyBytes: random payloads and fields (NULs,
// invalid UTF-8, escapes) are always stored: 500 inserts, no error.
func TestBillingInboxStoresAnyBytes(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	inbox := postgres.NewBillingInbox(pool)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("{}\":,\\u0dD8Cfx\x00\xff\xc3 ab")
	for i := range 500 {
		b := make([]byte, rng.IntN(40))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		ev := ports.BillingEvent{ID: fmt.Sprintf("evt_any_%d%s", i, b[:min(len(b), 3)]), Kind: ports.BillingEventOther, Type: string(b),
			Created: time.Now().UTC(), Payload: b, CustomerName: string(b)}
		if _, err := inbox.Insert(ctx, ev, "webhook"); err != nil {
			t.Fatalf("payload %q: %v", b, err)
		}
	}
}
