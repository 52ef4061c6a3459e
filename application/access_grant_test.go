package application_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// The access ledger's use cases run in the billing world: its provider
// mock (w.billing) is strict, so any call to billing fails a test. That is
// how these tests hold that scholarships never touch the provider; besides,
// GrantAccess and RevokeAccess take no billing port at all.

func blAdmin(t *testing.T) context.Context { return asUser(t, "p9", access.RoleAdmin) }

// accessChanged is the member.changed of a change of access.
func accessChanged(events ...string) ports.MemberChangedMessage {
	return ports.MemberChangedMessage{PersonID: blPerson, Reason: ports.ReasonAccess, Events: events}
}

// knownTier makes the catalogue know blTier.
func (w *billingWorld) knownTier() {
	w.tiers.EXPECT().GetTier(gomock.Any(), blTier).Return(ports.MembershipTier{ID: blTier, PriceID: blPrice}, nil)
}

func TestGrantAccessGrantsAScholarshipWithoutBilling(t *testing.T) {
	t.Parallel()
	w := newBillingWorld(t)
	w.knownTier()
	until := blNow.Add(90 * 24 * time.Hour)
	g, err := w.grantAccess().Handle(blAdmin(t), application.GrantAccessInput{PersonID: blPerson, Source: ledger.SourceComplimentary,
		TierID: blTier, Until: until, Reason: " scholarship 2026 "})
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.Grant{ID: "g1", PersonID: blPerson, Source: ledger.SourceComplimentary, Tier: blTier, From: blNow, Until: until,
		GrantedBy: "p9", Reason: "scholarship 2026"}
	blEqual(t, "grant", g, want)
	blEqual(t, "ledger", w.book.of(blPerson), []ledger.Grant{want})
	blEqual(t, "member.changed", w.memberChanged(), []ports.MemberChangedMessage{accessChanged(application.EventAccessStarted)})
	blEqual(t, "access audit", w.accessActions(), []string{"access.grant", "access.started"})
	if a := w.audits[0]; a.ActorKind != "user" || a.ActorID != "p9" || a.Details["reason"] != "scholarship 2026" || a.Details["grant_id"] != "g1" {
		t.Errorf("grant audit = %+v, want the admin, the grant and the reason", a)
	}
	// The reminder ReminderBefore ahead of the end, and the check at the end.
	blEqual(t, "scheduled", w.accessScheduled, []blAccessScheduled{
		{Topic: ports.TopicAccessReminder, PersonID: blPerson, GrantID: "g1", Until: until, At: until.Add(-blPolicy.ReminderBefore)},
		blCheck(until),
	})
	if !w.book.isActive(blPerson) || w.member(blPerson).Status() != membership.StatusPending {
		t.Errorf("recorded active %v, membership %s; want access with a pending membership (no subscription)", w.book.isActive(blPerson), w.member(blPerson).Status())
	}
}

// A short scholarship gets no reminder before it starts; a manual grant
// without an end needs no check; a grant to someone who already has access
// changes nothing of their access.
func TestGrantAccessSchedulesOnlyWhatApplies(t *testing.T) {
	t.Parallel()
	t.Run("shorter than the reminder: only the check", func(t *testing.T) {
		t.Parallel()
		w := newBillingWorld(t)
		until := blNow.Add(blPolicy.ReminderBefore / 2)
		if _, err := w.grantAccess().Handle(blAdmin(t), application.GrantAccessInput{PersonID: blPerson, Source: ledger.SourceComplimentary,
			Until: until, Reason: "one week"}); err != nil {
			t.Fatal(err)
		}
		blEqual(t, "scheduled", w.accessScheduled, []blAccessScheduled{blCheck(until)})
	})
	t.Run("an open manual grant to a paying member", func(t *testing.T) {
		t.Parallel()
		w := newBillingWorld(t)
		w.given(blPerson, blSnap(membership.ProviderActive, blNow.Add(-time.Hour)))
		g, err := w.grantAccess().Handle(blAdmin(t), application.GrantAccessInput{PersonID: blPerson, Source: ledger.SourceManual, Reason: "speaker"})
		if err != nil || g.Source != ledger.SourceManual || !g.Until.IsZero() {
			t.Fatalf("grant = %+v, %v", g, err)
		}
		blEqual(t, "access audit", w.accessActions(), []string{"access.grant"})
		blEqual(t, "member.changed", w.memberChanged(), []ports.MemberChangedMessage(nil))
		blEqual(t, "scheduled", w.accessScheduled, []blAccessScheduled(nil))
	})
}

