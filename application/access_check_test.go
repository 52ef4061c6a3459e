package application_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// listed gives blPerson a pending membership (none stored yet) or keeps
// theirs, and lists them in the directory.
func (w *billingWorld) listed() {
	w.t.Helper()
	if err := w.memberships.Update(context.Background(), blPerson, func(m *membership.Membership) error { return m.SetVisible(true, true) }); err != nil {
		w.t.Fatal(err)
	}
	w.updated = nil
}

func TestCheckAccessEndsAnExpiredScholarshipOnce(t *testing.T) {
	t.Parallel()
	w := newBillingWorld(t)
	until := blNow.Add(-time.Minute)
	w.book.add(scholarship(t, blPerson, blTier, blNow.Add(-90*24*time.Hour), until))
	w.book.setActive(blPerson, true) // evaluated while it was current
	w.listed()
	check := w.checkAccess()
	for range 2 { // the second run (a redelivery) changes and announces nothing
		if err := check.Handle(context.Background(), application.CheckAccessInput{PersonID: blPerson}); err != nil {
			t.Fatal(err)
		}
	}
	blEqual(t, "member.changed", w.memberChanged(), []ports.MemberChangedMessage{accessChanged(application.EventAccessEnded)})
	blEqual(t, "access audit", w.accessActions(), []string{"access.ended"})
	if w.member(blPerson).Visible() || w.book.isActive(blPerson) {
		t.Error("access ended but the member is still listed or recorded active")
	}
	blEqual(t, "scheduled", w.accessScheduled, []blAccessScheduled(nil))
}

func TestCheckAccessOfNobodyOrNothing(t *testing.T) {
	t.Parallel()
	w := newBillingWorld(t)
	w.updateErr = ports.ErrNotFound // the person was erased
	if err := w.checkAccess().Handle(context.Background(), application.CheckAccessInput{PersonID: "gone"}); err != nil {
		t.Fatalf("unknown person: %v, want nil", err)
	}
	err := w.checkAccess().Handle(context.Background(), application.CheckAccessInput{})
	if !ports.IsPermanent(err) || !errors.Is(err, application.ErrInvalidInput) {
		t.Fatalf("no person: %v, want permanent invalid input", err)
	}
	w.nothingAnnounced()
}

