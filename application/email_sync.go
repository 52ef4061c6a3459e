package application

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// EmailProvider names the email list in the integrations table.
const EmailProvider = "mailchimp"

// Journey names.
const (
	JourneyWelcome       = "welcome"
	JourneyPaymentFailed = "payment_failed"
	JourneyWinBack       = "win_back"
)

// Journey is a customer-journey step to trigger; an empty one is skipped.
type Journey struct{ JourneyID, StepID string }

// EmailSyncConfig maps journey names to their ids.
type EmailSyncConfig struct {
	Journeys map[string]Journey
}

// emailState is what we last synced for a person (integrations.state).
type emailState struct {
	Email     string          `json:"email"`
	FirstName string          `json:"first_name"`
	LastName  string          `json:"last_name"`
	Tier      string          `json:"tier"`
	Tags      map[string]bool `json:"tags"`
	// Journeys lists "<journey>:<message id>" already triggered, newest last.
	Journeys []string `json:"journeys,omitempty"`
}

// sameFields reports whether the address and merge fields are unchanged.
func (s emailState) sameFields(o emailState) bool {
	return s.Email == o.Email && s.FirstName == o.FirstName && s.LastName == o.LastName && s.Tier == o.Tier
}

// previous decodes what was last synced; false when nothing was (no row, or
// only a "skipped" note).
func previous(last ports.IntegrationState, found bool) (emailState, bool) {
	var had emailState
	if !found || last.Status == "" {
		return had, false
	}
	_ = json.Unmarshal(last.State, &had)
	return had, true
}

// maxJourneyMemory bounds emailState.Journeys.
const maxJourneyMemory = 20

// EmailSyncHandler keeps the email list in step with people and their
// memberships. It computes the desired state from the person and the
// membership (never from the event), applies only what differs from what it
// last synced, and triggers the journey a change calls for, once.
type EmailSyncHandler struct {
	list         ports.EmailList
	people       ports.People
	memberships  ports.Memberships
	integrations ports.Integrations
	cfg          EmailSyncConfig
}

// NewEmailSyncHandler refuses nil dependencies.
func NewEmailSyncHandler(list ports.EmailList, people ports.People, memberships ports.Memberships, integrations ports.Integrations, cfg EmailSyncConfig) (EmailSyncHandler, error) {
	if list == nil || people == nil || memberships == nil || integrations == nil {
		return EmailSyncHandler{}, errors.New("application: email sync: nil dependency")
	}
	return EmailSyncHandler{list: list, people: people, memberships: memberships, integrations: integrations, cfg: cfg}, nil
}

