package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

func identityUser(id, email string) ports.IdentityUser {
	return ports.IdentityUser{ID: id, PrimaryEmail: email, FirstName: "Ada", LastName: "Lovelace",
		Emails: []ports.IdentityEmail{{Address: email, Verified: true}, {Address: "unverified@example.test", Verified: false}}}
}

func TestUpsertFromIdentityRacingCreatesOnePerson(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	store := postgres.NewPeopleStore(pool)
	ctx := context.Background()
	var wg sync.WaitGroup
	created := make(chan bool, 20)
	for range 20 {
		wg.Go(func() {
			res, err := store.UpsertFromIdentity(ctx, identityUser("user_1", " Ada@Example.TEST "))
			if err != nil {
				t.Error(err)
				return
			}
			created <- res.Created
		})
	}
	wg.Wait()
	close(created)
	n := 0
	for c := range created {
		if c {
			n++
		}
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM people`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || n != 1 {
		t.Fatalf("people rows = %d, reported created = %d; want 1 and 1", rows, n)
	}
	p, err := store.GetByEmail(ctx, "ADA@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if p.PrimaryEmail != "ada@example.test" || len(p.Emails) != 1 || p.Role != access.RoleMember {
		t.Fatalf("person = %+v (unverified addresses must not be kept; default role member)", p)
	}
}

func TestUpsertFromIdentityReportsPrimaryEmailChange(t *testing.T) {
	t.Parallel()
	store := postgres.NewPeopleStore(testdb.New(t))
	ctx := context.Background()
	if _, err := store.UpsertFromIdentity(ctx, identityUser("user_2", "old@example.test")); err != nil {
		t.Fatal(err)
	}
	same, err := store.UpsertFromIdentity(ctx, identityUser("user_2", "old@example.test"))
	if err != nil || same.Created || same.PreviousPrimaryEmail != "" {
		t.Fatalf("unchanged upsert = %+v, %v", same, err)
	}
	moved, err := store.UpsertFromIdentity(ctx, identityUser("user_2", "new@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if moved.PreviousPrimaryEmail != "old@example.test" || moved.Person.PrimaryEmail != "new@example.test" {
		t.Fatalf("email change = %+v", moved)
	}
}

func TestCheckoutPersonIsLinkedOnFirstSignIn(t *testing.T) {
	t.Parallel()
	store := postgres.NewPeopleStore(testdb.New(t))
	ctx := context.Background()
	early, err := store.Create(ctx, "grace@example.test", "Grace", "Hopper")
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.UpsertFromIdentity(ctx, identityUser("user_3", "grace@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Person.ID != early.ID || res.Created {
		t.Fatalf("sign-in made %+v, want the checkout person %s linked", res, early.ID)
	}
}

func TestEraseKeepsAnAnonymisedRow(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	store := postgres.NewPeopleStore(pool)
	ctx := context.Background()
	res, err := store.UpsertFromIdentity(ctx, identityUser("user_4", "erase@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO billing_inbox (event_id, type, created, payload, source, client_reference_id, customer_email, customer_name)
		VALUES ('evt_e', 'checkout.session.completed', now(), '{"customer_details":{"email":"erase@example.test"}}', 'webhook', $1, 'erase@example.test', 'Ada')`, res.Person.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewIntegrationStore(pool).Put(ctx, ports.IntegrationState{PersonID: res.Person.ID, Provider: "mailchimp", ExternalID: "erase@example.test", Status: "subscribed", State: []byte(`{"email":"erase@example.test"}`)}); err != nil {
		t.Fatal(err)
	}
	before, err := store.Erase(ctx, "user_4")
	if err != nil || before.PrimaryEmail != "erase@example.test" {
		t.Fatalf("Erase = %+v, %v", before, err)
	}
	after, err := store.Get(ctx, res.Person.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Erased || after.PrimaryEmail != "" || len(after.Emails) != 0 || after.FirstName != "" || after.LastName != "" {
		t.Fatalf("after erase = %+v", after)
	}
	var leftovers int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM billing_inbox WHERE payload::text LIKE '%erase@%' OR customer_email <> '' OR customer_name <> '')
		+ (SELECT count(*) FROM integrations WHERE external_id <> '' OR state::text LIKE '%erase@%')`).Scan(&leftovers); err != nil || leftovers != 0 {
		t.Fatalf("personal data left in other tables: %d rows (%v)", leftovers, err)
	}
	if _, err := store.GetByEmail(ctx, "erase@example.test"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("erased email still found: %v", err)
	}
	// A late user.updated must not bring the data back.
	late, err := store.UpsertFromIdentity(ctx, identityUser("user_4", "erase@example.test"))
	if err != nil || late.Person.PrimaryEmail != "" {
		t.Fatalf("late update after erase = %+v, %v", late, err)
	}
	if _, err := store.Erase(ctx, "nobody"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("erase unknown = %v", err)
	}
}

func activate(t *testing.T, ms *postgres.MembershipStore, personID, subID string, at time.Time) {
	t.Helper()
	snap, err := membership.NewSnapshot(membership.SnapshotParams{
		SubscriptionID: subID, Status: membership.ProviderActive, Tier: mustTier(t, "community"),
		CurrentPeriodEnd: at.Add(30 * 24 * time.Hour), TakenAt: at,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ms.Update(context.Background(), personID, func(m *membership.Membership) error {
		_, err := m.ApplySnapshot(snap)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// grantAccess stores a manual grant of access for [from, until).
func grantAccess(t *testing.T, pool *pgxpool.Pool, personID string, from, until time.Time) {
	t.Helper()
	g, err := ledger.NewGrant(ledger.SourceManual, personID, "", from, until, "test", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewAccessStore(pool).Open(context.Background(), g); err != nil {
		t.Fatal(err)
	}
}

func mustTier(t *testing.T, s string) membership.Tier {
	t.Helper()
	tr, err := membership.NewTier(s)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestMembershipRoundTripAndVisibility(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	people, ms := postgres.NewPeopleStore(pool), postgres.NewMembershipStore(pool)
	ctx := context.Background()
	p, err := people.Create(ctx, "m@example.test", "M", "E")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ms.Get(ctx, p.ID); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("Get before any update = %v, want ErrNotFound", err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	activate(t, ms, p.ID, "sub_1", now)
	if err := ms.Update(ctx, p.ID, func(m *membership.Membership) error { return m.SetVisible(true, true) }); err != nil {
		t.Fatal(err)
	}
	m, err := ms.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status() != membership.StatusActive || !m.Visible() || m.Tier().String() != "community" || !m.CurrentPeriodEnd().Equal(now.Add(30*24*time.Hour)) {
		t.Fatalf("membership = %s visible=%v tier=%s end=%v", m.Status(), m.Visible(), m.Tier(), m.CurrentPeriodEnd())
	}
	if got, err := ms.PersonForSubscription(ctx, "sub_1"); err != nil || got != p.ID {
		t.Fatalf("PersonForSubscription = %q, %v", got, err)
	}
	if err := ms.Update(ctx, "00000000-0000-0000-0000-000000000000", func(*membership.Membership) error { return nil }); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("update for unknown person = %v", err)
	}
	// A rule error from fn saves nothing.
	if err := ms.Update(ctx, p.ID, func(m *membership.Membership) error {
		_ = m.SetVisible(false, true)
		return errors.New("rule broken")
	}); err == nil {
		t.Fatal("fn error was swallowed")
	}
	if m, _ := ms.Get(ctx, p.ID); !m.Visible() {
		t.Fatal("a failed update was saved")
	}
}

func TestDirectoryPagesVisibleMembersAndFiltersForAdmins(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	people, ms := postgres.NewPeopleStore(pool), postgres.NewMembershipStore(pool)
	ctx := context.Background()
	now := time.Now().UTC()
	var visible []string
	for i := range 7 {
		p, err := people.Create(ctx, fmt.Sprintf("p%d@example.test", i), "P", fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		if i < 5 {
			activate(t, ms, p.ID, fmt.Sprintf("sub_%d", i), now)
		}
		switch {
		case i < 3: // paying, with access, listed
			grantAccess(t, pool, p.ID, now.Add(-time.Hour), time.Time{})
			visible = append(visible, p.ID)
		case i == 3: // chose to be listed, but their access ended: not listed
			grantAccess(t, pool, p.ID, now.Add(-2*time.Hour), now.Add(-time.Hour))
		case i == 5: // a scholarship and no subscription: listed
			grantAccess(t, pool, p.ID, now.Add(-time.Hour), now.Add(time.Hour))
			visible = append(visible, p.ID)
		}
		if i < 4 || i == 5 {
			if err := ms.Update(ctx, p.ID, func(m *membership.Membership) error { return m.SetVisible(true, true) }); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := people.Directory(ctx, ports.DirectoryFilter{Limit: 3}); err == nil {
		t.Fatal("a listing without the instant of access was answered")
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		page, err := people.Directory(ctx, ports.DirectoryFilter{At: now, After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.People {
			got = append(got, p.ID)
		}
		if !page.HasMore {
			break
		}
		after = page.Cursors[len(page.Cursors)-1]
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(visible) {
		t.Fatalf("visible directory = %v, want %v", got, visible)
	}
	all, err := people.Directory(ctx, ports.DirectoryFilter{IncludeHidden: true, Limit: 50})
	if err != nil || len(all.People) != 7 {
		t.Fatalf("admin directory = %d people, %v", len(all.People), err)
	}
	active, err := people.Directory(ctx, ports.DirectoryFilter{IncludeHidden: true, Statuses: []membership.Status{membership.StatusActive}, Limit: 50})
	if err != nil || len(active.People) != 5 {
		t.Fatalf("active filter = %d people, %v", len(active.People), err)
	}
	if _, err := people.Directory(ctx, ports.DirectoryFilter{At: now, After: "not-a-cursor", Limit: 3}); !errors.Is(err, ports.ErrInvalidCursor) {
		t.Fatalf("bad cursor = %v", err)
	}
}

func TestWebhookInboxClaimsOnce(t *testing.T) {
	t.Parallel()
	inbox := postgres.NewWebhookInbox(testdb.New(t))
	ctx := context.Background()
	first, err := inbox.Claim(ctx, "clerk", "msg_1")
	if err != nil || !first {
		t.Fatalf("first claim = %v, %v", first, err)
	}
	again, err := inbox.Claim(ctx, "clerk", "msg_1")
	if err != nil || again {
		t.Fatalf("second claim = %v, %v", again, err)
	}
	other, err := inbox.Claim(ctx, "stripe", "msg_1")
	if err != nil || !other {
		t.Fatalf("same id from another source = %v, %v", other, err)
	}
}

func TestASubscriptionOfAnotherPersonIsRefused(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	people, ms := postgres.NewPeopleStore(pool), postgres.NewMembershipStore(pool)
	ctx := context.Background()
	a, _ := people.Create(ctx, "a@example.test", "A", "")
	b, _ := people.Create(ctx, "b@example.test", "B", "")
	activate(t, ms, a.ID, "sub_shared", time.Now())
	snap, _ := membership.NewSnapshot(membership.SnapshotParams{SubscriptionID: "sub_shared", Status: membership.ProviderActive,
		Tier: mustTier(t, "community"), CurrentPeriodEnd: time.Now().Add(time.Hour), TakenAt: time.Now()})
	err := ms.Update(ctx, b.ID, func(m *membership.Membership) error {
		_, err := m.ApplySnapshot(snap)
		return err
	})
	if err == nil {
		t.Fatal("applying another person's subscription succeeded silently")
	}
	if _, err := ms.Get(ctx, b.ID); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("the refused update left a membership for b: %v", err)
	}
}

func TestUnverifiedPrimaryEmailDoesNotTakeOverACheckoutPerson(t *testing.T) {
	t.Parallel()
	store := postgres.NewPeopleStore(testdb.New(t))
	ctx := context.Background()
	early, err := store.Create(ctx, "victim@example.test", "V", "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.UpsertFromIdentity(ctx, ports.IdentityUser{ID: "user_mallory", PrimaryEmail: "victim@example.test",
		Emails: []ports.IdentityEmail{{Address: "victim@example.test", Verified: false}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Person.ID == early.ID {
		t.Fatal("an unverified address linked the sign-in to the checkout person")
	}
}

func TestIntegrationPutIsCompareAndSet(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	people, store := postgres.NewPeopleStore(pool), postgres.NewIntegrationStore(pool)
	ctx := context.Background()
	p, _ := people.Create(ctx, "cas@example.test", "C", "")
	st := ports.IntegrationState{PersonID: p.ID, Provider: "mailchimp", Status: "subscribed", State: []byte(`{"n":1}`)}
	v1, err := store.Put(ctx, st)
	if err != nil || v1 != 1 {
		t.Fatalf("first put = %d, %v", v1, err)
	}
	if _, err := store.Put(ctx, st); !errors.Is(err, ports.ErrStaleState) {
		t.Fatalf("second insert = %v, want ErrStaleState", err)
	}
	st.Version = v1
	v2, err := store.Put(ctx, st)
	if err != nil || v2 != 2 {
		t.Fatalf("update on the version read = %d, %v", v2, err)
	}
	if _, err := store.Put(ctx, st); !errors.Is(err, ports.ErrStaleState) {
		t.Fatalf("update on an old version = %v, want ErrStaleState", err)
	}
	got, err := store.Get(ctx, p.ID, "mailchimp")
	if err != nil || got.Version != 2 {
		t.Fatalf("get = %+v, %v", got, err)
	}
}

// TestUnverifiedPrimaryEmailIsNeitherStoredNorMatched is the takeover of
// issue 11 at the store: Mallory signs up first with the admin's address as
// her unverified primary. The address is not kept, so a look-up by it (what
// `person set-role --email` does) finds nobody until the admin signs in
// with it verified, and then finds the admin alone.
func TestUnverifiedPrimaryEmailIsNeitherStoredNorMatched(t *testing.T) {
	t.Parallel()
	store := postgres.NewPeopleStore(testdb.New(t))
	ctx := context.Background()
	mallory, err := store.UpsertFromIdentity(ctx, ports.IdentityUser{ID: "user_mallory", PrimaryEmail: "Admin@Example.test",
		Emails: []ports.IdentityEmail{{Address: "admin@example.test", Verified: false}, {Address: "mallory@example.test", Verified: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if mallory.Person.PrimaryEmail != "" || len(mallory.Person.Emails) != 1 || mallory.Person.Emails[0] != "mallory@example.test" {
		t.Fatalf("stored primary %q, emails %q; want no primary and the verified address only", mallory.Person.PrimaryEmail, mallory.Person.Emails)
	}
	if p, err := store.GetByEmail(ctx, "admin@example.test"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("GetByEmail(admin) = %s, %v; want ErrNotFound", p.ID, err)
	}

	admin, err := store.UpsertFromIdentity(ctx, identityUser("user_admin", "admin@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.GetByEmail(ctx, " ADMIN@example.test")
	if err != nil || got.ID != admin.Person.ID {
		t.Fatalf("GetByEmail(admin) = %s, %v; want the admin %s", got.ID, err, admin.Person.ID)
	}

	// Mallory verifying another address of hers later changes nothing.
	again, err := store.UpsertFromIdentity(ctx, ports.IdentityUser{ID: "user_mallory", PrimaryEmail: "admin@example.test",
		Emails: []ports.IdentityEmail{{Address: "admin@example.test", Verified: false}, {Address: "mallory@example.test", Verified: true}}})
	if err != nil || again.Person.PrimaryEmail != "" || again.PreviousPrimaryEmail != "" {
		t.Fatalf("update = %+v, %v", again, err)
	}
}

func TestGetByEmailRefusesAnAddressTwoPeopleHold(t *testing.T) {
	t.Parallel()
	store := postgres.NewPeopleStore(testdb.New(t))
	ctx := context.Background()
	first, err := store.UpsertFromIdentity(ctx, identityUser("user_a", "shared@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := store.UpsertFromIdentity(ctx, identityUser("user_b", "shared@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.GetByEmail(ctx, "shared@example.test")
	if !errors.Is(err, ports.ErrAmbiguous) {
		t.Fatalf("GetByEmail = %v, want ErrAmbiguous", err)
	}
	for _, id := range []string{first.Person.ID, second.Person.ID} {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("error %q does not name %s", err, id)
		}
	}
	if strings.Contains(err.Error(), "shared@example.test") {
		t.Errorf("error %q quotes the address", err)
	}
}

func TestPrimaryEmailMustBeAVerifiedAddress(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	_, err := pool.Exec(context.Background(), `INSERT INTO people (primary_email, emails) VALUES ('a@example.test', ARRAY['b@example.test'])`)
	if err == nil || !strings.Contains(err.Error(), "people_primary_email_verified") {
		t.Fatalf("insert of a primary outside the verified addresses: %v, want the check to refuse it", err)
	}
}

func TestGetByIdentityIDFindsThePersonOrNobody(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	people := postgres.NewPeopleStore(pool)
	ctx := context.Background()
	res, err := people.UpsertFromIdentity(ctx, identityUser("user_st", "st@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := people.GetByIdentityID(ctx, "user_st", time.Now())
	if err != nil || got.ID != res.Person.ID || got.PrimaryEmail != "st@example.test" {
		t.Fatalf("the person: %+v, %v", got, err)
	}
	if _, err := people.GetByIdentityID(ctx, "user_nobody", time.Now()); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("unknown user: %v, want ErrNotFound", err)
	}
}

// TestMigrationClearsUnverifiedPrimaryEmails rolls the schema back to
// before 00013, stores what the old code stored (a primary that is not one
// of the verified addresses) beside a good row, and migrates up: the
// unverified primary is cleared, the verified one kept.
func TestMigrationClearsUnverifiedPrimaryEmails(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	m, err := postgres.NewMigrator(pool)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Close() }()
	for {
		v, err := m.Down(ctx)
		if err != nil {
			t.Fatalf("Down: %v", err)
		}
		if v <= 13 {
			break
		}
	}
	var claimed, good string
	if err := pool.QueryRow(ctx, `INSERT INTO people (identity_user_id, primary_email, emails) VALUES ('user_m', 'admin@example.test', ARRAY['m@example.test']) RETURNING id::text`).Scan(&claimed); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO people (identity_user_id, primary_email, emails) VALUES ('user_g', 'g@example.test', ARRAY['g@example.test']) RETURNING id::text`).Scan(&good); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("Up: %v", err)
	}
	store := postgres.NewPeopleStore(pool)
	if p, err := store.Get(ctx, claimed); err != nil || p.PrimaryEmail != "" || len(p.Emails) != 1 {
		t.Fatalf("claimed = %+v, %v; want the unverified primary cleared", p, err)
	}
	if p, err := store.Get(ctx, good); err != nil || p.PrimaryEmail != "g@example.test" {
		t.Fatalf("good = %+v, %v; want the verified primary kept", p, err)
	}
	if _, err := store.GetByEmail(ctx, "admin@example.test"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("GetByEmail(admin) = %v, want ErrNotFound", err)
	}
}
