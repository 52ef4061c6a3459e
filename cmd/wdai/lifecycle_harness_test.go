package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/mailchimp/mailchimpfake"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// testClock is a clock a test can move forward.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

const (
	testWebhookSecret = "whsec_lifecycle_test_secret"
	testMailchimpKey  = "0123456789abcdef-us1"
	testListID        = "list1"
	testPriceID       = "price_community_monthly"
)

// lifecycle is the whole service in-process: the real HTTP handler, the real
// worker (router and cron), a real PostgreSQL, and the Stripe and Mailchimp
// stand-ins. Only the clock is the test's.
type lifecycle struct {
	t      *testing.T
	pool   *pgxpool.Pool
	http   *httptest.Server
	stripe *stripefake.Server
	mc     *mailchimpfake.Server
	clock  *testClock
	sys    *system
	// idle bounds waitIdle (30 s unless a test needs longer).
	idle time.Duration
}

func newLifecycle(t *testing.T, mailchimpConfigured bool, extra ...map[string]string) *lifecycle {
	t.Helper()
	dbURL := testdb.NewURL(t)
	st := stripefake.New(t)
	mc := mailchimpfake.New(t, testMailchimpKey, testListID)
	far := time.Now().UTC().Add(12 * time.Hour).Format("15:04")
	vars := map[string]string{
		"DATABASE_URL": dbURL, "STRIPE_SECRET_KEY": st.SecretKey(), "STRIPE_API_URL": st.URL(), "STRIPE_WEBHOOK_SECRET": "whsec_old_one," + testWebhookSecret,
		"MAILCHIMP_WELCOME_JOURNEY_ID": "j_welcome", "MAILCHIMP_WELCOME_STEP_ID": "s_welcome",
		"MAILCHIMP_PAYMENT_FAILED_JOURNEY_ID": "j_failed", "MAILCHIMP_PAYMENT_FAILED_STEP_ID": "s_failed",
		"MAILCHIMP_WIN_BACK_JOURNEY_ID": "j_winback", "MAILCHIMP_WIN_BACK_STEP_ID": "s_winback",
		"CRON_LUMA_APPROVAL": far, "CRON_SLACK_SYNC": far, "CRON_MAILCHIMP_RESYNC": far, "CRON_STRIPE_RECONCILE": far, "CRON_CATCH_UP": "1s",
	}
	if mailchimpConfigured {
		vars["MAILCHIMP_API_KEY"], vars["MAILCHIMP_LIST_ID"], vars["MAILCHIMP_API_URL"] = testMailchimpKey, testListID, mc.URL()
	}
	for _, e := range extra {
		maps.Copy(vars, e)
	}
	cfg, err := config.LoadFrom(vars)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pool, err := postgres.Open(ctx, dbURL, postgres.PoolConfig{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE membership_tiers SET stripe_price_id = $1 WHERE id = 'community'`, testPriceID); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	clock := &testClock{}
	sys, err := buildSystemWith(cfg, pool, logger, clock)
	if err != nil {
		t.Fatal(err)
	}
	migrator, err := postgres.NewMigrator(pool)
	if err != nil {
		t.Fatal(err)
	}
	handler, err := buildHTTP(sys, migrator)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	done := make(chan error, 1)
	go func() { done <- runWorker(ctx, sys) }()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
		_ = migrator.Close()
		pool.Close()
	})
	return &lifecycle{t: t, pool: pool, http: srv, stripe: st, mc: mc, clock: clock, sys: sys, idle: 30 * time.Second}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// deliver signs an event as Stripe would and POSTs it to the webhook.
func (l *lifecycle) deliver(event []byte) int {
	l.t.Helper()
	body, header := l.stripe.SignedWebhook(testWebhookSecret, event)
	return l.post(body, header)
}

func (l *lifecycle) post(body []byte, signature string) int {
	l.t.Helper()
	req, _ := http.NewRequestWithContext(l.t.Context(), http.MethodPost, l.http.URL+"/webhooks/stripe", bytes.NewReader(body))
	if signature != "" {
		req.Header.Set("Stripe-Signature", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func (l *lifecycle) count(sql string, args ...any) int {
	l.t.Helper()
	var n int
	if err := l.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		l.t.Fatal(err)
	}
	return n
}

// waitIdle waits until every delivered event is processed and every queue
// (scheduled messages aside, retries after transient failures included) is
// empty, twice in a row.
func (l *lifecycle) waitIdle() {
	l.t.Helper()
	deadline := time.Now().Add(l.idle)
	quiet := 0
	for quiet < 2 {
		if time.Now().After(deadline) {
			l.t.Fatalf("not idle after %s: %d events unprocessed, %d messages queued", l.idle, l.count(`SELECT count(*) FROM billing_inbox WHERE status = 'received'`), l.queued())
		}
		if l.count(`SELECT count(*) FROM billing_inbox WHERE status = 'received'`) == 0 && l.queued() == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(150 * time.Millisecond)
	}
}

func (l *lifecycle) queued() int {
	l.t.Helper()
	n := 0
	for _, topic := range []string{ports.TopicBillingEvent, ports.TopicMemberChanged, ports.TopicPersonEmailChanged, ports.TopicPersonDeleted, ports.TopicMembershipPeriodEnd, ports.TopicJobRun, ports.TopicAccessCheck, ports.TopicAccessReminder} {
		n += l.count(fmt.Sprintf(`SELECT count(*) FROM "watermill_%s"`, topic))
	}
	// Messages waiting to be delivered again after a transient failure
	// count; other scheduled messages (period ends) do not.
	return n + l.count(`SELECT count(*) FROM "watermill_delayed" WHERE metadata::jsonb ? 'retry_deferrals'`)
}

// newPerson makes a signed-up person (as Clerk sign-in would) and returns
// their id.
func (l *lifecycle) newPerson(email string) string {
	l.t.Helper()
	p, err := postgres.NewPeopleStore(l.pool).UpsertFromIdentity(context.Background(), ports.IdentityUser{
		ID: "user_" + strings.Split(email, "@")[0], PrimaryEmail: email, FirstName: "Ada", LastName: "Lovelace",
		Emails: []ports.IdentityEmail{{Address: email, Verified: true}},
	})
	if err != nil {
		l.t.Fatal(err)
	}
	return p.Person.ID
}

type membershipRow struct {
	Status                          string
	Tier                            string
	Visible, Alumni, CancelAtPeriod bool
}

func (l *lifecycle) membership(personID string) membershipRow {
	l.t.Helper()
	var m membershipRow
	err := l.pool.QueryRow(context.Background(), `SELECT status, tier, visible, alumni, cancel_at_period_end FROM memberships WHERE person_id = $1`, personID).
		Scan(&m.Status, &m.Tier, &m.Visible, &m.Alumni, &m.CancelAtPeriod)
	if err != nil {
		l.t.Fatalf("membership of %s: %v", personID, err)
	}
	return m
}

// eventCount counts domain events of a name applied for a person, from the
// audit log (every applied change is audited with its events).
func (l *lifecycle) eventCount(personID, name string) int {
	return l.count(`SELECT count(*) FROM audit_log, jsonb_array_elements_text(details->'events') e
		WHERE action = 'membership.change' AND subject_id = $1 AND e = $2`, personID, name)
}

func (l *lifecycle) triggers(journey, email string) int {
	n := 0
	for _, tr := range l.mc.Triggers() {
		if tr.JourneyID == journey && tr.Email == email {
			n++
		}
	}
	return n
}

func (l *lifecycle) mailchimpCalls(method, pathPart string) int {
	n := 0
	for _, c := range l.mc.Calls() {
		if c.Method == method && strings.Contains(c.Path, pathPart) {
			n++
		}
	}
	return n
}

var errNoMember = errors.New("no such mailchimp member")

func (l *lifecycle) tags(email string) (map[string]bool, error) {
	m, ok := l.mc.Member(email)
	if !ok {
		return nil, errNoMember
	}
	out := map[string]bool{}
	for _, t := range m.Tags {
		out[t] = true
	}
	return out, nil
}
