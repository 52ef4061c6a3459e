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
}

func (s memberEmailSync) sync(ctx context.Context, r syncRequest) error {
	p, err := s.people.Get(ctx, r.personID)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.Permanent(fmt.Errorf("person %s does not exist", r.personID))
	}
	if err != nil {
		return err
	}
	if p.Erased || p.PrimaryEmail == "" {
		return nil // person.deleted erases them from the list
	}
	plan, err := s.plan(ctx, p, r)
	if err != nil {
		return err
	}
	if !plan.needUpsert && len(plan.tags) == 0 && len(plan.journeys) == 0 && len(plan.skipped) == 0 {
		return nil // nothing changed: no API call
	}
	return s.apply(ctx, r, plan)
}

func (s memberEmailSync) plan(ctx context.Context, p ports.Person, r syncRequest) (syncPlan, error) {
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
	plan.needUpsert = !last.synced || plan.previousEmail != "" || !had.sameFields(plan.want)
	plan.tags = tagChanges(plan.want.Tags, had.Tags)
	return plan, nil
}

func (s memberEmailSync) apply(ctx context.Context, r syncRequest, plan syncPlan) error {
	want, had := plan.want, plan.last.state
	status := ports.SubscriberStatus(plan.last.stored.Status)
	if plan.needUpsert {
		res, err := s.list.Upsert(ctx, want.subscriber(), plan.previousEmail)
		if errors.Is(err, ports.ErrNotConfigured) {
			return s.states.skipped(ctx, r.personID)
		}
		if err != nil {
			return err
		}
		status = res.Status
	}
	// A pending (compliance) or archived address has no member to tag yet.
	if len(plan.tags) > 0 && status != ports.SubscriberPending && status != ports.SubscriberArchived {
		if err := s.list.SetTags(ctx, want.Email, plan.tags); err != nil {
			return err
		}
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
	// save fail (ErrStaleState is retried: it reads the newer state and
	// redoes the idempotent calls); a retry or a concurrent delivery of the
	// same message finds the key taken and never triggers again.
	var keys []string
	if status == ports.SubscriberSubscribed { // consent belongs to the list
		for _, j := range plan.journeys {
			keys = append(keys, journeyIntentKey(r.personID, j.key))
		}
	}
	version, held, err := s.states.decide(ctx, r.personID, plan.last.stored.Version, status, want, note, keys)
	if err != nil {
		return err
	}
	var sent []string
	for i, j := range plan.journeys {
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
		sent = append(sent, j.key)
	}
	if len(sent) == 0 {
		return nil
	}
	// Remembered in the state too, so that a later sync skips the journey
	// without reaching the intent; a stale save loses only that shortcut.
	want.Journeys = remember(want.Journeys, sent...)
	if _, err = s.states.save(ctx, r.personID, version, status, want, note); errors.Is(err, ports.ErrStaleState) {
		return nil
	}
	return err
}

// journeyIntentKey names a journey of a person for one message: a
// redelivery or a replay of the message uses the same key.
func journeyIntentKey(personID, journeyKey string) string {
	return "email_journey:" + personID + ":" + journeyKey
}

// remember appends keys to a journey memory, keeping the newest
// maxJourneyMemory.
func remember(memory []string, keys ...string) []string {
	memory = append(memory, keys...)
	if n := len(memory); n > maxJourneyMemory {
		memory = memory[n-maxJourneyMemory:]
	}
	return memory
}