// desired computes the list state of a person from their membership.
func desired(p ports.Person, m *membership.Membership) emailState {
	s := emailState{Email: p.PrimaryEmail, FirstName: p.FirstName, LastName: p.LastName, Tags: map[string]bool{}}
	status, tier := membership.StatusPending, ""
	alumni := false
	if m != nil {
		status, alumni = m.Status(), m.Alumni()
		if !m.Tier().IsZero() {
			tier = m.Tier().String()
		}
	}
	s.Tier = tier
	s.Tags["member"] = status.IsMember()
	s.Tags["active"] = status == membership.StatusActive
	s.Tags["past_due"] = status == membership.StatusPastDue
	s.Tags["alumni"] = alumni
	if tier != "" {
		s.Tags[tier] = status.IsMember()
	}
	return s
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

// journeyFor picks the journey a member.changed message calls for.
func journeyFor(reason string, events []string) string {
	switch {
	case reason == ReasonPaymentFailed:
		return JourneyPaymentFailed
	case slices.Contains(events, membership.NameActivated):
		return JourneyWelcome
	case slices.Contains(events, membership.NameCanceled):
		return JourneyWinBack
	default:
		return ""
	}
}

// HandleMemberChanged syncs the person named by a member.changed message.
func (h EmailSyncHandler) HandleMemberChanged(ctx context.Context, msg ports.Message) error {
	var body MemberChanged
	if err := json.Unmarshal(msg.Payload, &body); err != nil || body.PersonID == "" {
		return ports.Permanent(fmt.Errorf("malformed member.changed message: %w", err))
	}
	// One message per change (billing sends one payment_failed message per
	// invoice and attempt), so the message id keys "already triggered": a
	// redelivery or a replay of the same message triggers nothing again.
	journey := journeyFor(body.Reason, body.Events)
	return h.sync(ctx, body.PersonID, "", journey, journey+":"+msg.ID)
}

// HandleEmailChanged moves the subscriber to the person's new address.
func (h EmailSyncHandler) HandleEmailChanged(ctx context.Context, msg ports.Message) error {
	var body PersonEmailChanged
	if err := json.Unmarshal(msg.Payload, &body); err != nil || body.PersonID == "" {
		return ports.Permanent(fmt.Errorf("malformed person.email_changed message: %w", err))
	}
	return h.sync(ctx, body.PersonID, body.PreviousEmail, "", "")
}

// HandlePersonDeleted archives the subscriber of an erased person.
func (h EmailSyncHandler) HandlePersonDeleted(ctx context.Context, msg ports.Message) error {
	var body PersonDeleted
	if err := json.Unmarshal(msg.Payload, &body); err != nil || body.PersonID == "" {
		return ports.Permanent(fmt.Errorf("malformed person.deleted message: %w", err))
	}
	if body.Email == "" {
		return nil
	}
	err := h.list.Archive(ctx, body.Email)
	if errors.Is(err, ports.ErrEmailListNotConfigured) {
		return h.skipped(ctx, body.PersonID)
	}
	if err != nil {
		return err
	}
	return h.record(ctx, ports.IntegrationState{PersonID: body.PersonID, Provider: EmailProvider, Status: string(ports.SubscriberArchived), State: []byte("{}")})
}

func (h EmailSyncHandler) skipped(ctx context.Context, personID string) error {
	return h.record(ctx, ports.IntegrationState{PersonID: personID, Provider: EmailProvider, Note: "skipped: not configured"})
}

// record stores a state regardless of what was there (archive, skipped):
// it reads the current version and writes over it, once more on a race.
func (h EmailSyncHandler) record(ctx context.Context, st ports.IntegrationState) error {
	for range 2 {
		cur, err := h.integrations.Get(ctx, st.PersonID, EmailProvider)
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return err
		}
		st.Version = cur.Version
		if _, err = h.integrations.Put(ctx, st); !errors.Is(err, ports.ErrStaleState) {
			return err
		}
	}
	return ports.ErrStaleState
}

func (h EmailSyncHandler) sync(ctx context.Context, personID, previousEmail, journey, journeyKey string) error {
	p, err := h.people.Get(ctx, personID)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.Permanent(fmt.Errorf("person %s does not exist", personID))
	}
	if err != nil {
		return err
	}
	if p.Erased || p.PrimaryEmail == "" {
		return nil // person.deleted archives them
	}
	m, err := h.memberships.Get(ctx, personID)
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return err
	}
	want := desired(p, m)
	last, err := h.integrations.Get(ctx, personID, EmailProvider)
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return err
	}
	had, synced := previous(last, err == nil)
	if previousEmail == "" && synced && had.Email != "" && had.Email != want.Email {
		previousEmail = had.Email // the address moved since we last synced
	}
	jt, haveJourney := h.cfg.Journeys[journey]
	if journey == "" || !haveJourney || jt.JourneyID == "" || slices.Contains(had.Journeys, journeyKey) {
		journey = ""
	}
	needUpsert := !synced || previousEmail != "" || !had.sameFields(want)
	tags := tagChanges(want.Tags, had.Tags)
	if !needUpsert && len(tags) == 0 && journey == "" {
		return nil // nothing changed: no API call
	}

	status := ports.SubscriberStatus(last.Status)
	if needUpsert {
		res, err := h.list.Upsert(ctx, ports.Subscriber{Email: want.Email, FirstName: want.FirstName, LastName: want.LastName, Tier: want.Tier}, previousEmail)
		if errors.Is(err, ports.ErrEmailListNotConfigured) {
			return h.skipped(ctx, personID)
		}
		if err != nil {
			return err
		}
		status = res.Status
	}
	// A pending (compliance) or archived address has no member to tag yet.
	if len(tags) > 0 && status != ports.SubscriberPending && status != ports.SubscriberArchived {
		if err := h.list.SetTags(ctx, want.Email, tags); err != nil {
			return err
		}
	} else if len(tags) > 0 {
		want.Tags = had.Tags // not applied: try again next time
	}
	want.Journeys = had.Journeys
	// Saving before the journey, on the version read: if another sync of
	// this person ran meanwhile, this one fails here (ErrStaleState is
	// retried: it reads the newer state and redoes the idempotent calls),
	// so at most one of them triggers the journey.
	version, err := h.save(ctx, personID, last.Version, status, want)
	if err != nil {
		return err
	}
	if journey == "" || status != ports.SubscriberSubscribed {
		return nil // consent belongs to the list: only subscribed addresses get journeys
	}
	if err := h.list.TriggerJourney(ctx, jt.JourneyID, jt.StepID, want.Email); err != nil {
		return err
	}
	want.Journeys = append(want.Journeys, journeyKey)
	if n := len(want.Journeys); n > maxJourneyMemory {
		want.Journeys = want.Journeys[n-maxJourneyMemory:]
	}
	_, err = h.save(ctx, personID, version, status, want)
	return err
}

