package main_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/luma"
	"github.com/womendefiningai/platform/adapters/luma/lumafake"
	"github.com/womendefiningai/platform/internal/testdb"
)

var runIDPattern = regexp.MustCompile(`run ([0-9a-f-]{36})`)

// The stand-in counts calls in a window scaled down from Luma's minute to
// a second, so the tests take seconds: the client is given the same limit.
const (
	approvalRate   = 200
	approvalWindow = time.Second
)

// approvalWorld is a database with one upcoming event, a stand-in holding it
// and its guests, and the environment of a worker configured for both.
type approvalWorld struct {
	dbURL string
	pool  *pgxpool.Pool
	luma  *lumafake.Server
	env   map[string]string
	event string // our id
	// want is the outcome the default policy gives each guest id.
	want map[string]string
}

// newApprovalWorld seeds guests of five kinds, in turn: an active member,
// a past_due member (approved during dunning), an alumna (canceled: left
// pending), an unknown email (left pending) and a leader without a
// membership (approved). Guests write their email in another case and with
// spaces; people are found by their verified address all the same.
func newApprovalWorld(t *testing.T, guests int) *approvalWorld {
	t.Helper()
	w := &approvalWorld{dbURL: testdb.NewURL(t), luma: lumafake.New(), want: map[string]string{}}
	t.Cleanup(w.luma.Close)
	w.luma.RateLimit, w.luma.RateWindow = approvalRate, approvalWindow
	ctx := context.Background()
	var err error
	if w.pool, err = pgxpool.New(ctx, w.dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.pool.Close)
	start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	if err := w.pool.QueryRow(ctx, `INSERT INTO events (creator_kind, creator_id, idempotency_key, status, platform_id, url, name,
			starts_at, ends_at, timezone, capacity) VALUES ('user', 'seed', 'seed', 'created', 'evt-approval', 'https://lu.ma/x', 'AI night',
			$1::timestamptz, $1::timestamptz + interval '2 hours', 'Europe/Berlin', 2000) RETURNING id`, start).Scan(&w.event); err != nil {
		t.Fatal(err)
	}
	w.luma.AddEvent("evt-approval", "AI night", start)
	_, err = w.pool.Exec(ctx, `
		WITH p AS (
			INSERT INTO people (primary_email, emails, first_name, last_name, role)
			SELECT 'guest' || g || '@example.test', ARRAY['guest' || g || '@example.test'], 'G' || g, 'L',
			       CASE WHEN g % 5 = 4 THEN 'leader' ELSE 'member' END
			FROM generate_series(0, $1 - 1) g WHERE g % 5 <> 3 RETURNING id, primary_email, role
		)
		INSERT INTO memberships (person_id, status, tier, ever_active, alumni, subscription_id, current_period_end)
		SELECT id, CASE substring(primary_email FROM 'guest(\d+)@')::int % 5 WHEN 0 THEN 'active' WHEN 1 THEN 'past_due' ELSE 'canceled' END,
		       'community', true, substring(primary_email FROM 'guest(\d+)@')::int % 5 = 2, 'sub_' || id, now() + interval '30 days'
		FROM p WHERE role = 'member'`, guests)
	if err != nil {
		t.Fatal(err)
	}
	testdb.GrantSeededMembers(t, w.pool) // active: a subscription; past_due: the grace window
	for g := range guests {
		email := fmt.Sprintf("  Guest%d@Example.TEST ", g)
		if g%5 == 3 {
			email = fmt.Sprintf("stranger%d@example.test", g)
		}
		id := w.luma.AddGuest("evt-approval", email, "Guest")
		w.want[id] = map[int]string{0: "approved", 1: "approved", 2: "pending_approval", 3: "pending_approval", 4: "approved"}[g%5]
	}
	far := time.Now().UTC().Add(12 * time.Hour).Format("15:04")
	w.env = map[string]string{
		"DATABASE_URL": w.dbURL, "LUMA_API_KEY": lumafake.DefaultKey, "LUMA_API_URL": w.luma.URL,
		"LUMA_RATE_LIMIT": fmt.Sprint(approvalRate), "LUMA_RATE_WINDOW": approvalWindow.String(),
		"CRON_LUMA_APPROVAL": far, "CRON_SLACK_SYNC": far, "CRON_MAILCHIMP_RESYNC": far, "CRON_STRIPE_RECONCILE": far,
	}
	return w
}

