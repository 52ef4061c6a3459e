package application

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/womendefiningai/platform/ports"
)

// Two syncs of one person may run at once (two changes in quick
// succession, a retry, the nightly resync). Each saves what it synced on
// the version of the state it read, so only one of them saves; but the
// loser's calls to the list were already made, and may reach the list
// after the winner's. The loser therefore plans again from the person as
// they are now, against both the saved state and what it sent itself
// (sentCalls), and repairs whatever of its own calls differs.

// sentCalls is what one attempt of a sync changed at the list.
type sentCalls struct {
	upserted bool
	fields   emailState // the subscriber sent, when upserted
	tags     map[string]bool
}

// add records later calls over earlier ones: one sync's calls are made
// one after another, so the list holds the latest of them.
func (c *sentCalls) add(later sentCalls) {
	if later.upserted {
		c.upserted, c.fields = true, later.fields
	}
	if c.tags == nil {
		c.tags = map[string]bool{}
	}
	maps.Copy(c.tags, later.tags)
}

// made reports whether any call was made.
func (c sentCalls) made() bool { return c.upserted || len(c.tags) > 0 }

// recordLate writes calls that may have reached the list after the saved
// state into it, as what the list may hold: the next sync sends the person
// wherever they differ (at worst, calls that change nothing). A state that
// records no sync is left alone: the next sync sends everything anyway.
func (s emailStates) recordLate(ctx context.Context, personID string, late sentCalls) error {
	for range maxSyncRaces {
		last, err := s.get(ctx, personID)
		if err != nil || !last.synced {
			return err
		}
		st := last.state
		if late.upserted {
			st.Email, st.FirstName, st.LastName, st.Tier = late.fields.Email, late.fields.FirstName, late.fields.LastName, late.fields.Tier
		}
		st.Tags = maps.Clone(st.Tags)
		if st.Tags == nil {
			st.Tags = map[string]bool{}
		}
		maps.Copy(st.Tags, late.tags)
		_, err = s.save(ctx, personID, last.stored.Version, ports.SubscriberStatus(last.stored.Status), st, last.stored.Note)
		if !errors.Is(err, ports.ErrStaleState) {
			return err
		}
	}
	return ports.ErrStaleState
}

// errLostSave is apply's ErrStaleState: another sync of the person saved
// between this one's read and its save, after this one's calls.
var errLostSave = errors.New("another sync of this person saved first")

// maxSyncRaces bounds how often one sync plans again after another sync
// of the same person saved first.
const maxSyncRaces = 3

// syncAfter is sync after calls to the list that may have reached it after
// the last saved state (late): they are repaired wherever they differ
// from the person now.
func (s memberEmailSync) syncAfter(ctx context.Context, r syncRequest, late sentCalls) (err error) {
	defer func() {
		// Failing with calls on their way (the repair failed, or every
		// save was lost), the calls go on record: the retry, or whichever
		// sync comes next, compares the person with them.
		if err != nil && late.made() {
			err = errors.Join(err, s.states.recordLate(ctx, r.personID, late))
		}
	}()
	// A retry later would trust the saved state and leave a stale tag or
	// name at the list for good: the loser of a race plans again now,
	// from the person read again.
	for range maxSyncRaces {
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
		plan, err := s.plan(ctx, p, r, late)
		if err != nil {
			return err
		}
		if !plan.needUpsert && len(plan.tags) == 0 && len(plan.journeys) == 0 && len(plan.skipped) == 0 {
			return nil // nothing changed: no API call
		}
		sent, err := s.apply(ctx, r, plan)
		if !errors.Is(err, errLostSave) {
			return err
		}
		late.add(sent)
	}
	return ports.ErrStaleState // retried: the store moves on, and so does the list
}