func (h EmailSyncHandler) save(ctx context.Context, personID string, version int64, status ports.SubscriberStatus, s emailState) (int64, error) {
	body, err := json.Marshal(s)
	if err != nil {
		return 0, err
	}
	return h.integrations.Put(ctx, ports.IntegrationState{PersonID: personID, Provider: EmailProvider, ExternalID: s.Email,
		Status: string(status), State: body, Version: version})
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

// ResyncPage is how many people one batch-subscribe call carries.
const ResyncPage = 500

// Resync pushes every person to the list with batch-subscribe (consent is
// kept: existing members' status never changes), then updates tags only
// where they differ from what was last synced. Journeys are not triggered.
func (h EmailSyncHandler) Resync(ctx context.Context, dryRun bool, progress func(ResyncResult)) (ResyncResult, error) {
	var res ResyncResult
	states, err := h.integrations.GetAll(ctx, EmailProvider)
	if err != nil {
		return res, err
	}
	after := ""
	for {
		page, err := h.people.Directory(ctx, ports.DirectoryFilter{IncludeHidden: true, After: after, Limit: ResyncPage})
		if err != nil {
			return res, err
		}
		if err := h.resyncPage(ctx, page.People, states, dryRun, &res); err != nil || res.Skipped {
			return res, err
		}
		if progress != nil {
			progress(res)
		}
		if !page.HasMore {
			return res, nil
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
}

func (h EmailSyncHandler) resyncPage(ctx context.Context, people []ports.Person, states map[string]ports.IntegrationState, dryRun bool, res *ResyncResult) error {
	ids := make([]string, 0, len(people))
	subs := make([]ports.Subscriber, 0, len(people))
	wants := map[string]emailState{}
	for _, p := range people {
		if p.PrimaryEmail == "" {
			continue
		}
		ids = append(ids, p.ID)
	}
	ms, err := h.memberships.GetMany(ctx, ids)
	if err != nil {
		return err
	}
	for _, p := range people {
		if p.PrimaryEmail == "" {
			continue
		}
		w := desired(p, ms[p.ID])
		wants[p.ID] = w
		subs = append(subs, ports.Subscriber{Email: w.Email, FirstName: w.FirstName, LastName: w.LastName, Tier: w.Tier})
	}
	res.People += len(subs)
	if len(subs) == 0 || dryRun {
		return nil
	}
	results, err := h.list.BatchUpsert(ctx, subs)
	if errors.Is(err, ports.ErrEmailListNotConfigured) {
		res.Skipped = true
		return nil
	}
	if err != nil {
		return err
	}
	res.BatchCalls += (len(subs) + ResyncPage - 1) / ResyncPage
	statusByEmail := make(map[string]ports.SubscriberResult, len(results))
	for _, r := range results {
		statusByEmail[r.Email] = r
	}
	for _, p := range people {
		want, ok := wants[p.ID]
		if !ok {
			continue
		}
		r := statusByEmail[want.Email]
		if r.Error != "" {
			res.Errors++
			continue
		}
		if r.Status == ports.SubscriberUnsubscribed || r.Status == ports.SubscriberCleaned {
			res.Unsubscribed++
		}
		last, found := states[p.ID]
		had, synced := previous(last, found)
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
		if synced && string(r.Status) == last.Status && maps.Equal(want.Tags, had.Tags) && want.sameFields(had) {
			continue // nothing to record
		}
		if _, err := h.save(ctx, p.ID, last.Version, r.Status, want); errors.Is(err, ports.ErrStaleState) {
			continue // a sync of this person ran meanwhile: its record is newer
		} else if err != nil {
			return err
		}
	}
	return nil
}
