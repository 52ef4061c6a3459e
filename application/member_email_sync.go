package application

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/womendefiningai/platform/ports"
)

// memberEmailSync keeps one person's subscriber in step with the person and
// their membership. It computes the desired state (never from the event),
// applies only what differs from what it last synced, and triggers the
// journey a change calls for, once.
type memberEmailSync struct {
	list     ports.EmailList
	people   ports.PersonReader
	members  memberAccess
	states   emailStates
	journeys Journeys
}

// EmailSyncDeps are the ports the email-list use cases share. UoW saves a
// synced state together with the intent of the journey it decides.
type EmailSyncDeps struct {
	List         ports.EmailList
	People       ports.PersonReader
	Memberships  ports.MembershipReader
	Access       ports.AccessReader
	Clock        ports.Clock
	Integrations ports.Integrations
	UoW          ports.UnitOfWork[ports.EmailSyncTx]
	Journeys     Journeys
}

func newMemberEmailSync(d EmailSyncDeps, useCase string) (memberEmailSync, error) {
	members := memberAccess{memberships: d.Memberships, grants: d.Access, clock: d.Clock}
	if anyNil(d.List, d.People, d.Integrations, d.UoW) || members.missing() {
		return memberEmailSync{}, nilDependency(useCase)
	}
	return memberEmailSync{list: d.List, people: d.People, members: members,
		states: emailStates{store: d.Integrations, uow: d.UoW}, journeys: d.Journeys}, nil
}

// syncRequest is one sync of a person: previousEmail moves the subscriber,
// each of journeys is triggered once for messageID (the key
// "<journey>:<message id>" marks it sent).
type syncRequest struct {
	personID      string
	previousEmail string
	journeys      []string
	messageID     string
}

// plannedJourney is a configured journey to trigger under key.
type plannedJourney struct {
	Journey
	key string
}

// syncPlan is what one sync has to do.
type syncPlan struct {
	want          emailState
	last          lastSynced
	previousEmail string
	journeys      []plannedJourney
	skipped       []string // keys of journeys the change calls for that are not configured
	needUpsert    bool
	tags          map[string]bool
	// archive is an address this sync's own late call wrote after the
	// person had left it: archived once the person is upserted.
	archive string
}

func (s memberEmailSync) sync(ctx context.Context, r syncRequest) error {
	return s.syncAfter(ctx, r, sentCalls{})
}

// plan computes what a sync of p has to do: what differs between the
// person now and the saved state, and between the person now and late,
// what an earlier attempt of this sync sent before losing a race.
func (s memberEmailSync) plan(ctx context.Context, p ports.Person, r syncRequest, late sentCalls) (syncPlan, error) {
	m, acc, err := s.members.one(ctx, p.ID)
	if err != nil {
		return syncPlan{}, err
	}
	last, err := s.states.get(ctx, p.ID)
	if err != nil {
		return syncPlan{}, err
	}
	plan := syncPlan{want: desired(p, m, acc), last: last, previousEmail: r.previousEmail}
	had := last.state
	if plan.previousEmail == "" && last.synced && had.Email != "" && had.Email != plan.want.Email {
		plan.previousEmail = had.Email // the address moved since we last synced
	}
	for _, name := range r.journeys {
		key := name + ":" + r.messageID
		if slices.Contains(had.Journeys, key) || slices.Contains(had.SkippedJourneys, key) {
			continue
		}
		if jt, ok := s.journeys.resolve(name); ok {
			plan.journeys = append(plan.journeys, plannedJourney{Journey: jt, key: key})
		} else {
			plan.skipped = append(plan.skipped, key)
		}
	}
	if late.upserted && late.fields.Email != plan.want.Email {
		// Our own late call may have moved the person back there, or
		// recreated the address after the person left it.
		if plan.previousEmail == "" {
			plan.previousEmail = late.fields.Email
		}
		plan.archive = late.fields.Email
	}
	plan.needUpsert = !last.synced || plan.previousEmail != "" || !had.sameFields(plan.want) ||
		(late.upserted && !late.fields.sameFields(plan.want))
	plan.tags = tagChanges(plan.want.Tags, had.Tags)
	for name, sent := range late.tags {
		if plan.want.Tags[name] != sent {
			plan.tags[name] = plan.want.Tags[name]
		}
	}
	return plan, nil
}

