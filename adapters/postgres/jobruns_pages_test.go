package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

const (
	tokenA = "0b8e5f0e-1c1a-4d8e-9a57-2f6c8e0d3a01"
	tokenB = "7d2f9c44-5b3e-4f0a-8c61-9e1d2a4b5c02"
)

// TestJobRunsPagesKeepCursorIntentAndProgress walks a paged run: an intent
// claimed before a page's calls survives (it is what a killed worker leaves
// behind), only its holder saves the page, and the last page completes it.
func TestJobRunsPagesKeepCursorIntentAndProgress(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	runs := postgres.NewJobRuns(pool)
	run := createRun(t, runs, "mailchimp_resync", slot9)

	if err := runs.ClaimPage(ctx, run.ID, 0, ports.PageIntent{Token: tokenA, Next: "p1"}); !errors.Is(err, ports.ErrPageTaken) {
		t.Fatalf("claim on a pending run: %v, want ErrPageTaken", err)
	}
	if _, err := runs.Start(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	if err := runs.ClaimPage(ctx, run.ID, 0, ports.PageIntent{Token: tokenA, Next: "p1"}); err != nil {
		t.Fatalf("claim page 0: %v", err)
	}
	if err := runs.ClaimPage(ctx, run.ID, 0, ports.PageIntent{Token: tokenB, Next: "p1"}); !errors.Is(err, ports.ErrPageTaken) {
		t.Fatalf("second claim of page 0: %v, want ErrPageTaken", err)
	}
	// A restarted worker starts the run again and finds the intent.
	got, err := runs.Start(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.InFlight == nil || got.InFlight.Token != tokenA || got.InFlight.Next != "p1" || got.InFlight.Last || got.Pages != 0 || got.Cursor != "" {
		t.Fatalf("restarted run = %+v (in flight %+v), want the intent of page 0", got, got.InFlight)
	}
	if err := runs.SavePage(ctx, run.ID, 0, ports.PageIntent{Token: tokenB, Next: "p1"}, nil, ""); !errors.Is(err, ports.ErrPageTaken) {
		t.Fatalf("save by a token that does not hold the page: %v, want ErrPageTaken", err)
	}
	if err := runs.SavePage(ctx, run.ID, 0, ports.PageIntent{Token: tokenA, Next: "p1"}, map[string]any{"people": 500}, ""); err != nil {
		t.Fatalf("save page 0: %v", err)
	}
	got, err = runs.Get(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Pages != 1 || got.Cursor != "p1" || got.InFlight != nil || got.Attempts != 0 || got.Status != ports.JobProcessing || got.Summary["people"] != float64(500) {
		t.Fatalf("after page 0: %+v", got)
	}
	if err := runs.SavePage(ctx, run.ID, 0, ports.PageIntent{Token: tokenA, Next: "p1"}, nil, ""); !errors.Is(err, ports.ErrPageTaken) {
		t.Fatalf("saving page 0 twice: %v, want ErrPageTaken", err)
	}

	// A failed page releases its intent (Finish), so its retry can claim it.
	if err := runs.ClaimPage(ctx, run.ID, 1, ports.PageIntent{Token: tokenB, Next: "p2", Last: true}); err != nil {
		t.Fatal(err)
	}
	if err := runs.Finish(ctx, run.ID, ports.JobRetrying, got.Summary, "page 2: 503"); err != nil {
		t.Fatal(err)
	}
	if got, _ := runs.Get(ctx, run.ID); got.InFlight != nil || got.Error != "page 2: 503" {
		t.Fatalf("after a failed page: %+v", got)
	}
	if _, err := runs.Start(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	last := ports.PageIntent{Token: tokenA, Next: "p2", Last: true}
	if err := runs.ClaimPage(ctx, run.ID, 1, last); err != nil {
		t.Fatal(err)
	}
	if err := runs.SavePage(ctx, run.ID, 1, last, map[string]any{"people": 700}, ""); err != nil {
		t.Fatal(err)
	}
	got, err = runs.Get(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ports.JobCompleted || got.FinishedAt.IsZero() || got.Pages != 2 || got.Error != "" {
		t.Fatalf("after the last page: %+v", got)
	}
}

// TestJobRunsClaimPageTakesOverOnlyTheNamedIntent: a repeatable job's
// attempt takes over the page of the attempt that stopped, and no other.
func TestJobRunsClaimPageTakesOverOnlyTheNamedIntent(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	runs := postgres.NewJobRuns(pool)
	run := createRun(t, runs, "stripe_reconcile", slot9)
	if _, err := runs.Start(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	if err := runs.ClaimPage(ctx, run.ID, 0, ports.PageIntent{Token: tokenA, Next: "p1"}); err != nil {
		t.Fatal(err)
	}
	const tokenC = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e03"
	if err := runs.ClaimPage(ctx, run.ID, 0, ports.PageIntent{Token: tokenB, Next: "p1", Replaces: tokenC}); !errors.Is(err, ports.ErrPageTaken) {
		t.Fatalf("take-over naming another token: %v, want ErrPageTaken", err)
	}
	if err := runs.ClaimPage(ctx, run.ID, 0, ports.PageIntent{Token: tokenB, Next: "p1", Replaces: tokenA}); err != nil {
		t.Fatalf("take-over of the stopped attempt's page: %v", err)
	}
	if err := runs.SavePage(ctx, run.ID, 0, ports.PageIntent{Token: tokenA, Next: "p1"}, nil, ""); !errors.Is(err, ports.ErrPageTaken) {
		t.Fatalf("the stopped attempt saved over the take-over: %v", err)
	}
	if err := runs.SavePage(ctx, run.ID, 0, ports.PageIntent{Token: tokenB, Next: "p1"}, nil, ""); err != nil {
		t.Fatal(err)
	}
}
