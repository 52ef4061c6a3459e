package application_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

// pagedRunJob runs the paged job "resync" whose page is fn.
func pagedRunJob(t *testing.T, m jobTx, fn application.PageFunc) application.RunJob {
	t.Helper()
	r, err := application.NewPagedJobRegistry(nil, map[string]application.PagedJob{"resync": {Page: fn, Budget: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := application.NewRunJob(trackedUoW{m}, r, 4)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func pagedRun(pages int, summary map[string]any) ports.JobRun {
	return ports.JobRun{ID: "run-1", Job: "resync", Status: ports.JobProcessing, Attempts: 1, Pages: pages, Cursor: "c" + string(rune('0'+pages)), Summary: summary}
}

// nextPage matches the message that queues page n of run-1.
func nextPage(n int) gomock.Matcher {
	return gomock.Cond(func(m ports.Message) bool {
		var p ports.JobRunPayload
		return m.Topic == ports.TopicJobRun && json.Unmarshal(m.Payload, &p) == nil && p.RunID == "run-1" && p.Page == n
	})
}

func TestPagedJobRecordsIntentBeforeCallsThenSavesAndQueuesTheNextPage(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	var calls int
	page := func(_ context.Context, cursor string, begin application.BeginPage) (map[string]any, error) {
		if cursor != "c2" {
			t.Errorf("page started at %q, want the saved cursor c2", cursor)
		}
		if err := begin("c3", false); err != nil {
			return nil, err
		}
		calls++ // the provider call, after the intent
		return map[string]any{"people": 500, "outcome": "synced"}, nil
	}
	var token string
	gomock.InOrder(
		m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(pagedRun(2, map[string]any{"people": float64(1000)}), nil),
		m.runs.EXPECT().ClaimPage(gomock.Any(), "run-1", 2, gomock.Any()).DoAndReturn(func(_ context.Context, _ string, _ int, in ports.PageIntent) error {
			if in.Next != "c3" || in.Last || len(in.Token) != 36 {
				t.Errorf("intent = %+v, want next c3, not last, a UUID token", in)
			}
			if calls != 0 {
				t.Error("the intent was recorded after the provider call")
			}
			token = in.Token
			return nil
		}),
		m.runs.EXPECT().SavePage(gomock.Any(), "run-1", 2, gomock.Any(), map[string]any{"people": int64(1500), "outcome": "synced"}, "").
			DoAndReturn(func(_ context.Context, _ string, _ int, in ports.PageIntent, _ map[string]any, _ string) error {
				if in.Token != token || in.Next != "c3" {
					t.Errorf("saved with intent %+v, want the claimed one", in)
				}
				return nil
			}),
		m.pub.EXPECT().Publish(gomock.Any(), nextPage(3)).Return(nil),
	)
	if err := pagedRunJob(t, m, page).Handle(context.Background(), application.RunJobInput{RunID: "run-1", Page: 2}); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("page called the provider %d times, want 1", calls)
	}
}

func TestPagedJobLastPageCompletesWithoutQueueing(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	page := func(_ context.Context, _ string, begin application.BeginPage) (map[string]any, error) {
		return map[string]any{"people": 3}, begin("c1", true)
	}
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(pagedRun(0, nil), nil)
	m.runs.EXPECT().ClaimPage(gomock.Any(), "run-1", 0, gomock.Any()).Return(nil)
	m.runs.EXPECT().SavePage(gomock.Any(), "run-1", 0, gomock.Cond(func(in ports.PageIntent) bool { return in.Last }), map[string]any{"people": int64(3)}, "").Return(nil)
	if err := pagedRunJob(t, m, page).Handle(context.Background(), application.RunJobInput{RunID: "run-1"}); err != nil {
		t.Fatal(err)
	}
}

// A worker killed during a page's calls leaves its intent: the next attempt
// moves past the page without calling the provider, and says so.
func TestPagedJobPageInFlightWhenTheWorkerDiedIsNotSentAgain(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	run := pagedRun(4, map[string]any{"people": float64(2000)})
	run.InFlight = &ports.PageIntent{Token: "6f1c7e4e-8a0b-4c53-9d55-0d6f0b2d6a11", Next: "c5"}
	page := func(context.Context, string, application.BeginPage) (map[string]any, error) {
		t.Error("the page in flight ran again")
		return nil, nil
	}
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(run, nil)
	m.runs.EXPECT().SavePage(gomock.Any(), "run-1", 4, *run.InFlight,
		map[string]any{"people": float64(2000), "pages_not_resent": int64(1), "not_resent": []int64{5}},
		gomock.Cond(func(s string) bool { return strings.Contains(s, "page 5") && strings.Contains(s, "not sent again") })).Return(nil)
	m.pub.EXPECT().Publish(gomock.Any(), nextPage(5)).Return(nil)
	if err := pagedRunJob(t, m, page).Handle(context.Background(), application.RunJobInput{RunID: "run-1", Page: 4}); err != nil {
		t.Fatal(err)
	}
}

func TestPagedJobMessageForAPageAlreadyDoneDoesNothing(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	page := func(context.Context, string, application.BeginPage) (map[string]any, error) {
		t.Error("a page already done ran again")
		return nil, nil
	}
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(pagedRun(3, nil), nil).Times(2)
	if err := pagedRunJob(t, m, page).Handle(context.Background(), application.RunJobInput{RunID: "run-1", Page: 1}); err != nil {
		t.Fatal(err)
	}
	err := pagedRunJob(t, m, page).Handle(context.Background(), application.RunJobInput{RunID: "run-1", Page: 7})
	if err == nil || !ports.IsPermanent(err) {
		t.Fatalf("a message for a page ahead of the run: %v, want a permanent error", err)
	}
}

// A page whose provider answered with an error releases its intent (Finish)
// and keeps the counts so far; the router retries it.
func TestPagedJobFailedPageIsRetriedWithItsCountsKept(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	boom := errors.New("list: 503")
	page := func(_ context.Context, _ string, begin application.BeginPage) (map[string]any, error) {
		if err := begin("c2", false); err != nil {
			return nil, err
		}
		return nil, boom
	}
	summary := map[string]any{"people": float64(500)}
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(pagedRun(1, summary), nil)
	m.runs.EXPECT().ClaimPage(gomock.Any(), "run-1", 1, gomock.Any()).Return(nil)
	m.runs.EXPECT().Finish(gomock.Any(), "run-1", ports.JobRetrying, summary, gomock.Cond(func(s string) bool { return strings.Contains(s, "page 2") })).Return(nil)
	err := pagedRunJob(t, m, page).Handle(context.Background(), application.RunJobInput{RunID: "run-1", Page: 1})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the page's error for the router to retry", err)
	}
}

// A page that another attempt holds (ClaimPage refuses) makes no call and
// leaves the run to that attempt.
func TestPagedJobPageHeldByAnotherAttemptMakesNoCall(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	page := func(_ context.Context, _ string, begin application.BeginPage) (map[string]any, error) {
		if err := begin("c1", false); err != nil {
			return nil, err
		}
		t.Error("called the provider without holding the page")
		return nil, nil
	}
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(pagedRun(0, nil), nil)
	m.runs.EXPECT().ClaimPage(gomock.Any(), "run-1", 0, gomock.Any()).Return(ports.ErrPageTaken)
	if err := pagedRunJob(t, m, page).Handle(context.Background(), application.RunJobInput{RunID: "run-1"}); err != nil {
		t.Fatal(err)
	}
}

func TestPagedJobRegistryRefusesAPageWithoutBudgetOrTwiceRegistered(t *testing.T) {
	t.Parallel()
	page := func(context.Context, string, application.BeginPage) (map[string]any, error) { return nil, nil }
	if _, err := application.NewPagedJobRegistry(nil, map[string]application.PagedJob{"resync": {Page: page}}); err == nil {
		t.Error("a paged job without a budget was accepted")
	}
	_, err := application.NewPagedJobRegistry(map[string]application.JobFunc{"resync": noop},
		map[string]application.PagedJob{"resync": {Page: page, Budget: time.Second}})
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a name registered twice: %v", err)
	}
}

// A repeatable job's page found in flight runs again, taking the page over
// from the attempt that stopped: skipping it would lose what it reads.
func TestRepeatablePagedJobRunsAPageInFlightAgain(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	r, err := application.NewPagedJobRegistry(nil, map[string]application.PagedJob{"reconcile": {Budget: time.Minute, Repeatable: true,
		Page: func(_ context.Context, cursor string, begin application.BeginPage) (map[string]any, error) {
			if cursor != "c4" {
				t.Errorf("page ran from %q, want the saved cursor", cursor)
			}
			return map[string]any{"seen": 10}, begin("c5", false)
		}}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := application.NewRunJob(trackedUoW{m}, r, 4)
	if err != nil {
		t.Fatal(err)
	}
	run := pagedRun(4, nil)
	run.Job = "reconcile"
	run.InFlight = &ports.PageIntent{Token: "6f1c7e4e-8a0b-4c53-9d55-0d6f0b2d6a11", Next: "c5"}
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(run, nil)
	m.runs.EXPECT().ClaimPage(gomock.Any(), "run-1", 4, gomock.Cond(func(in ports.PageIntent) bool {
		return in.Replaces == run.InFlight.Token && in.Token != run.InFlight.Token
	})).Return(nil)
	m.runs.EXPECT().SavePage(gomock.Any(), "run-1", 4, gomock.Any(), map[string]any{"seen": int64(10)}, "").Return(nil)
	m.pub.EXPECT().Publish(gomock.Any(), nextPage(5)).Return(nil)
	if err := h.Handle(context.Background(), application.RunJobInput{RunID: "run-1", Page: 4}); err != nil {
		t.Fatal(err)
	}
}

// Each page runs within its own budget.
func TestPagedJobPageRunsWithinItsBudget(t *testing.T) {
	t.Parallel()
	m := newJobTx(t)
	const budget = 3 * time.Second
	r, err := application.NewPagedJobRegistry(nil, map[string]application.PagedJob{"resync": {Budget: budget,
		Page: func(ctx context.Context, _ string, begin application.BeginPage) (map[string]any, error) {
			deadline, ok := ctx.Deadline()
			if left := time.Until(deadline); !ok || left > budget || left < budget-time.Second {
				t.Errorf("page deadline in %v (set %v), want about %v", left, ok, budget)
			}
			return nil, begin("c1", true)
		}}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := application.NewRunJob(trackedUoW{m}, r, 4)
	if err != nil {
		t.Fatal(err)
	}
	m.runs.EXPECT().Start(gomock.Any(), "run-1").Return(pagedRun(0, nil), nil)
	m.runs.EXPECT().ClaimPage(gomock.Any(), "run-1", 0, gomock.Any()).Return(nil)
	m.runs.EXPECT().SavePage(gomock.Any(), "run-1", 0, gomock.Any(), gomock.Any(), "").Return(nil)
	if err := h.Handle(context.Background(), application.RunJobInput{RunID: "run-1"}); err != nil {
		t.Fatal(err)
	}
}