// apply makes the plan's calls and saves the state; it returns the calls
// it made, which matter when the save lost a race (ErrStaleState).
func (s memberEmailSync) apply(ctx context.Context, r syncRequest, plan syncPlan) (sentCalls, error) {
	want, had := plan.want, plan.last.state
	var sent sentCalls
	status := ports.SubscriberStatus(plan.last.stored.Status)
	if plan.needUpsert {
		res, err := s.list.Upsert(ctx, want.subscriber(), plan.previousEmail)
		if errors.Is(err, ports.ErrNotConfigured) {
			return sent, s.states.skipped(ctx, r.personID)
		}
		if err != nil {
			return sent, err
		}
		status, sent.upserted, sent.fields = res.Status, true, want
		if plan.archive != "" {
			if err := s.list.Archive(ctx, plan.archive); err != nil {
				return sent, err
			}
		}
	}
	// A pending (compliance) or archived address has no member to tag yet.
	if len(plan.tags) > 0 && status != ports.SubscriberPending && status != ports.SubscriberArchived {
		if err := s.list.SetTags(ctx, want.Email, plan.tags); err != nil {
			return sent, err
		}
		sent.tags = plan.tags
	} else if len(plan.tags) > 0 {
		want.Tags = had.Tags // not applied: try again next time
	}
	want.Journeys = had.Journeys
	want.SkippedJourneys = remember(slices.Clone(had.SkippedJourneys), plan.skipped...)
	note := ""
	if plan.last.unreadable {
		note = noteUnreadable
	}
	// The decision: the state is saved on the version read and, in the same
	// transaction, the journey's intent is recorded under its key, before
	// the call. Another sync of this person that ran meanwhile makes the
	// save fail (ErrStaleState: sync plans again from the newer state and
	// what this attempt sent); a retry or a concurrent delivery of the
	// same message finds the key taken and never triggers again.
	var keys []string
	if status == ports.SubscriberSubscribed { // consent belongs to the list
		for _, j := range plan.journeys {
			keys = append(keys, journeyIntentKey(r.personID, j.key))
		}
	}
	version, held, err := s.states.decide(ctx, r.personID, plan.last.stored.Version, status, want, note, keys)
	if errors.Is(err, ports.ErrStaleState) {
		return sent, fmt.Errorf("%w: %w", errLostSave, err)
	}
	if err != nil {
		return sent, err
	}
	return sentCalls{}, s.trigger(ctx, r.personID, plan.journeys, keys, held, version, status, want, note)
}

// trigger sends the journeys whose intent this sync holds, after the
// state was saved at version, and remembers them in the state.
func (s memberEmailSync) trigger(ctx context.Context, personID string, journeys []plannedJourney, keys []string, held []bool,
	version int64, status ports.SubscriberStatus, want emailState, note string) error {
	var triggered []string
	for i, j := range journeys {
		if i >= len(held) || !held[i] {
			continue
		}
		if err := s.list.TriggerJourney(ctx, j.JourneyID, j.StepID, want.Email); err != nil {
			// The list refused: forget the intent so that the retry may send.
			return errors.Join(err, s.states.effect(ctx, keys[i], false))
		}
		if err := s.states.effect(ctx, keys[i], true); err != nil {
			return err
		}
		triggered = append(triggered, j.key)
	}
	if len(triggered) == 0 {
		return nil
	}
	// Remembered in the state too, so that a later sync skips the journey
	// without reaching the intent; a stale save loses only that shortcut.
	want.Journeys = remember(want.Journeys, triggered...)
	if _, err := s.states.save(ctx, personID, version, status, want, note); !errors.Is(err, ports.ErrStaleState) {
		return err
	}
	return nil
}