func TestRemindAccessEnding(t *testing.T) {
	t.Parallel()
	until := blNow.Add(7 * 24 * time.Hour)
	remind := func(t *testing.T, mod func(w *billingWorld, g ledger.Grant) application.RemindAccessEndingInput) *billingWorld {
		t.Helper()
		w := newBillingWorld(t)
		g := w.book.add(scholarship(t, blPerson, blTier, blNow.Add(-30*24*time.Hour), until))[0]
		in := application.RemindAccessEndingInput{PersonID: blPerson, GrantID: g.ID, Until: until}
		if mod != nil {
			in = mod(w, g)
		}
		if err := w.remindAccess().Handle(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		return w
	}
	t.Run("the grant still ends then: one reminder", func(t *testing.T) {
		t.Parallel()
		w := remind(t, nil)
		blEqual(t, "member.changed", w.memberChanged(), []ports.MemberChangedMessage{accessChanged(application.EventAccessEnding)})
		blEqual(t, "access audit", w.accessActions(), []string{"access.reminder"})
	})
	for name, mod := range map[string]func(w *billingWorld, g ledger.Grant) application.RemindAccessEndingInput{
		"moved (extended) since: no reminder": func(_ *billingWorld, g ledger.Grant) application.RemindAccessEndingInput {
			return application.RemindAccessEndingInput{PersonID: blPerson, GrantID: g.ID, Until: until.Add(-24 * time.Hour)}
		},
		"revoked since: no reminder": func(w *billingWorld, g ledger.Grant) application.RemindAccessEndingInput {
			w.t.Helper()
			if _, err := w.revokeAccess().Handle(blAdmin(w.t), application.RevokeAccessInput{GrantID: g.ID, Reason: "left"}); err != nil {
				w.t.Fatal(err)
			}
			w.published, w.audits = nil, nil
			return application.RemindAccessEndingInput{PersonID: blPerson, GrantID: g.ID, Until: until}
		},
		"another person's grant: no reminder": func(_ *billingWorld, g ledger.Grant) application.RemindAccessEndingInput {
			return application.RemindAccessEndingInput{PersonID: "p2", GrantID: g.ID, Until: until}
		},
		"unknown grant: no reminder": func(*billingWorld, ledger.Grant) application.RemindAccessEndingInput {
			return application.RemindAccessEndingInput{PersonID: blPerson, GrantID: "g404", Until: until}
		},
		"the person also pays: access goes on, no reminder": func(w *billingWorld, g ledger.Grant) application.RemindAccessEndingInput {
			w.book.add(subscriptionGrant(blPerson, blTier, blNow.Add(-24*time.Hour)))
			return application.RemindAccessEndingInput{PersonID: blPerson, GrantID: g.ID, Until: until}
		},
		"a later scholarship follows on: no reminder": func(w *billingWorld, g ledger.Grant) application.RemindAccessEndingInput {
			w.t.Helper()
			w.book.add(scholarship(w.t, blPerson, blTier, until.Add(-time.Hour), until.Add(90*24*time.Hour)))
			return application.RemindAccessEndingInput{PersonID: blPerson, GrantID: g.ID, Until: until}
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := remind(t, mod)
			blEqual(t, "member.changed", w.memberChanged(), []ports.MemberChangedMessage(nil))
			blEqual(t, "access audit", w.accessActions(), []string(nil))
		})
	}
	t.Run("a message without a grant is malformed", func(t *testing.T) {
		t.Parallel()
		w := newBillingWorld(t)
		err := w.remindAccess().Handle(context.Background(), application.RemindAccessEndingInput{PersonID: blPerson})
		if !ports.IsPermanent(err) || !errors.Is(err, application.ErrInvalidInput) {
			t.Fatalf("err = %v, want permanent invalid input", err)
		}
	})
}

func TestGetAccessExplainsOwnAlwaysOthersWithPII(t *testing.T) {
	t.Parallel()
	book := newLedgerBook()
	sub := book.add(subscriptionGrant("p1", blTier, blNow.Add(-24*time.Hour)))[0]
	sch := book.add(scholarship(t, "p1", blTier, blNow.Add(-time.Hour), blNow.Add(24*time.Hour)))[0]
	book.add(scholarship(t, "p2", blTier, blNow.Add(-48*time.Hour), blNow.Add(-24*time.Hour))) // over
	h, err := application.NewGetAccess(book.readerMock(gomock.NewController(t)), fixedClock{blNow})
	if err != nil {
		t.Fatal(err)
	}
	p1 := application.AccessView{Active: true, Sources: []ledger.Grant{sub, sch}} // open-ended: the subscription
	p2 := application.AccessView{}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		want map[string]application.AccessView
	}{
		{"a member sees only their own", asUser(t, "p1", access.RoleMember), map[string]application.AccessView{"p1": p1}},
		{"a member without access still sees their own", asMember(t, "p2", false), map[string]application.AccessView{"p2": p2}},
		{"support (members:read:pii) sees anyone's", asAgent(t, "key_s", access.PresetSupport.Scopes()...), map[string]application.AccessView{"p1": p1, "p2": p2}},
		{"finance does not", asAgent(t, "key_f", access.PresetFinance.Scopes()...), map[string]application.AccessView{}},
		{"an admin does", asUser(t, "p9", access.RoleAdmin), map[string]application.AccessView{"p1": p1, "p2": p2}},
	} {
		got, err := h.Handle(tt.ctx, []string{"p1", "p2"})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		blEqual(t, tt.name, got, tt.want)
	}
	book.err = errors.New("db down")
	if _, err := h.Handle(asUser(t, "p9", access.RoleAdmin), []string{"p1"}); !errors.Is(err, book.err) {
		t.Fatalf("ledger failure: %v", err)
	}
	if _, err := application.NewGetAccess(nil, fixedClock{blNow}); err == nil {
		t.Error("NewGetAccess(nil) succeeded")
	}
}
