package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
)

// asAdmin acts as an operator at the CLI would (members:write).
func (l *lifecycle) asAdmin() context.Context {
	p, err := access.NewSystem("cli:test-admin")
	if err != nil {
		l.t.Fatal(err)
	}
	return application.WithPrincipal(l.t.Context(), p)
}

// accessOf explains the person's access now, as the support agent sees it.
func (l *lifecycle) accessOf(personID string) application.AccessView {
	l.t.Helper()
	views, err := l.sys.app.Queries.GetAccess.Handle(l.asAdmin(), []string{personID})
	if err != nil {
		l.t.Fatal(err)
	}
	return views[personID]
}

func (l *lifecycle) audits(personID, action string) int {
	l.t.Helper()
	return l.count(`SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = $2`, personID, action)
}

// fastForward makes the scheduled messages of topic due now: the database's
// share of moving the clock (the test clock moves the service's).
func (l *lifecycle) fastForward(topic string) int {
	l.t.Helper()
	tag, err := l.pool.Exec(context.Background(), `UPDATE watermill_delayed SET deliver_at = now() WHERE metadata->>'target_topic' = $1 AND deliver_at > now()`, topic)
	if err != nil {
		l.t.Fatal(err)
	}
	return int(tag.RowsAffected())
}

// waitFor polls cond for up to 15 s.
func (l *lifecycle) waitFor(what string, cond func() bool) {
	l.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			l.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (l *lifecycle) accessActive(personID string) bool {
	return l.count(`SELECT count(*) FROM memberships WHERE person_id = $1 AND access_active`, personID) == 1
}

// TestScholarshipIsAMembershipThatNeverTouchesBilling: an admin grants a
// scholarship to someone who never paid. They have access like a paying
// member (tags at the email list, listed in the directory once they opt
// in), the billing stand-in receives no call, and the scholarship ends on
// its own at the stated time (a controllable clock), announced and audited
// once. A revocation ends another at once.
func TestScholarshipIsAMembershipThatNeverTouchesBilling(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, true)
	const email = "sofia@example.test"
	person := l.newPerson(email)
	stripeBefore := len(l.stripe.Requests())

	until := l.clock.Now().Add(time.Hour)
	g, err := l.sys.app.Commands.GrantAccess.Handle(l.asAdmin(), application.GrantAccessInput{
		PersonID: person, Source: ledger.SourceComplimentary, TierID: "community", Until: until, Reason: "community scholarship 2026"})
	if err != nil {
		t.Fatal(err)
	}
	l.waitIdle()
	a := l.accessOf(person)
	if !a.Active || !a.Until.Equal(g.Until) || len(a.Sources) != 1 || a.Sources[0].Source != ledger.SourceComplimentary ||
		a.Sources[0].GrantedBy != "cli:test-admin" || a.Sources[0].Reason != "community scholarship 2026" {
		t.Fatalf("access = %+v, want the scholarship until %s", a, until)
	}
	tags, err := l.tags(email)
	if err != nil || !tags["member"] || !tags["active"] || !tags["community"] || !tags["complimentary"] || tags["alumni"] {
		t.Fatalf("email list tags = %v (%v), want member, active, community, complimentary", tags, err)
	}
	if n := l.audits(person, "access.grant"); n != 1 {
		t.Errorf("access.grant audited %d times, want 1", n)
	}
	if n := l.audits(person, "access.started"); n != 1 {
		t.Errorf("access.started audited %d times, want 1", n)
	}

	// They can list themselves in the directory, like a paying member.
	ctx := application.WithPrincipal(l.t.Context(), mustUser(t, person, true))
	if v, err := l.sys.app.Commands.SetMyVisibility.Handle(ctx, true); err != nil || !v.Visible || !v.HasAccess {
		t.Fatalf("setMyVisibility(true) = %+v, %v", v, err)
	}
	page, err := l.sys.app.Queries.ListMembers.Handle(ctx, application.ListMembersInput{First: 10})
	if err != nil || len(page.Members) != 1 || page.Members[0].ID != person {
		t.Fatalf("directory = %+v, %v; want the scholarship holder", page.Members, err)
	}

	// The stated end: the service's clock passes it, and the scheduled
	// check becomes due for the database too.
	l.clock.Advance(time.Hour + time.Second)
	if l.accessOf(person).Active {
		t.Fatal("access continues past the scholarship's end")
	}
	if n := l.fastForward("access.check"); n < 1 {
		t.Fatal("no access check was scheduled for the scholarship's end")
	}
	l.waitFor("the end of access", func() bool { return !l.accessActive(person) })
	l.waitIdle()
	tags, _ = l.tags(email)
	if tags["member"] || tags["active"] || tags["complimentary"] || tags["community"] {
		t.Errorf("tags after the end = %v, want member, active, community and complimentary off", tags)
	}
	if n := l.audits(person, "access.ended"); n != 1 {
		t.Errorf("access.ended audited %d times, want 1", n)
	}
	if m := l.membership(person); m.Visible {
		t.Error("still listed after access ended")
	}
	// A second check (a redelivery) announces nothing more.
	if err := l.sys.app.Commands.CheckAccess.Handle(l.t.Context(), application.CheckAccessInput{PersonID: person}); err != nil {
		t.Fatal(err)
	}
	if n := l.audits(person, "access.ended"); n != 1 {
		t.Errorf("access.ended audited %d times after a second check, want 1", n)
	}

	// Another scholarship, revoked: access ends at once.
	g2, err := l.sys.app.Commands.GrantAccess.Handle(l.asAdmin(), application.GrantAccessInput{
		PersonID: person, Source: ledger.SourceComplimentary, Until: l.clock.Now().Add(30 * 24 * time.Hour), Reason: "renewed"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.sys.app.Commands.RevokeAccess.Handle(l.asAdmin(), application.RevokeAccessInput{GrantID: g2.ID, Reason: "left the programme"}); err != nil {
		t.Fatal(err)
	}
	l.waitIdle()
	if l.accessOf(person).Active || l.accessActive(person) {
		t.Fatal("a revoked scholarship still gives access")
	}
	if _, err := l.sys.app.Commands.RevokeAccess.Handle(l.asAdmin(), application.RevokeAccessInput{GrantID: g2.ID, Reason: "again"}); !errors.Is(err, application.ErrInvalidInput) {
		t.Errorf("revoking twice: %v, want ErrInvalidInput", err)
	}
	if n := len(l.stripe.Requests()) - stripeBefore; n != 0 {
		t.Fatalf("the billing stand-in received %d calls for scholarship operations, want 0: %+v", n, l.stripe.Requests()[stripeBefore:])
	}
	l.mc.AssertNoViolations(t)
}

// TestAScholarshipAndASubscriptionAreIndependent: a scholarship holder who
// pays holds both grants; ending the scholarship leaves the subscription's
// access untouched, announced nowhere.
func TestAScholarshipAndASubscriptionAreIndependent(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, true)
	const email = "noor@example.test"
	person := l.newPerson(email)
	g, err := l.sys.app.Commands.GrantAccess.Handle(l.asAdmin(), application.GrantAccessInput{
		PersonID: person, Source: ledger.SourceComplimentary, Until: l.clock.Now().Add(24 * time.Hour), Reason: "scholarship"})
	if err != nil {
		t.Fatal(err)
	}
	events, _ := signUp(l, person, email, "41")
	deliverShuffled(t, l, rand.New(rand.NewPCG(41, 42)), 2, events...)
	l.waitIdle()
	a := l.accessOf(person)
	if !a.Active || len(a.Sources) != 2 || !a.Until.IsZero() {
		t.Fatalf("access = %+v, want both grants, open-ended", a)
	}
	if _, err := l.sys.app.Commands.RevokeAccess.Handle(l.asAdmin(), application.RevokeAccessInput{GrantID: g.ID, Reason: "now paying"}); err != nil {
		t.Fatal(err)
	}
	l.waitIdle()
	a = l.accessOf(person)
	if !a.Active || len(a.Sources) != 1 || a.Sources[0].Source != ledger.SourceSubscription {
		t.Fatalf("after the revocation: %+v, want the subscription alone", a)
	}
	if n := l.audits(person, "access.ended"); n != 0 {
		t.Fatalf("access.ended audited %d times, want 0 (the subscription goes on)", n)
	}
	if n := l.audits(person, "access.started"); n != 1 {
		t.Fatalf("access.started audited %d times, want 1", n)
	}
}

// TestGraceKeepsAccessForTheWindowThenEndsIt: with a one-hour grace
// policy, a failed payment keeps access for the hour while Stripe still
// retries, ends it after (the controllable clock passes the window), and a
// recovered payment restores it. Each transition is audited once, however
// often Stripe delivers.
func TestGraceKeepsAccessForTheWindowThenEndsIt(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, true, map[string]string{"ACCESS_GRACE_PERIOD": "1h"})
	const email = "maya@example.test"
	person := l.newPerson(email)
	events, sub := signUp(l, person, email, "43")
	deliverShuffled(t, l, rand.New(rand.NewPCG(43, 44)), 2, events...)
	l.waitIdle()
	if !l.accessOf(person).Active {
		t.Fatal("no access after paying")
	}
	if _, err := l.pool.Exec(t.Context(), `UPDATE memberships SET visible = true WHERE person_id = $1`, person); err != nil {
		t.Fatal(err)
	}

	failedAt := l.clock.Now()
	sub.Status, sub.LatestInvoiceAttempt, sub.LatestInvoice = "past_due", 1, "in_43"
	failed := stripefake.InvoicePaymentFailedEvent(l.stripe.NewEventID(), time.Now(), stripefake.Invoice{
		ID: "in_43", Customer: sub.Customer, Subscription: sub.ID, AttemptCount: 1, NextPaymentAttempt: time.Now().Add(72 * time.Hour)})
	deliverShuffled(t, l, rand.New(rand.NewPCG(45, 46)), 3, l.stripe.ChangeSubscription("customer.subscription.updated", time.Now(), sub), failed)
	l.waitIdle()
	a := l.accessOf(person)
	if !a.Active || len(a.Sources) != 1 || a.Sources[0].Source != ledger.SourceGrace {
		t.Fatalf("after the failure: %+v, want access by the grace window", a)
	}
	if end := a.Until.Sub(failedAt); end < time.Hour-time.Minute || end > time.Hour+time.Minute {
		t.Fatalf("grace ends %s after the failure, want the configured hour", end)
	}
	if n := l.audits(person, "access.ended"); n != 0 {
		t.Fatal("access ended at the failure, inside the grace window")
	}

	// The window passes; Stripe still retries (the subscription stays
	// past_due), and access ends all the same.
	l.clock.Advance(time.Hour + time.Second)
	if n := l.fastForward("access.check"); n < 1 {
		t.Fatal("no access check was scheduled for the grace window's end")
	}
	l.waitFor("the end of grace", func() bool { return !l.accessActive(person) })
	l.waitIdle()
	if m := l.membership(person); m.Status != "past_due" || m.Visible {
		t.Fatalf("after grace: %+v, want past_due (Stripe still retrying) and hidden", m)
	}
	if n := l.audits(person, "access.ended"); n != 1 {
		t.Fatalf("access.ended audited %d times, want 1", n)
	}

	// The payment recovers: access is back.
	sub.Status, sub.LatestInvoiceAttempt = "active", 0
	deliverShuffled(t, l, rand.New(rand.NewPCG(47, 48)), 3, l.stripe.ChangeSubscription("customer.subscription.updated", time.Now(), sub))
	l.waitIdle()
	a = l.accessOf(person)
	if !a.Active || len(a.Sources) != 1 || a.Sources[0].Source != ledger.SourceSubscription {
		t.Fatalf("after recovery: %+v, want access by the subscription", a)
	}
	for action, want := range map[string]int{"access.started": 2, "access.ended": 1, "access.grant_opened": 3, "access.grant_closed": 1} {
		if n := l.audits(person, action); n != want {
			t.Errorf("%s audited %d times, want %d", action, n, want)
		}
	}
}

