package main

// The alert cycle: each of the seed's thresholds driven through warning,
// critical and resolved by injected faults, with the notices received by a
// local stand-in of the Slack incoming webhook.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/mailchimp/mailchimpfake"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

// slackWebhook is a stand-in of a Slack incoming webhook: it accepts
// {"text": ...} and keeps each text.
type slackWebhook struct {
	srv   *httptest.Server
	mu    sync.Mutex
	texts []string
	down  bool // answer 500 and keep nothing
}

func newSlackWebhook(t *testing.T) *slackWebhook {
	t.Helper()
	s := &slackWebhook{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Text string }
		if r.Method != http.MethodPost || json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body) != nil || body.Text == "" {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.down {
			http.Error(w, "internal_error", http.StatusInternalServerError)
			return
		}
		s.texts = append(s.texts, body.Text)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

var noticeField = regexp.MustCompile("• (measure|level): `([a-z0-9_]+)`")

// since returns "measure=level" for each notice after the first n.
func (s *slackWebhook) since(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, text := range s.texts[n:] {
		f := map[string]string{}
		for _, m := range noticeField.FindAllStringSubmatch(text, -1) {
			f[m[1]] = m[2]
		}
		out = append(out, f["measure"]+"="+f["level"])
	}
	return out
}

func (s *slackWebhook) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.texts)
}

type alertHarness struct {
	*healthHarness
	clock *testClock
	slack *slackWebhook
	slot  time.Time
}

// evaluate runs one minute's evaluation and returns the notices the
// stand-in received for it.
func (a *alertHarness) evaluate(t *testing.T) []string {
	t.Helper()
	before := a.slack.count()
	a.slot = a.slot.Add(time.Minute)
	res, err := a.sys.app.Commands.EvaluateAlerts.Handle(t.Context(), a.slot)
	if err != nil || !res.Evaluated {
		t.Fatalf("evaluate slot %s: %+v, %v", a.slot, res, err)
	}
	return a.slack.since(before)
}

// step injects a fault (or its cure), then expects exactly the one notice
// want, and none on the next minute's evaluation.
func (a *alertHarness) step(t *testing.T, name, want string, inject func()) {
	t.Helper()
	inject()
	if got := a.evaluate(t); len(got) != 1 || got[0] != want {
		t.Fatalf("%s: notices %v, want exactly [%s]", name, got, want)
	}
	if got := a.evaluate(t); len(got) != 0 {
		t.Fatalf("%s: the next minute repeated %v", name, got)
	}
}