func TestGrantAccessRefusesAndChangesNothing(t *testing.T) {
	t.Parallel()
	in := application.GrantAccessInput{PersonID: blPerson, Source: ledger.SourceComplimentary, Until: blNow.Add(30 * 24 * time.Hour), Reason: "scholarship"}
	with := func(mod func(*application.GrantAccessInput)) application.GrantAccessInput {
		c := in
		mod(&c)
		return c
	}
	tests := []struct {
		name    string
		ctx     func(t *testing.T) context.Context
		in      application.GrantAccessInput
		setup   func(w *billingWorld)
		wantErr error
		opened  bool // a transaction ran (the person is looked up)
	}{
		{"a member may not", func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, in, nil, access.ErrForbidden, false},
		{"a support agent may not", func(t *testing.T) context.Context { return asAgent(t, "key_s", access.PresetSupport.Scopes()...) }, in, nil, access.ErrForbidden, false},
		{"an unknown tier", blAdmin, with(func(i *application.GrantAccessInput) { i.TierID = "gold" }), func(w *billingWorld) {
			w.tiers.EXPECT().GetTier(gomock.Any(), "gold").Return(ports.MembershipTier{}, ports.ErrNotFound)
		}, application.ErrNotFound, false},
		{"an unknown person", blAdmin, in, func(w *billingWorld) { w.updateErr = ports.ErrNotFound }, application.ErrNotFound, true},
		{"an end in the past", blAdmin, with(func(i *application.GrantAccessInput) { i.Until = blNow.Add(-time.Hour) }), nil, application.ErrInvalidInput, false},
		{"an end before the start", blAdmin, with(func(i *application.GrantAccessInput) {
			i.From = blNow.Add(48 * time.Hour)
			i.Until = blNow.Add(24 * time.Hour)
		}), nil, application.ErrInvalidInput, false},
		{"a scholarship without an end", blAdmin, with(func(i *application.GrantAccessInput) { i.Until = time.Time{} }), nil, application.ErrInvalidInput, false},
		{"no reason", blAdmin, with(func(i *application.GrantAccessInput) { i.Reason = "  " }), nil, application.ErrInvalidInput, false},
		{"a reason too long", blAdmin, with(func(i *application.GrantAccessInput) { i.Reason = strings.Repeat("é", ledger.MaxReason+1) }), nil, application.ErrInvalidInput, false},
		{"a subscription by hand", blAdmin, with(func(i *application.GrantAccessInput) { i.Source = ledger.SourceSubscription }), nil, application.ErrInvalidInput, false},
		{"no person", blAdmin, with(func(i *application.GrantAccessInput) { i.PersonID = "" }), nil, application.ErrInvalidInput, false},
		{"backdated: the ledger records when access was given", blAdmin, with(func(i *application.GrantAccessInput) { i.From = blNow.Add(-time.Hour) }), nil, application.ErrInvalidInput, false},
		{"an end beyond five years", blAdmin, with(func(i *application.GrantAccessInput) { i.Until = blNow.Add(application.MaxGrantLength + time.Hour) }), nil, application.ErrInvalidInput, false},
		{"a start beyond five years", blAdmin, with(func(i *application.GrantAccessInput) {
			i.From, i.Until = blNow.Add(application.MaxGrantLength+time.Hour), blNow.Add(application.MaxGrantLength+2*time.Hour)
		}), nil, application.ErrInvalidInput, false},
		{"a reason with a terminal escape", blAdmin, with(func(i *application.GrantAccessInput) { i.Reason = "evil\x1b[31mRED" }), nil, application.ErrInvalidInput, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newBillingWorld(t)
			if tt.setup != nil {
				tt.setup(w)
			}
			g, err := w.grantAccess().Handle(tt.ctx(t), tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(g, ledger.Grant{}) || len(w.book.of(blPerson)) != 0 {
				t.Errorf("grant %+v returned, ledger %v; want nothing stored", g, w.book.of(blPerson))
			}
			if (*w.aUoW.calls > 0) != tt.opened {
				t.Errorf("%d transactions, want one only when the person is looked up (%v)", *w.aUoW.calls, tt.opened)
			}
			w.nothingAnnounced()
		})
	}
}