// enqueueApproval runs `wdai job run luma_approval` and returns the run id.
func (w *approvalWorld) enqueueApproval(t *testing.T) string {
	t.Helper()
	out, err := runCLI(t, w.dbURL, "job", "run", "luma_approval")
	if err != nil {
		t.Fatalf("job run: %v\n%s", err, out)
	}
	m := runIDPattern.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("job run printed no run id:\n%s", out)
	}
	return m[1]
}

// checkGuests asserts each guest's status at the stand-in is the policy's,
// and that every approved guest was updated exactly once and no other was.
func (w *approvalWorld) checkGuests(t *testing.T) (approved, pending int) {
	t.Helper()
	updates := w.luma.Updates()
	for id, want := range w.want {
		g, _ := w.luma.Guest("evt-approval", id)
		if g.Status != want {
			t.Errorf("guest %s is %s, want %s", id, g.Status, want)
		}
		switch n := updates[id]; {
		case want == "approved" && n != 1:
			t.Errorf("approved guest %s was updated %d times, want once", id, n)
		case want != "approved" && n != 0:
			t.Errorf("guest %s left pending was updated %d times", id, n)
		}
		if want == "approved" {
			approved++
		} else {
			pending++
		}
	}
	return approved, pending
}

// count answers a count(*) query on the world's database.
func (w *approvalWorld) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := w.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// decisions counts the decisions stored, by outcome, and guests decided
// more than once (impossible by the key, checked all the same).
func (w *approvalWorld) decisions(t *testing.T) map[string]int {
	t.Helper()
	rows, err := w.pool.Query(context.Background(), `SELECT outcome || '/' || state, count(*) FROM rsvp_decisions WHERE event_id = $1 GROUP BY 1`, w.event)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	return out
}

// TestApprovalRunsRacingDecideEachGuestOnce: two runs of luma_approval on
// two worker processes race through 500 pending guests. Each guest gets
// one decision and at most one update at the stand-in; the two summaries
// add up to the decisions; a third run makes no update call at all.
func TestApprovalRunsRacingDecideEachGuestOnce(t *testing.T) {
	t.Parallel()
	w := newApprovalWorld(t, 500)
	start(t, w.env, "worker")
	start(t, w.env, "worker")
	var runs [2]string
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() { runs[i] = w.enqueueApproval(t) })
	}
	wg.Wait()
	var sumApproved, sumPending, sumDeferred float64
	for _, id := range runs {
		r := waitRun(t, w.pool, id, 90*time.Second)
		total, _ := r.summary["rsvps"].(map[string]any)
		t.Logf("run %s: %d pages, totals %v", id, r.pages, total)
		a, _ := total["approved"].(float64)
		p, _ := total["left_pending"].(float64)
		d, _ := total["deferrals"].(float64)
		sumApproved, sumPending, sumDeferred = sumApproved+a, sumPending+p, sumDeferred+d
	}
	approved, pending := w.checkGuests(t)
	got := w.decisions(t)
	if got["approve/applied"] != approved || got["leave_pending/applied"] != pending || len(got) != 2 {
		t.Errorf("decisions %v, want %d approved and %d left pending, nothing else", got, approved, pending)
	}
	if int(sumApproved) != approved || int(sumPending) != pending {
		t.Errorf("the runs' summaries add up to %v approved, %v left pending; decisions: %d, %d", sumApproved, sumPending, approved, pending)
	}
	// Both workers spend from one allowance in PostgreSQL, so together they
	// keep to the limit: the stand-in refuses nothing and every update call
	// it sees is a guest's one update (a deferred call would count twice).
	most := w.luma.MaxInWindow(approvalWindow)
	t.Logf("two workers: most calls in any %v: %d (limit %d), refused for the limit: %d", approvalWindow, most, approvalRate, w.luma.RateLimited())
	if calls := w.luma.Calls(luma.PathUpdateStatus); calls != approved+int(sumDeferred) || most > approvalRate || w.luma.RateLimited() != 0 {
		t.Errorf("%d update calls for %d approved guests and %v deferrals; %d calls in one window, %d refused; limit %d",
			calls, approved, sumDeferred, most, w.luma.RateLimited(), approvalRate)
	}
	var events string
	if err := w.pool.QueryRow(context.Background(), `SELECT count(*) || '/' || count(DISTINCT (event_id, guest_id)) FROM rsvp_decisions`).Scan(&events); err != nil || events != "500/500" {
		t.Errorf("decisions rows/guests = %s (%v), want 500/500", events, err)
	}

	before := w.luma.Calls(luma.PathUpdateStatus)
	third := waitRun(t, w.pool, w.enqueueApproval(t), 60*time.Second)
	if after := w.luma.Calls(luma.PathUpdateStatus); after != before {
		t.Errorf("a later run made %d update calls for guests already decided", after-before)
	}
	if total, _ := third.summary["rsvps"].(map[string]any); total["approved"] != float64(0) {
		t.Errorf("a later run's summary %v, want nothing approved", third.summary)
	}
}

