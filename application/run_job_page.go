package application

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"

	"github.com/womendefiningai/platform/ports"
)

// Counts a paged run keeps in its summary besides the job's own.
const (
	// countPagesNotResent counts pages that were in flight when the attempt
	// running them stopped (a killed worker): they are never sent again.
	countPagesNotResent = "pages_not_resent"
	// listPagesNotResent lists their numbers (from 1).
	listPagesNotResent = "not_resent"
)

// handlePage runs the next page of a paged run, which Handle has started.
//
// The guarantee: a page's provider calls are made at most once. Before its
// first call the page commits its intent (ClaimPage: an attempt token, the
// cursor after the page, whether it is the last). After the calls, one
// transaction saves the cursor, the counts and, unless the page was the
// last, the message of the next page (the outbox): the page is done if,
// and only if, the next page is queued. So:
//
//   - a worker killed before the intent commits leaves nothing: the page's
//     message is delivered again and the page runs from the saved cursor;
//   - a worker killed after it leaves the intent: the next attempt finds it,
//     does not send the page again, counts it in pages_not_resent with an
//     error note, and moves on to the next page (a resync is idempotent and
//     the next run covers the page);
//   - a page whose provider answered with an error releases its intent and
//     is retried by the router like any other failure;
//   - a late attempt that lost its page (another took it over) cannot save
//     over the run's progress: SavePage checks the token.
func (h RunJob) handlePage(ctx context.Context, run ports.JobRun, job PagedJob) error {
	replaces := ""
	if in := run.InFlight; in != nil && job.Repeatable {
		replaces = in.Token // its pages may run again: take the page over
	} else if in != nil {
		note := fmt.Sprintf("page %d was in flight when its attempt stopped; it was not sent again", run.Pages+1)
		summary := mergeCounts(run.Summary, map[string]any{countPagesNotResent: 1})
		summary[listPagesNotResent] = append(pageList(run.Summary[listPagesNotResent]), int64(run.Pages)+1)
		return h.savePage(ctx, run, *in, summary, note)
	}
	token, err := newToken()
	if err != nil {
		return err
	}
	var intent *ports.PageIntent
	begin := func(next string, last bool) error {
		if intent != nil {
			return errors.New("a page began twice")
		}
		claim := ports.PageIntent{Token: token, Next: next, Last: last, Replaces: replaces}
		err := h.uow.Do(ctx, func(ctx context.Context, tx ports.JobTx) error {
			return tx.JobRuns().ClaimPage(ctx, run.ID, run.Pages, claim)
		})
		if err != nil {
			return fmt.Errorf("record the intent of page %d: %w", run.Pages+1, err)
		}
		intent = &claim
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, job.Budget)
	counts, pageErr := runPage(pctx, job.Page, run.Cursor, begin)
	cancel()
	switch {
	case errors.Is(pageErr, ports.ErrPageTaken):
		return nil // another attempt holds the page: it carries the run on
	case pageErr == nil && intent == nil:
		pageErr = ports.Permanent(fmt.Errorf("page %d ended without beginning: the job must call begin", run.Pages+1))
	}
	if pageErr != nil {
		return h.record(ctx, run, run.Summary, fmt.Errorf("page %d: %w", run.Pages+1, pageErr))
	}
	return h.savePage(ctx, run, *intent, mergeCounts(run.Summary, counts), "")
}

// savePage ends the run's page held by intent and queues the next page in
// the same transaction. Its write outlives the handler's time, like record.
func (h RunJob) savePage(ctx context.Context, run ports.JobRun, intent ports.PageIntent, summary map[string]any, note string) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	err := h.uow.Do(wctx, func(ctx context.Context, tx ports.JobTx) error {
		if err := tx.JobRuns().SavePage(ctx, run.ID, run.Pages, intent, summary, note); err != nil {
			return err
		}
		if intent.Last {
			return nil
		}
		msg, err := ports.NewMessage(ports.TopicJobRun, ports.JobRunPayload{RunID: run.ID, Page: run.Pages + 1})
		if err != nil {
			return err
		}
		return tx.Publisher().Publish(ctx, msg)
	})
	if errors.Is(err, ports.ErrPageTaken) {
		return nil // a late attempt: the page is another's
	}
	if err != nil {
		return fmt.Errorf("save page %d of job run %s: %w", run.Pages+1, run.ID, err)
	}
	return nil
}

// runPage calls a page, turning a panic into an error.
func runPage(ctx context.Context, fn PageFunc, cursor string, begin BeginPage) (counts map[string]any, err error) {
	defer func() {
		if v := recover(); v != nil {
			counts, err = nil, fmt.Errorf("job page panicked: %v", v)
		}
	}()
	return fn(ctx, cursor, begin)
}

// mergeCounts adds the page's numbers to the run's and replaces its other
// values.
func mergeCounts(run, page map[string]any) map[string]any {
	out := maps.Clone(run)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range page {
		n, isNum := number(v)
		if had, ok := number(out[k]); ok && isNum {
			out[k] = had + n
			continue
		}
		if isNum {
			out[k] = n
			continue
		}
		out[k] = v
	}
	return out
}

// number reads a count: Go integers from a page, float64 from stored JSON.
func number(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), true
	default:
		return 0, false
	}
}

// pageList reads a stored list of page numbers.
func pageList(v any) []int64 {
	list, _ := v.([]any)
	out := make([]int64, 0, len(list)+1)
	for _, e := range list {
		if n, ok := number(e); ok {
			out = append(out, n)
		}
	}
	return out
}

// newToken returns a random version-4 UUID naming one page attempt.
func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("page token: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