func (a *alertHarness) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := a.pool.Exec(t.Context(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

func TestAlertsCycleThroughEachThresholdOnceEach(t *testing.T) {
	t.Parallel()
	slack := newSlackWebhook(t)
	clock := &testClock{}
	h := newHealthHarness(t, clock, "ALERT_SLACK_WEBHOOK_URL", slack.srv.URL, "PROVIDER_BREAKER_FAILURES", "1000")
	a := &alertHarness{healthHarness: h, clock: clock, slack: slack, slot: time.Now().UTC().Truncate(time.Minute)}
	if got := a.evaluate(t); len(got) != 0 {
		t.Fatalf("a quiet platform raised %v", got)
	}

	// Webhooks: 100 applied, then deliveries stuck unapplied past 15 min.
	a.exec(t, `INSERT INTO billing_inbox (event_id, type, created, payload, source, status, received_at, processed_at)
		SELECT 'evt_ok_' || g, 'invoice.paid', now(), '{}', 'webhook', 'processed', now() - interval '1 hour', now() - interval '59 minutes'
		FROM generate_series(1, 100) g`)
	stuck := func(from, to int) func() {
		return func() {
			a.exec(t, `INSERT INTO billing_inbox (event_id, type, created, payload, source, status, received_at)
				SELECT 'evt_stuck_' || g, 'invoice.paid', now(), '{}', 'webhook', 'received', now() - interval '1 hour' FROM generate_series($1::int, $2::int) g`, from, to)
		}
	}
	a.step(t, "2 of 102 webhooks stuck", application.MeasureWebhookSuccessRate+"=warning", stuck(1, 2))
	a.step(t, "10 of 110 stuck", application.MeasureWebhookSuccessRate+"=critical", stuck(3, 10))
	a.step(t, "the stuck ones applied", application.MeasureWebhookSuccessRate+"=ok", func() {
		a.exec(t, `UPDATE billing_inbox SET status = 'processed', processed_at = now() WHERE status = 'received'`)
	})

	// Jobs: 100 completed runs, then failures.
	a.exec(t, `INSERT INTO job_runs (job, slot, trigger, status, finished_at)
		SELECT 'mailchimp_resync', now() - g * interval '1 minute', 'cron', 'completed', now() FROM generate_series(1, 100) g`)
	failed := func(from, to int) func() {
		return func() {
			a.exec(t, `INSERT INTO job_runs (job, slot, trigger, status, finished_at)
				SELECT 'slack_sync', now() - g * interval '1 minute', 'cron', 'failed', now() FROM generate_series($1::int, $2::int) g`, from, to)
		}
	}
	a.step(t, "6 of 106 runs failed", application.MeasureJobFailureRate+"=warning", failed(1, 6))
	a.step(t, "12 of 112 failed", application.MeasureJobFailureRate+"=critical", failed(7, 12))
	a.step(t, "the failed runs replayed", application.MeasureJobFailureRate+"=ok", func() {
		a.exec(t, `UPDATE job_runs SET status = 'replayed' WHERE status = 'failed'`)
	})

	// API p95, as another replica reports it.
	latency := func(ms float64) func() {
		return func() {
			a.exec(t, `INSERT INTO process_samples (process_id, minute, at, api_requests, api_p95_ms) VALUES ('replica-b', $1, $1, 1000, $2)`,
				clock.Now().Truncate(time.Minute), ms)
		}
	}
	a.step(t, "p95 of 600 ms", application.MeasureAPIP95+"=warning", latency(600))
	clock.Advance(time.Minute)
	a.step(t, "p95 of 2.5 s", application.MeasureAPIP95+"=critical", latency(2500))
	a.step(t, "5 minutes of 100 ms", application.MeasureAPIP95+"=ok", func() {
		clock.Advance(6 * time.Minute)
		latency(100)()
	})

	// Dead letters.
	dead := func(from, to int) func() {
		return func() {
			a.exec(t, `INSERT INTO dead_letters (message_id, topic, handler, reason, payload, first_failed_at, last_failed_at, attempts)
				SELECT 'msg_' || g, 'member.changed', 'email.member_changed', 'boom', '\x7b7d', now(), now(), 4 FROM generate_series($1::int, $2::int) g`, from, to)
		}
	}
	a.step(t, "11 dead letters", application.MeasureOpenDeadLetters+"=warning", dead(1, 11))
	a.step(t, "51 dead letters", application.MeasureOpenDeadLetters+"=critical", dead(12, 51))
	a.step(t, "all abandoned", application.MeasureOpenDeadLetters+"=ok", func() {
		a.exec(t, `UPDATE dead_letters SET status = 'abandoned', resolved_at = now(), resolved_by = 'ops', resolution_note = 'test'`)
	})

	// Rate limits: the Mailchimp stand-in answers 429.
	limited := func(n int) func() {
		return func() {
			for i := range n {
				h.fake.FailNext(1, mailchimpfake.Fault429)
				if err := h.upsert(t, i); !ports.IsTransient(err) {
					t.Fatalf("a 429 answer gave %v, want a transient error", err)
				}
			}
		}
	}
	a.step(t, "11 rate-limit answers", application.MeasureRateLimitHits+"=warning", limited(11))
	a.step(t, "101 rate-limit answers", application.MeasureRateLimitHits+"=critical", limited(90))
	a.step(t, "an hour later", application.MeasureRateLimitHits+"=ok", func() {
		if err := newHealthSampler(h.sys, nil).sample(t.Context()); err != nil {
			t.Fatal(err)
		}
		clock.Advance(61 * time.Minute)
	})
	t.Logf("Slack stand-in received %d notices: %s", slack.count(), fmt.Sprint(slack.since(0)))
}

func TestAlertsOneReplicaPerMinuteAndARetryAfterAFailedPost(t *testing.T) {
	t.Parallel()
	slack := newSlackWebhook(t)
	h := newHealthHarness(t, ports.SystemClock{}, "ALERT_SLACK_WEBHOOK_URL", slack.srv.URL)
	other, err := buildSystemWith(h.sys.cfg, h.pool, h.sys.logger, ports.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	a := &alertHarness{healthHarness: h, slack: slack, slot: time.Now().UTC().Truncate(time.Minute)}
	a.exec(t, `INSERT INTO dead_letters (message_id, topic, handler, reason, payload, first_failed_at, last_failed_at, attempts)
		SELECT 'msg_' || g, 'member.changed', 'email.member_changed', 'boom', '\x7b7d', now(), now(), 4 FROM generate_series(1, 11) g`)

	// The Slack webhook is down: no notice is kept as sent, the level stays.
	slack.mu.Lock()
	slack.down = true
	slack.mu.Unlock()
	a.slot = a.slot.Add(time.Minute)
	if _, err := h.sys.app.Commands.EvaluateAlerts.Handle(t.Context(), a.slot); err == nil {
		t.Fatal("a notice the webhook refused was reported as sent")
	}
	slack.mu.Lock()
	slack.down = false
	slack.mu.Unlock()

	// Two replicas on the next minute: one evaluates, and the notice comes once.
	a.slot = a.slot.Add(time.Minute)
	var wg sync.WaitGroup
	results := make([]application.EvaluateAlertsResult, 2)
	for i, sys := range []*system{h.sys, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := sys.app.Commands.EvaluateAlerts.Handle(t.Context(), a.slot)
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		}()
	}
	wg.Wait()
	if results[0].Evaluated == results[1].Evaluated {
		t.Fatalf("replicas evaluated %v and %v; want exactly one", results[0].Evaluated, results[1].Evaluated)
	}
	if got := slack.since(0); len(got) != 1 || got[0] != application.MeasureOpenDeadLetters+"=warning" {
		t.Fatalf("notices %v, want the one warning the failed post had not delivered", got)
	}
}
