package application

import (
	"context"
	"errors"
	"maps"

	"github.com/womendefiningai/platform/ports"
)

// ResyncPage is how many people one batch-subscribe call carries.
const ResyncPage = 500

// ResyncEmailListInput says whether to only count (DryRun); Progress, if
// set, is called after each page.
type ResyncEmailListInput struct {
	DryRun   bool
	Progress func(ResyncResult)
}

// ResyncResult counts what a bulk resync did.
type ResyncResult struct {
	People       int
	BatchCalls   int
	TagCalls     int
	Unsubscribed int
	Errors       int
	Skipped      bool // the list is not configured
}

// ResyncEmailList pushes every person to the list in batches (consent is
// kept: existing members' status never changes), then updates tags only
// where they differ from what was last synced. Journeys are not triggered.
type ResyncEmailList struct {
	list        ports.EmailList
	people      ports.PeopleDirectory
	memberships ports.MembershipReader
	states      emailStates
}

// NewResyncEmailList refuses nil dependencies.
func NewResyncEmailList(list ports.EmailList, people ports.PeopleDirectory, memberships ports.MembershipReader, integrations ports.Integrations) (ResyncEmailList, error) {
	if anyNil(list, people, memberships, integrations) {
		return ResyncEmailList{}, nilDependency("resync email list")
	}
	return ResyncEmailList{list: list, people: people, memberships: memberships, states: emailStates{store: integrations}}, nil
}

// Handle resyncs everyone, page by page.
func (h ResyncEmailList) Handle(ctx context.Context, in ResyncEmailListInput) (ResyncResult, error) {
	var res ResyncResult
	// Said before anything is read, so that an empty directory is not
	// reported as synced either.
	if !h.list.Configured() {
		res.Skipped = true
		return res, nil
	}
	after := ""
	for {
		page, err := h.people.Directory(ctx, ports.DirectoryFilter{IncludeHidden: true, After: after, Limit: ResyncPage})
		if err != nil {
			return res, err
		}
		if err := h.resyncPage(ctx, page.People, in.DryRun, &res); err != nil || res.Skipped {
			return res, err
		}
		if in.Progress != nil {
			in.Progress(res)
		}
		if !page.HasMore {
			return res, nil
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
}

// Job returns the runner of the nightly resync, with its counts as the
// run's summary; it is recorded as skipped without a configured list.
func (h ResyncEmailList) Job() JobFunc {
	return func(ctx context.Context) (map[string]any, error) {
		res, err := h.Handle(ctx, ResyncEmailListInput{})
		if res.Skipped {
			return skipped("not configured"), err
		}
		return map[string]any{"outcome": "synced", "people": res.People, "batch_calls": res.BatchCalls, "tag_calls": res.TagCalls, "errors": res.Errors}, err
	}
}

// Page runs one page of the nightly resync as a paged job: the people after
// cursor, one batch call and the tag updates that differ. Its counts are
// the run's summary; without a configured list the run completes at once,
// recorded as skipped.
func (h ResyncEmailList) Page(ctx context.Context, cursor string, begin BeginPage) (map[string]any, error) {
	if !h.list.Configured() {
		return skipped("not configured"), begin("", true)
	}
	page, err := h.people.Directory(ctx, ports.DirectoryFilter{IncludeHidden: true, After: cursor, Limit: ResyncPage})
	if err != nil {
		return nil, err
	}
	next := cursor
	if n := len(page.Cursors); n > 0 {
		next = page.Cursors[n-1]
	}
	if err := begin(next, !page.HasMore); err != nil {
		return nil, err
	}
	var res ResyncResult
	err = h.resyncPage(ctx, page.People, false, &res)
	return map[string]any{"outcome": "synced", "people": res.People, "batch_calls": res.BatchCalls,
		"tag_calls": res.TagCalls, "unsubscribed": res.Unsubscribed, "errors": res.Errors}, err
}

// desiredPage computes the desired state of each person of a page who has
// an address, with one membership query for the page.
func (h ResyncEmailList) desiredPage(ctx context.Context, people []ports.Person) (map[string]emailState, []ports.Subscriber, error) {
	ids := make([]string, 0, len(people))
	for _, p := range people {
		if p.PrimaryEmail != "" {
			ids = append(ids, p.ID)
		}
	}
	ms, err := h.memberships.GetMany(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	wants := make(map[string]emailState, len(ids))
	subs := make([]ports.Subscriber, 0, len(ids))
	for _, p := range people {
		if p.PrimaryEmail == "" {
			continue
		}
		w := desired(p, ms[p.ID])
		wants[p.ID] = w
		subs = append(subs, w.subscriber())
	}
	return wants, subs, nil
}

// resyncPage resyncs one page: the people's memberships and last synced
// states in one query each, one batch call, and the tag updates that differ.
func (h ResyncEmailList) resyncPage(ctx context.Context, people []ports.Person, dryRun bool, res *ResyncResult) error {
	wants, subs, err := h.desiredPage(ctx, people)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(wants))
	for id := range wants {
		ids = append(ids, id)
	}
	states, err := h.states.store.GetMany(ctx, EmailListIntegration, ids)
	if err != nil {
		return err
	}
	res.People += len(subs)
	if len(subs) == 0 || dryRun {
		return nil
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
	for _, p := range people {
		want, ok := wants[p.ID]
		if !ok {
			continue
		}
		st, found := states[p.ID]
		if err := h.resyncOne(ctx, p.ID, want, byEmail[want.Email], decodeLast(st, found), res); err != nil {
			return err
		}
	}
	return nil
}

// resyncOne fixes one person's tags where they differ and records what
// changed.
func (h ResyncEmailList) resyncOne(ctx context.Context, personID string, want emailState, r ports.SubscriberResult, last lastSynced, res *ResyncResult) error {
	if r.Error != "" {
		res.Errors++
		return nil
	}
	if r.Status == ports.SubscriberUnsubscribed || r.Status == ports.SubscriberCleaned {
		res.Unsubscribed++
	}
	had := last.state
	tags := tagChanges(want.Tags, had.Tags)
	if len(tags) > 0 && r.Status != ports.SubscriberPending {
		if err := h.list.SetTags(ctx, want.Email, tags); err != nil {
			return err
		}
		res.TagCalls++
	} else if len(tags) > 0 {
		want.Tags = had.Tags
	}
	want.Journeys = had.Journeys
	if last.synced && string(r.Status) == last.stored.Status && maps.Equal(want.Tags, had.Tags) && want.sameFields(had) {
		return nil // nothing to record
	}
	note := ""
	if last.unreadable {
		note = noteUnreadable
	}
	_, err := h.states.save(ctx, personID, last.stored.Version, r.Status, want, note)
	if errors.Is(err, ports.ErrStaleState) {
		return nil // a sync of this person ran meanwhile: its record is newer
	}
	return err
}
