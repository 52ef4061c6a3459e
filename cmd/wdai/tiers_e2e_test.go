package main_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/internal/testdb"
)

// pricedTiersURL returns a fresh database whose seeded tiers each have a
// price, as after `wdai tiers sync`: a fresh database offers no tier, since
// the seeded ones have none.
func pricedTiersURL(t *testing.T, dbURL string) string {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(context.Background(), `UPDATE membership_tiers SET stripe_price_id = 'price_' || id || '_test' WHERE stripe_price_id IS NULL`); err != nil {
		t.Fatal(err)
	}
	return dbURL
}

// runWith runs the binary with the environment and returns its stdout
// (stderr goes to the test's log on failure).
func runWith(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), wdaiBin, args...)
	cmd.Env = append(baseEnv(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("wdai %s: %v\nstdout %s\nstderr %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// TestTiersSyncAgainstStripeMock is the tiers acceptance: `wdai tiers sync`
// against stripe-mock (serving a price with lookup key
// wdai_tier_community) makes the community tier purchasable with the
// price's name, amount and interval; a second run changes nothing; the
// pricing page lists only that tier; and a checkout of it works while one
// of a tier without a price is refused.
func TestTiersSyncAgainstStripeMock(t *testing.T) {
	t.Parallel()
	dbURL, dataDir := testdb.NewURL(t), t.TempDir()
	root := stripefake.StartStripeMockCatalog(t)
	env := []string{"DATABASE_URL=" + dbURL, "WDAI_DATA_DIR=" + dataDir, "STRIPE_SECRET_KEY=" + stripefake.StripeMockKey, "STRIPE_API_URL=" + root}

	first := runWith(t, env, "tiers", "sync")
	if !strings.HasPrefix(first, "prices 1, created 0, updated 1, retired 0, unchanged 0, skipped 0\n") || !strings.Contains(first, "updated: community") {
		t.Fatalf("first sync printed %q", first)
	}
	second := runWith(t, env, "tiers", "sync")
	if second != "prices 1, created 0, updated 0, retired 0, unchanged 1, skipped 0\n" {
		t.Fatalf("second sync printed %q, want no change", second)
	}

	token := strings.TrimSpace(runWith(t, env, "dev", "token", "--email", "ada@example.com", "--role", "member"))
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	p := start(t, vars, "serve", "--no-worker")
	p.waitReady(t, 60*time.Second)

	tiers := postGraphQL(t, p.addr, "", map[string]string{"query": `{ membershipTiers { id name priceDisplay } }`})
	got, _ := json.Marshal(tiers.Data)
	if string(got) != `{"membershipTiers":[{"id":"community","name":"Community","priceDisplay":"$20 / month"}]}` {
		t.Fatalf("membershipTiers = %s, want only the synced community tier", got)
	}
	checkout := postGraphQL(t, p.addr, token, map[string]string{"query": `mutation { startCheckout(tierId: "community") }`})
	url, _ := checkout.Data["startCheckout"].(string)
	if !strings.HasPrefix(url, "https://checkout.stripe.com/") || len(checkout.Errors) != 0 {
		t.Fatalf("startCheckout(community) = %+v", checkout)
	}
	refused := postGraphQL(t, p.addr, token, map[string]string{"query": `mutation { startCheckout(tierId: "professional") }`})
	if len(refused.Errors) == 0 || !strings.Contains(refused.Errors[0].Message, "no price") {
		t.Fatalf("startCheckout(professional) without a price = %+v, want refused", refused)
	}
}

// TestTiersSyncMatchingRulesWithTheStandIn runs `wdai tiers sync` over the
// Stripe stand-in: tiers named by lookup key, by price metadata and by
// product metadata are created or updated (order from wdai_order); a price
// naming no tier is ignored; an archived price retires its tier, whose row
// stays.
func TestTiersSyncMatchingRulesWithTheStandIn(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	fake := stripefake.New(t)
	env := []string{"DATABASE_URL=" + dbURL, "STRIPE_SECRET_KEY=" + fake.SecretKey(), "STRIPE_API_URL=" + fake.URL()}
	product := func(p stripefake.Price) stripefake.Price {
		p.Active, p.ProductActive, p.Currency, p.Interval = true, true, "usd", "month"
		return p
	}
	byLookup := product(stripefake.Price{ID: "price_c", LookupKey: "wdai_tier_community", UnitAmount: 1500, ProductID: "prod_c", ProductName: "Community"})
	byPriceMeta := product(stripefake.Price{ID: "price_p", Metadata: map[string]string{"wdai_tier": "professional"}, UnitAmount: 3500,
		ProductID: "prod_p", ProductName: "Professional"})
	byProductMeta := product(stripefake.Price{ID: "price_s", UnitAmount: 500, ProductID: "prod_s", ProductName: "Student",
		ProductMetadata: map[string]string{"wdai_tier": "student", "wdai_order": "5"}})
	unrelated := product(stripefake.Price{ID: "price_tshirt", LookupKey: "tshirt", UnitAmount: 2000, ProductID: "prod_t", ProductName: "T-shirt"})
	fake.SetPrices(byLookup, byPriceMeta, byProductMeta, unrelated)

	if out := runWith(t, env, "tiers", "sync"); !strings.HasPrefix(out, "prices 4, created 1, updated 2, retired 0, unchanged 0, skipped 0\n") {
		t.Fatalf("first sync printed %q", out)
	}
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	offered := func() string {
		var s string
		if err := pool.QueryRow(context.Background(), `SELECT string_agg(id || ':' || price_display || ':' || sort_order, ' ' ORDER BY sort_order, id)
			FROM membership_tiers WHERE active AND stripe_price_id IS NOT NULL`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := offered(); got != "student:$5 / month:5 community:$15 / month:10 professional:$35 / month:20" {
		t.Fatalf("offered tiers = %q", got)
	}

	// professional's price is archived (no longer listed as active).
	fake.SetPrices(byLookup, byProductMeta, unrelated)
	if out := runWith(t, env, "tiers", "sync"); !strings.HasPrefix(out, "prices 3, created 0, updated 0, retired 1, unchanged 2, skipped 0\n") {
		t.Fatalf("sync after archiving printed %q", out)
	}
	if got := offered(); got != "student:$5 / month:5 community:$15 / month:10" {
		t.Fatalf("offered tiers after archiving = %q", got)
	}
	var kept string
	if err := pool.QueryRow(context.Background(), `SELECT stripe_price_id FROM membership_tiers WHERE id = 'professional' AND NOT active AND retired_at IS NOT NULL`).Scan(&kept); err != nil || kept != "price_p" {
		t.Fatalf("retired professional: price %q, %v; want its row kept with price_p", kept, err)
	}
}
