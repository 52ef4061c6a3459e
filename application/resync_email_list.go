package application

import (
	"context"
	"errors"

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
	list    ports.EmailList
	people  ports.PeopleDirectory
	members memberAccess
	states  emailStates
	// repair syncs one person whom a sync saved meanwhile (no journeys).
	repair memberEmailSync
}

// ResyncEmailListDeps are the ports ResyncEmailList uses; Person and UoW
// sync one person again when a sync of theirs saved during the resync.
type ResyncEmailListDeps struct {
	List         ports.EmailList
	People       ports.PeopleDirectory
	Person       ports.PersonReader
	Memberships  ports.MembershipReader
	Access       ports.AccessReader
	Clock        ports.Clock
	Integrations ports.Integrations
	UoW          ports.UnitOfWork[ports.EmailSyncTx]
}

// NewResyncEmailList refuses nil dependencies.
func NewResyncEmailList(d ResyncEmailListDeps) (ResyncEmailList, error) {
	members := memberAccess{memberships: d.Memberships, grants: d.Access, clock: d.Clock}
	if anyNil(d.List, d.People, d.Person, d.Integrations, d.UoW) || members.missing() {
		return ResyncEmailList{}, nilDependency("resync email list")
	}
	repair, err := newMemberEmailSync(EmailSyncDeps{List: d.List, People: d.Person, Memberships: d.Memberships, Access: d.Access,
		Clock: d.Clock, Integrations: d.Integrations, UoW: d.UoW}, "resync email list")
	if err != nil {
		return ResyncEmailList{}, err
	}
	return ResyncEmailList{list: d.List, people: d.People, members: members, states: emailStates{store: d.Integrations}, repair: repair}, nil
}

// ResyncTagCalls is the most tag updates one page makes, and
// ResyncParallel how many of them run at once (the list provider allows 10
// connections per account; the provider limit holds them across replicas).
// A page stops before the person whose tag update would exceed it, so a
// page of never-synced people (every one needs its tags) is 120 people and
// takes 15 rounds of calls, about 5 s at 300 ms a call, within its 15 s
// budget; a page of people already synced is still 500.
const (
	ResyncTagCalls = 120
	ResyncParallel = 8
)

// Handle resyncs everyone, page by page.
func (h ResyncEmailList) Handle(ctx context.Context, in ResyncEmailListInput) (ResyncResult, error) {
	var res ResyncResult
	// Said before anything is read, so that an empty directory is not
	// reported as synced either.
	if !h.list.Configured() {
		res.Skipped = true
		return res, nil
	}
	cursor := ""
	for {
		plan, err := h.planPage(ctx, cursor)
		if err != nil {
			return res, err
		}
		res.People += len(plan.entries)
		if !in.DryRun {
			if err := h.sendPage(ctx, plan, &res); err != nil || res.Skipped {
				return res, err
			}
		}
		if in.Progress != nil {
			in.Progress(res)
		}
		if plan.last {
			return res, nil
		}
		cursor = plan.next
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
// cursor (up to ResyncPage, fewer when their tag updates would exceed
// ResyncTagCalls), one batch call and the tag updates that differ. Its
// counts are the run's summary; without a configured list the run
// completes at once, recorded as skipped.
func (h ResyncEmailList) Page(ctx context.Context, cursor string, begin BeginPage) (map[string]any, error) {
	if !h.list.Configured() {
		return skipped("not configured"), begin("", true)
	}
	plan, err := h.planPage(ctx, cursor)
	if err != nil {
		return nil, err
	}
	if err := begin(plan.next, plan.last); err != nil {
		return nil, err
	}
	res := ResyncResult{People: len(plan.entries)}
	err = h.sendPage(ctx, plan, &res)
	return map[string]any{"outcome": "synced", "people": res.People, "batch_calls": res.BatchCalls,
		"tag_calls": res.TagCalls, "unsubscribed": res.Unsubscribed, "errors": res.Errors}, err
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
	sent := sentCalls{upserted: true, fields: want} // the batch call
	if len(tags) > 0 && r.Status != ports.SubscriberPending {
		sent.tags = tags
		if err := h.list.SetTags(ctx, want.Email, tags); err != nil {
			return err
		}
		res.TagCalls++
	} else if len(tags) > 0 {
		want.Tags = had.Tags
	}
	want.Journeys, want.SkippedJourneys = had.Journeys, had.SkippedJourneys
	// Saved even when nothing changed: the batch call rewrote the person
	// at the list, and the versioned save is how this resync, or a sync of
	// the person that saves after it, learns that the other's calls may
	// have landed last.
	note := ""
	if last.unreadable {
		note = noteUnreadable
	}
	_, err := h.states.save(ctx, personID, last.stored.Version, r.Status, want, note)
	if errors.Is(err, ports.ErrStaleState) {
		// A sync of this person saved meanwhile, and this resync's calls,
		// read from the person before it, may have reached the list after
		// its: sync them again from the person as they are now. A failure
		// is this person's alone (the calls are on record for their next
		// sync): it must not stop the page.
		if err := h.repair.syncAfter(ctx, syncRequest{personID: personID}, sent); err != nil {
			res.Errors++
		}
		return nil
	}
	return err
}