// TestApprovalDeferredByA429ResumesWithoutUpdatingTwice: Luma answers 429
// (Retry-After: 1) to the 500th status update of 1,000. The page's run is
// deferred, not failed; its next attempt goes on from the same cursor and
// finishes. No guest is updated twice, the summary counts every decision
// and the deferral, and in no window did more calls arrive than the limit.
func TestApprovalDeferredByA429ResumesWithoutUpdatingTwice(t *testing.T) {
	t.Parallel()
	w := newApprovalWorld(t, 1000)
	var updates atomic.Int32
	var limited atomic.Bool
	w.luma.Inject(func(_ int, r *http.Request) *lumafake.Fault {
		if r.URL.Path == luma.PathUpdateStatus && updates.Add(1) == 500 {
			limited.Store(true)
			return &lumafake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 1}
		}
		return nil
	})
	start(t, w.env, "worker")
	began := time.Now()
	id := w.enqueueApproval(t)
	r := waitRun(t, w.pool, id, 120*time.Second)
	t.Logf("run %s: %d pages in %v, summary totals %v", id, r.pages, time.Since(began).Round(time.Millisecond), r.summary["rsvps"])
	if !limited.Load() {
		t.Fatal("the 429 was never injected")
	}
	approved, pending := w.checkGuests(t)
	total, _ := r.summary["rsvps"].(map[string]any)
	// The deferred guest was approved on resuming: counted once, as
	// approved; the deferral itself is counted apart.
	if total["approved"] != float64(approved) || total["left_pending"] != float64(pending) || total["deferred"] != float64(0) ||
		total["deferrals"] != float64(1) || total["errors"] != float64(0) {
		t.Errorf("summary totals %v, want %d approved, %d left pending, 0 deferred, 1 deferral, 0 errors", total, approved, pending)
	}
	perEvent, _ := r.summary["events"].(map[string]any)
	if ev, _ := perEvent[w.event].(map[string]any); ev["approved"] != float64(approved) {
		t.Errorf("summary for the event %v", perEvent)
	}
	if calls := w.luma.Calls(luma.PathUpdateStatus); calls != approved+1 {
		t.Errorf("%d update calls, want %d (each approved guest once, plus the refused one)", calls, approved+1)
	}
	// The worst cost of a run, in Luma calls: one guest-list call per page
	// of 25 pending guests, one status update per guest approved or
	// declined, and each deferred page listed again once.
	lists := w.luma.Calls(luma.PathListGuests)
	t.Logf("Luma calls: %d guest-list, %d status updates for %d guests", lists, w.luma.Calls(luma.PathUpdateStatus), len(w.want))
	if lists > 1000/25+1 {
		t.Errorf("%d guest-list calls, want at most %d (40 pages and the deferred one again)", lists, 1000/25+1)
	}
	most := w.luma.MaxInWindow(approvalWindow)
	t.Logf("most calls in any %v: %d (limit %d); refused for the limit: %d", approvalWindow, most, approvalRate, w.luma.RateLimited())
	if most > approvalRate || w.luma.RateLimited() != 0 {
		t.Errorf("%d calls in one window, %d refused for the limit; the limit is %d", most, w.luma.RateLimited(), approvalRate)
	}
	var deadLetters int
	if err := w.pool.QueryRow(context.Background(), `SELECT count(*) FROM dead_letters`).Scan(&deadLetters); err != nil || deadLetters != 0 {
		t.Errorf("dead letters %d (%v), want none: a 429 never fails the run", deadLetters, err)
	}
}