func TestRevokeAccess(t *testing.T) {
	t.Parallel()
	until := blNow.Add(60 * 24 * time.Hour)
	// given: blPerson holds a scholarship (g1 or after the billing grants),
	// listed in the directory; paying adds a subscription.
	given := func(t *testing.T, w *billingWorld, paying bool) ledger.Grant {
		if paying {
			w.given(blPerson, blSnap(membership.ProviderActive, blNow.Add(-72*time.Hour)))
		} else if err := w.memberships.Update(context.Background(), blPerson, func(*membership.Membership) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := w.member(blPerson).SetVisible(true, true); err != nil {
			t.Fatal(err)
		}
		g := w.book.add(scholarship(t, blPerson, blTier, blNow.Add(-24*time.Hour), until))[0]
		w.book.setActive(blPerson, true)
		w.updated = nil
		return g
	}
	revoke := func(w *billingWorld, ctx context.Context, id, reason string) (ledger.Grant, error) {
		return w.revokeAccess().Handle(ctx, application.RevokeAccessInput{GrantID: id, Reason: reason})
	}

	t.Run("the only grant: access ends once, the member is hidden", func(t *testing.T) {
		t.Parallel()
		w := newBillingWorld(t)
		g := given(t, w, false)
		got, err := revoke(w, blAdmin(t), g.ID, "left the programme")
		if err != nil || !got.Until.Equal(blNow) || got.RevokedBy != "p9" || got.RevokeReason != "left the programme" {
			t.Fatalf("revoked = %+v, %v", got, err)
		}
		blEqual(t, "member.changed", w.memberChanged(), []ports.MemberChangedMessage{accessChanged(application.EventAccessEnded)})
		blEqual(t, "access audit", w.accessActions(), []string{"access.revoke", "access.ended"})
		if w.member(blPerson).Visible() || w.book.isActive(blPerson) {
			t.Error("access ended but the member is still listed or recorded active")
		}
		if _, err := revoke(w, blAdmin(t), g.ID, "again"); !errors.Is(err, application.ErrInvalidInput) {
			t.Fatalf("revoking an ended grant: %v, want invalid input", err)
		}
		blEqual(t, "access audit after the second revoke", w.accessActions(), []string{"access.revoke", "access.ended"})
	})
	t.Run("a scholarship holder who also pays keeps access", func(t *testing.T) {
		t.Parallel()
		w := newBillingWorld(t)
		g := given(t, w, true)
		if _, err := revoke(w, blAdmin(t), g.ID, "now pays"); err != nil {
			t.Fatal(err)
		}
		blEqual(t, "member.changed", w.memberChanged(), []ports.MemberChangedMessage(nil))
		blEqual(t, "access audit", w.accessActions(), []string{"access.revoke"})
		if !w.member(blPerson).Visible() || !w.book.isActive(blPerson) {
			t.Error("ending the scholarship ended the subscription's access")
		}
		if subs := ledger.Explain(w.book.of(blPerson), blNow).Sources; len(subs) != 1 || subs[0].Source != ledger.SourceSubscription {
			t.Errorf("current grants %+v, want the subscription alone", subs)
		}
	})
	t.Run("refusals change nothing", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			name    string
			ctx     func(t *testing.T) context.Context
			grant   func(w *billingWorld, scholarship ledger.Grant) string
			reason  string
			wantErr error
		}{
			{"a member may not", func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
				func(_ *billingWorld, g ledger.Grant) string { return g.ID }, "r", access.ErrForbidden},
			{"an unknown grant", blAdmin, func(*billingWorld, ledger.Grant) string { return "g404" }, "r", application.ErrNotFound},
			{"a subscription grant follows billing", blAdmin, func(w *billingWorld, _ ledger.Grant) string {
				return w.book.of(blPerson)[0].ID
			}, "r", application.ErrInvalidInput},
			{"no reason", blAdmin, func(_ *billingWorld, g ledger.Grant) string { return g.ID }, " ", application.ErrInvalidInput},
		} {
			w := newBillingWorld(t)
			g := given(t, w, true)
			before := w.book.of(blPerson)
			if _, err := revoke(w, tt.ctx(t), tt.grant(w, g), tt.reason); !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
			}
			blEqual(t, tt.name+": ledger", w.book.of(blPerson), before)
			w.nothingAnnounced()
		}
	})
}