func mustUser(t *testing.T, id string, hasAccess bool) access.Principal {
	t.Helper()
	p, err := access.NewUser(id, access.RoleMember, hasAccess)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScholarshipOverGraphQL: through the real HTTP handler and Clerk
// sessions, an admin grants a scholarship; a member may not; the scholar
// reads me.access and now reads the directory; another member cannot see
// why the scholar has access; the admin revokes it.
func TestScholarshipOverGraphQL(t *testing.T) {
	t.Parallel()
	clerk, _, vars := withClerk(t)
	l := newLifecycle(t, true, vars)
	admin := l.newPerson("ruth@example.test")
	if _, err := l.pool.Exec(t.Context(), `UPDATE people SET role = 'admin' WHERE id = $1`, admin); err != nil {
		t.Fatal(err)
	}
	scholar := l.newPerson("amal@example.test")
	adminToken, scholarToken := clerk.MintToken("user_ruth"), clerk.MintToken("user_amal")
	stripeBefore := len(l.stripe.Requests())

	if _, dir := l.access(scholarToken); dir {
		t.Fatal("the directory is open before any grant")
	}
	grant := `mutation { grantComplimentaryMembership(personId: "` + scholar + `", tierId: "community", until: "` +
		time.Now().Add(90*24*time.Hour).UTC().Format(time.RFC3339) + `", reason: "scholarship") { id kind until grantedBy } }`
	if out := l.graphql(scholarToken, grant); out["errors"] == nil || !strings.Contains(fmt.Sprint(out["errors"]), "FORBIDDEN") {
		t.Fatalf("a member granted themselves a scholarship: %v", out)
	}
	out := l.graphql(adminToken, grant)
	g, _ := out["data"].(map[string]any)["grantComplimentaryMembership"].(map[string]any)
	if g == nil || g["kind"] != "COMPLIMENTARY" || g["grantedBy"] != admin {
		t.Fatalf("grant = %v", out)
	}
	l.waitIdle()
	if _, dir := l.access(scholarToken); !dir {
		t.Fatal("the scholar cannot read the directory")
	}
	me := l.graphql(scholarToken, `{ me { access { active until sources { kind reason grantedBy } } } }`)
	raw, _ := json.Marshal(me)
	if !strings.Contains(string(raw), `"active":true`) || !strings.Contains(string(raw), `"kind":"COMPLIMENTARY"`) ||
		!strings.Contains(string(raw), `"reason":"scholarship"`) || !strings.Contains(string(raw), `"grantedBy":"`+admin+`"`) {
		t.Fatalf("me.access = %s", raw)
	}
	other := l.graphql(adminToken, `{ member(id: "`+scholar+`") { access { active } } }`)
	if raw, _ := json.Marshal(other); !strings.Contains(string(raw), `"active":true`) {
		t.Fatalf("the admin's member(id).access = %s", raw)
	}
	revoke := `mutation { revokeComplimentaryMembership(grantId: "` + g["id"].(string) + `", reason: "ended early") { id until } }`
	if out := l.graphql(adminToken, revoke); out["errors"] != nil {
		t.Fatalf("revoke: %v", out)
	}
	l.waitIdle()
	if _, dir := l.access(scholarToken); dir {
		t.Fatal("the directory stays open after the revocation")
	}
	if n := len(l.stripe.Requests()) - stripeBefore; n != 0 {
		t.Fatalf("%d calls reached the billing stand-in, want 0", n)
	}
}

// TestEveryEdgeOfAWindowIsChecked: the scheduled checks hand on from one
// edge to the next even when an edge changes nothing. A scholarship
// extended by a second one ends (announced once) at the second's end; a
// scholarship that starts later starts (announced once) when it does.
func TestEveryEdgeOfAWindowIsChecked(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, true)
	extended, later := l.newPerson("ines@example.test"), l.newPerson("yara@example.test")
	now := l.clock.Now()
	for _, in := range []application.GrantAccessInput{
		{PersonID: extended, Source: ledger.SourceComplimentary, Until: now.Add(time.Hour), Reason: "first term"},
		{PersonID: extended, Source: ledger.SourceComplimentary, Until: now.Add(2 * time.Hour), Reason: "second term"},
		{PersonID: later, Source: ledger.SourceComplimentary, From: now.Add(time.Hour), Until: now.Add(2 * time.Hour), Reason: "from next term"},
	} {
		if _, err := l.sys.app.Commands.GrantAccess.Handle(l.asAdmin(), in); err != nil {
			t.Fatal(err)
		}
	}
	l.waitIdle()
	if !l.accessActive(extended) || l.accessActive(later) {
		t.Fatal("at the start: want the extended scholar in, the later one not yet")
	}

	// +1 h: the first term ends (the second carries on); the later one starts.
	l.clock.Advance(time.Hour + time.Second)
	if n := l.fastForward("access.check"); n < 1 {
		t.Fatal("no check was due at the first edge")
	}
	l.waitFor("the later scholarship to start", func() bool { return l.accessActive(later) })
	l.waitIdle()
	if !l.accessActive(extended) || l.audits(extended, "access.ended") != 0 {
		t.Fatal("the extended scholar lost access at the first term's end")
	}
	if n := l.audits(later, "access.started"); n != 1 {
		t.Fatalf("the later scholarship's start audited %d times, want 1", n)
	}

	// +2 h: both end, each announced once.
	l.clock.Advance(time.Hour)
	if n := l.fastForward("access.check"); n < 2 {
		t.Fatalf("%d checks due at the second edge, want one for each person", n)
	}
	l.waitFor("both to end", func() bool { return !l.accessActive(extended) && !l.accessActive(later) })
	l.waitIdle()
	for _, p := range []string{extended, later} {
		if n := l.audits(p, "access.ended"); n != 1 {
			t.Errorf("access.ended audited %d times for %s, want 1", n, p)
		}
	}
}
