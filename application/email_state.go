package application

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// EmailListIntegration names the email list in the integrations store.
const EmailListIntegration = "email_list"

// emailState is what we last synced for a person (the integration state).
type emailState struct {
	Email     string          `json:"email"`
	FirstName string          `json:"first_name"`
	LastName  string          `json:"last_name"`
	Tier      string          `json:"tier"`
	Tags      map[string]bool `json:"tags"`
	// Journeys lists "<journey>:<message id>" already triggered, newest last.
	Journeys []string `json:"journeys,omitempty"`
	// SkippedJourneys lists "<journey>:<message id>" a change called for
	// but that is not configured (skipped), newest last, for operators.
	SkippedJourneys []string `json:"skipped_journeys_not_configured,omitempty"`
}

// maxJourneyMemory bounds emailState.Journeys and SkippedJourneys.
const maxJourneyMemory = 20

// noteUnreadable is recorded on a state that could not be decoded: the
// next sync treats the person as never synced and writes a fresh one.
const noteUnreadable = "previous state unreadable; synced afresh"

// sameFields reports whether the address and merge fields are unchanged.
func (s emailState) sameFields(o emailState) bool {
	return s.Email == o.Email && s.FirstName == o.FirstName && s.LastName == o.LastName && s.Tier == o.Tier
}

func (s emailState) subscriber() ports.Subscriber {
	return ports.Subscriber{Email: s.Email, FirstName: s.FirstName, LastName: s.LastName, Tier: s.Tier}
}

// lastSynced is what the store holds for a person, decoded.
type lastSynced struct {
	stored ports.IntegrationState
	state  emailState
	// synced is false when nothing was synced (no row, only a "skipped"
	// note, or a state that does not decode).
	synced bool
	// unreadable is true when the stored state did not decode.
	unreadable bool
}

// decodeLast decodes a stored state; found is false when there is no row.
func decodeLast(st ports.IntegrationState, found bool) lastSynced {
	last := lastSynced{stored: st}
	if !found || st.Status == "" {
		return last
	}
	if err := json.Unmarshal(st.State, &last.state); err != nil {
		last.state, last.unreadable = emailState{}, true
		return last
	}
	last.synced = true
	return last
}

// desired computes the list state of a person from their membership and
// their access now (the access ledger's call): anyone with access, a
// scholarship holder included, is tagged a member of their tier like a
// paying member.
func desired(p ports.Person, m *membership.Membership, acc ledger.Access) emailState {
	s := emailState{Email: p.PrimaryEmail, FirstName: p.FirstName, LastName: p.LastName, Tags: map[string]bool{}}
	status, tier := membership.StatusPending, ""
	alumni := false
	if m != nil {
		status, alumni = m.Status(), m.Alumni()
		if !m.Tier().IsZero() {
			tier = m.Tier().String()
		}
	}
	if tier == "" {
		tier = grantedTier(acc)
	}
	member := status.IsMember() || acc.Active
	s.Tier = tier
	s.Tags["member"] = member
	// active: access in good standing (not past_due or suspended, even in grace).
	s.Tags["active"] = acc.Active && status != membership.StatusPastDue && status != membership.StatusSuspended
	s.Tags["past_due"] = status == membership.StatusPastDue
	if status == membership.StatusSuspended {
		s.Tags["suspended"] = true // only while suspended: no tag churn for everyone else
	}
	if acc.Has(ledger.SourceComplimentary) {
		s.Tags["complimentary"] = true // only while it lasts
	}
	s.Tags["alumni"] = alumni && !acc.Active
	if tier != "" {
		s.Tags[tier] = member
	}
	return s
}

// grantedTier is the tier of the first current grant that names one.
func grantedTier(acc ledger.Access) string {
	for _, g := range acc.Sources {
		if g.Tier != "" {
			return g.Tier
		}
	}
	return ""
}

// tagChanges lists the tags whose state differs from what was synced (all
// of them the first time); a tag synced active but no longer desired (an old
// tier) is set inactive.
func tagChanges(want, had map[string]bool) map[string]bool {
	out := map[string]bool{}
	for name, active := range want {
		if prev, ok := had[name]; !ok || prev != active {
			out[name] = active
		}
	}
	for name, prev := range had {
		if _, ok := want[name]; !ok && prev {
			out[name] = false
		}
	}
	return out
}

// emailStates reads and writes the integration state of the email list;
// uow (nil for the bulk resync) saves a state with a side effect's intent.
type emailStates struct {
	store ports.Integrations
	uow   ports.UnitOfWork[ports.EmailSyncTx]
}

// journeyEffect is the kind of a journey trigger's intent.
const journeyEffect = "email_journey"

// decide saves a state on version and records the intent of each key in
// the same transaction. It returns the new version and, for each key,
// whether the caller holds the intent (false when the key was taken).
func (s emailStates) decide(ctx context.Context, personID string, version int64, status ports.SubscriberStatus, st emailState, note string, keys []string) (int64, []bool, error) {
	body, err := json.Marshal(st)
	if err != nil {
		return 0, nil, err
	}
	var held []bool
	err = s.uow.Do(ctx, func(ctx context.Context, tx ports.EmailSyncTx) error {
		held = held[:0]
		if version, err = tx.Integrations().Put(ctx, ports.IntegrationState{PersonID: personID, Provider: EmailListIntegration,
			ExternalID: st.Email, Status: string(status), State: body, Note: note, Version: version}); err != nil {
			return err
		}
		for _, key := range keys {
			ok, err := tx.SideEffects().Intend(ctx, key, journeyEffect)
			if err != nil {
				return err
			}
			held = append(held, ok)
		}
		return nil
	})
	return version, held, err
}

// effect records that the intent of key was sent, or releases it.
func (s emailStates) effect(ctx context.Context, key string, sent bool) error {
	return s.uow.Do(ctx, func(ctx context.Context, tx ports.EmailSyncTx) error {
		if sent {
			return tx.SideEffects().Sent(ctx, key)
		}
		return tx.SideEffects().Release(ctx, key)
	})
}

// get returns what was last synced for the person.
func (s emailStates) get(ctx context.Context, personID string) (lastSynced, error) {
	st, err := s.store.Get(ctx, personID, EmailListIntegration)
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return lastSynced{}, err
	}
	return decodeLast(st, err == nil), nil
}

// save stores a synced state if the stored version is still version.
func (s emailStates) save(ctx context.Context, personID string, version int64, status ports.SubscriberStatus, st emailState, note string) (int64, error) {
	body, err := json.Marshal(st)
	if err != nil {
		return 0, err
	}
	return s.store.Put(ctx, ports.IntegrationState{PersonID: personID, Provider: EmailListIntegration, ExternalID: st.Email,
		Status: string(status), State: body, Note: note, Version: version})
}

// record stores a state regardless of what was there (a skipped note):
// it reads the current version and writes over it, once more on a race.
func (s emailStates) record(ctx context.Context, st ports.IntegrationState) error {
	st.Provider = EmailListIntegration
	for range 2 {
		cur, err := s.store.Get(ctx, st.PersonID, EmailListIntegration)
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return err
		}
		st.Version = cur.Version
		if _, err = s.store.Put(ctx, st); !errors.Is(err, ports.ErrStaleState) {
			return err
		}
	}
	return ports.ErrStaleState
}

func (s emailStates) skipped(ctx context.Context, personID string) error {
	return s.record(ctx, ports.IntegrationState{PersonID: personID, Note: "skipped: not configured"})
}
