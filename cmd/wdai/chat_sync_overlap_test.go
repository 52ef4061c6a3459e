package main

// Two slack_sync runs that overlap (a cron slot and a manual run, or two
// slots) against slackfake and a real PostgreSQL: each run's summary counts
// what that run did, no member is refused because the other run wrote it
// last, and no look-up is spent on a member either run already decided.

import (
	"context"
	"sync"
	"testing"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
)

// step delivers one page of the run, as the worker would.
func (h *chatHarness) step(t *testing.T, runID string) ports.JobRun {
	t.Helper()
	runs := postgres.NewJobRuns(h.pool)
	run, err := runs.Get(t.Context(), runID)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.sys.app.Commands.RunJob.Handle(t.Context(), application.RunJobInput{MessageID: "m", RunID: runID, Page: run.Pages}); err != nil {
		t.Fatalf("page %d of run %s: %v", run.Pages, runID, err)
	}
	if run, err = runs.Get(t.Context(), runID); err != nil {
		t.Fatal(err)
	}
	return run
}

// finish drives the run to its end.
func (h *chatHarness) finish(t *testing.T, runID string) ports.JobRun {
	t.Helper()
	run, err := h.drive(t.Context(), runID)
	if err != nil || run.Status != ports.JobCompleted {
		t.Fatalf("run %s: %s, %v (summary %v)", runID, run.Status, err, run.Summary)
	}
	return run
}

// overlap runs A's first page, then B whole, then the rest of A, and
// returns both as they ended.
func (h *chatHarness) overlap(t *testing.T) (a, b ports.JobRun) {
	t.Helper()
	runA, runB := h.enqueue(t), h.enqueue(t)
	h.step(t, runA.ID)
	b = h.finish(t, runB.ID)
	a = h.finish(t, runA.ID)
	t.Logf("A: %v", a.Summary)
	t.Logf("B: %v", b.Summary)
	return a, b
}

// decided is how many members the summary says the run saw in some state.
func decided(summary map[string]any) float64 {
	n := 0.0
	for _, k := range []string{"active", "inactive", "deactivated", "not_found"} {
		v, _ := summary[k].(float64)
		n += v
	}
	return n
}

// TestChatSyncOverlappingRunsReportWhatEachDid: run A lists its first page
// (1,000 of 1,500 accounts), then run B runs whole, then A finishes. B wrote
// every link after A did; A must still know its own matches: it refuses
// nobody and counts each member it decided once (1,500 listed; the 500
// without an account B already decided after A began).
func TestChatSyncOverlappingRunsReportWhatEachDid(t *testing.T) {
	t.Parallel()
	_, h := chatWorkspace(t, 2000, workspace(1500)...)
	doneA, doneB := h.overlap(t)

	wantA := map[string]float64{"active": 1500, "not_found": 0, "refused": 0, "changes": 1000, "list_calls": 2}
	wantB := map[string]float64{"active": 1500, "not_found": 500, "refused": 0, "changes": 1000, "list_calls": 2}
	for name, c := range map[string]struct {
		got  map[string]any
		want map[string]float64
	}{"A": {doneA.Summary, wantA}, "B": {doneB.Summary, wantB}} {
		for k, v := range c.want {
			if c.got[k] != v {
				t.Errorf("run %s: summary[%s] = %v, want %v", name, k, c.got[k], v)
			}
		}
	}
	if n := h.count(t, `SELECT count(*) FROM audit_log WHERE action = 'chat_status.change'`); n != 2000 {
		t.Errorf("audited changes = %d, want 2,000 (the changes of A and B together)", n)
	}
	if n := h.count(t, `SELECT count(*) FROM integrations WHERE provider = 'chat' AND status = 'active'`); n != 1500 {
		t.Errorf("active links = %d, want 1,500", n)
	}
}

// TestChatSyncOverlappingRunsLookUpEachMemberOnce: the token cannot read
// addresses, so both runs look members up. A lists (nothing matches), B
// runs whole and looks up 40 (its budget), then A finishes: it looks up
// only the 10 that B left, so the server sees 50 look-ups for 50 members.
func TestChatSyncOverlappingRunsLookUpEachMemberOnce(t *testing.T) {
	t.Parallel()
	fake, h := hiddenWorkspace(t, 50)
	doneA, doneB := h.overlap(t)
	if got := fake.Calls("users.lookupByEmail"); got != 50 {
		t.Errorf("look-ups at the server = %d, want 50 (each member once)", got)
	}
	if doneB.Summary["lookups"] != float64(40) || doneB.Summary["active"] != float64(40) || doneB.Summary["lookups_deferred"] != float64(10) {
		t.Errorf("run B: %v; want 40 look-ups, 40 active, 10 deferred", doneB.Summary)
	}
	if doneA.Summary["lookups"] != float64(10) || doneA.Summary["active"] != float64(10) || doneA.Summary["refused"] != float64(0) ||
		doneA.Summary["lookups_deferred"] != float64(0) {
		t.Errorf("run A: %v; want 10 look-ups (those B left), 10 active, none refused or deferred", doneA.Summary)
	}
	if n := h.count(t, `SELECT count(*) FROM integrations WHERE provider = 'chat' AND status = 'active'`); n != 50 {
		t.Errorf("active links = %d, want 50", n)
	}
}

// TestChatSyncConcurrentRunsRefuseNobody: two runs driven at the same time,
// page against page. Whatever the interleaving, neither refuses a member,
// neither counts a member twice, and the look-ups never exceed one per
// member plus those of members both runs had in hand at the same moment.
func TestChatSyncConcurrentRunsRefuseNobody(t *testing.T) {
	t.Parallel()
	_, h := chatWorkspace(t, 3000, workspace(2500)...)
	runs := []ports.JobRun{h.enqueue(t), h.enqueue(t)}
	done := make([]ports.JobRun, 2)
	var wg sync.WaitGroup
	for i, run := range runs {
		wg.Go(func() {
			r, err := h.drive(context.WithoutCancel(t.Context()), run.ID)
			if err != nil || r.Status != ports.JobCompleted {
				t.Errorf("run %s: %s, %v", run.ID, r.Status, err)
			}
			done[i] = r
		})
	}
	wg.Wait()
	for i, r := range done {
		t.Logf("run %d: %v", i, r.Summary)
		if r.Summary["refused"] != float64(0) {
			t.Errorf("run %d refused %v members; want none", i, r.Summary["refused"])
		}
		if n := decided(r.Summary); n > 3000 {
			t.Errorf("run %d counted %v members in some state; there are 3,000", i, n)
		}
		if r.Summary["active"] != float64(2500) {
			t.Errorf("run %d: active %v; want 2,500 (each lists every account)", i, r.Summary["active"])
		}
	}
	if n := h.count(t, `SELECT count(*) FROM audit_log WHERE action = 'chat_status.change'`); n != 3000 {
		t.Errorf("audited changes = %d, want 3,000", n)
	}
}
