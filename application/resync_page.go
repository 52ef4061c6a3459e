package application

import (
	"context"
	"errors"
	"sync"

	"github.com/womendefiningai/platform/ports"
)

// resyncEntry is one person of a page with an address: what they should be
// and what was last synced.
type resyncEntry struct {
	personID string
	want     emailState
	last     lastSynced
}

// resyncPlan is one page: its people with an address, the cursor after its
// last person, and whether it is the last page.
type resyncPlan struct {
	entries []resyncEntry
	next    string
	last    bool
}

// planPage reads the people after cursor, their memberships and their last
// synced states (one query each), and cuts the page before the person whose
// tag update would be the (ResyncTagCalls+1)th.
func (h ResyncEmailList) planPage(ctx context.Context, cursor string) (resyncPlan, error) {
	page, err := h.people.Directory(ctx, ports.DirectoryFilter{IncludeHidden: true, After: cursor, Limit: ResyncPage})
	if err != nil {
		return resyncPlan{}, err
	}
	ids := make([]string, 0, len(page.People))
	for _, p := range page.People {
		if p.PrimaryEmail != "" {
			ids = append(ids, p.ID)
		}
	}
	ms, acc, err := h.members.many(ctx, ids)
	if err != nil {
		return resyncPlan{}, err
	}
	states, err := h.states.store.GetMany(ctx, EmailListIntegration, ids)
	if err != nil {
		return resyncPlan{}, err
	}
	plan := resyncPlan{next: cursor, last: !page.HasMore}
	tagCalls := 0
	for i, p := range page.People {
		if p.PrimaryEmail != "" {
			st, found := states[p.ID]
			e := resyncEntry{personID: p.ID, want: desired(p, ms[p.ID], acc[p.ID]), last: decodeLast(st, found)}
			if len(tagChanges(e.want.Tags, e.last.state.Tags)) > 0 {
				if tagCalls == ResyncTagCalls {
					plan.last = false // the rest is the next page's
					break
				}
				tagCalls++
			}
			plan.entries = append(plan.entries, e)
		}
		if i < len(page.Cursors) {
			plan.next = page.Cursors[i]
		}
	}
	return plan, nil
}

// sendPage sends a planned page: one batch call, then the tag updates that
// differ, ResyncParallel at a time.
func (h ResyncEmailList) sendPage(ctx context.Context, plan resyncPlan, res *ResyncResult) error {
	if len(plan.entries) == 0 {
		return nil
	}
	subs := make([]ports.Subscriber, len(plan.entries))
	for i, e := range plan.entries {
		subs[i] = e.want.subscriber()
	}
	results, err := h.list.BatchUpsert(ctx, subs)
	if errors.Is(err, ports.ErrNotConfigured) {
		res.Skipped = true
		return nil
	}
	if err != nil {
		return err
	}
	res.BatchCalls += (len(subs) + ResyncPage - 1) / ResyncPage
	byEmail := make(map[string]ports.SubscriberResult, len(results))
	for _, r := range results {
		byEmail[r.Email] = r
	}
	return h.tagAll(ctx, plan.entries, byEmail, res)
}

// tagAll runs resyncOne for every entry, ResyncParallel at a time; the
// first error stops the ones not started and is returned.
func (h ResyncEmailList) tagAll(ctx context.Context, entries []resyncEntry, byEmail map[string]ports.SubscriberResult, res *ResyncResult) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	slots := make(chan struct{}, ResyncParallel)
	for _, e := range entries {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			var one ResyncResult
			err := h.resyncOne(ctx, e.personID, e.want, byEmail[e.want.Email], e.last, &one)
			mu.Lock()
			defer mu.Unlock()
			res.TagCalls += one.TagCalls
			res.Unsubscribed += one.Unsubscribed
			res.Errors += one.Errors
			if err != nil && first == nil {
				first = err
				cancel()
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return context.Cause(ctx) // the caller's deadline, if it ended the loop
}
