package postgres_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

func TestAccessStoreKeepsEveryField(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	p, err := postgres.NewPeopleStore(pool).UpsertFromIdentity(ctx, identityUser("user_access", "access@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.NewAccessStore(pool)
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	g, err := ledger.NewGrant(ledger.SourceComplimentary, p.Person.ID, "community", from, from.AddDate(0, 6, 0), "admin-1", "scholarship")
	if err != nil {
		t.Fatal(err)
	}
	opened, err := store.Open(ctx, g)
	if err != nil || opened.ID == "" {
		t.Fatalf("Open = %+v, %v", opened, err)
	}
	revoked, err := opened.Revoke(from.AddDate(0, 1, 0), "admin-2", "moved away")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(ctx, opened.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != ledger.SourceComplimentary || got.Tier != "community" || !got.From.Equal(from) || !got.Until.Equal(revoked.Until) ||
		got.GrantedBy != "admin-1" || got.Reason != "scholarship" || !got.RevokedAt.Equal(revoked.RevokedAt) ||
		got.RevokedBy != "admin-2" || got.RevokeReason != "moved away" || got.PersonID != p.Person.ID {
		t.Fatalf("stored grant = %+v, want %+v", got, revoked)
	}
	all, err := store.ForPerson(ctx, p.Person.ID)
	if err != nil || len(all) != 1 || all[0].ID != opened.ID {
		t.Fatalf("ForPerson = %+v, %v", all, err)
	}

	for name, err := range map[string]error{
		"get: not a uuid": func() error { _, err := store.Get(ctx, "nope"); return err }(),
		"get: unknown":    func() error { _, err := store.Get(ctx, "00000000-0000-4000-8000-000000000000"); return err }(),
		"save: unknown":   store.Save(ctx, ledger.Grant{ID: "00000000-0000-4000-8000-000000000000"}),
		"open: no person": func() error {
			g := g
			g.PersonID = "00000000-0000-4000-8000-000000000000"
			_, err := store.Open(ctx, g)
			return err
		}(),
		"set: no membership": func() error { _, err := store.SetActive(ctx, p.Person.ID, true); return err }(),
	} {
		if !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO memberships (person_id) VALUES ($1)`, p.Person.ID); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, false, true} {
		was, err := store.SetActive(ctx, p.Person.ID, i > 0)
		if err != nil || was != want {
			t.Fatalf("SetActive #%d = %v, %v; want was %v", i, was, err, want)
		}
	}
}

// TestAccessSQLAgreesWithTheLedger: the sign-in read, the directory and
// the chat sync filter by access in SQL; that filter must say what
// ledger.Explain says for any grants at any instant, the edges of every
// window included.
func TestAccessSQLAgreesWithTheLedger(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	people := postgres.NewPeopleStore(pool)
	p, err := people.UpsertFromIdentity(ctx, identityUser("user_sql", "sql@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.NewAccessStore(pool)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	var grants []ledger.Grant
	for range 12 {
		from := base.Add(time.Duration(rng.IntN(400)) * time.Hour)
		until := from.Add(time.Duration(1+rng.IntN(100)) * time.Hour)
		src := ledger.SourceComplimentary
		if rng.IntN(4) == 0 {
			src, until = ledger.SourceManual, time.Time{}
		}
		g, err := ledger.NewGrant(src, p.Person.ID, "", from, until, "admin", "test")
		if err != nil {
			t.Fatal(err)
		}
		if g, err = store.Open(ctx, g); err != nil {
			t.Fatal(err)
		}
		grants = append(grants, g)
		// Probe every edge, and random instants, after each grant.
		probes := []time.Time{from, from.Add(-time.Microsecond), until, until.Add(-time.Microsecond)}
		for range 20 {
			probes = append(probes, base.Add(time.Duration(rng.IntN(600*60))*time.Minute))
		}
		for _, at := range probes {
			var sqlSays bool
			if err := pool.QueryRow(ctx, `SELECT `+postgres.HasAccessSQL("$1::uuid", "$2::timestamptz"), p.Person.ID, at).Scan(&sqlSays); err != nil {
				t.Fatal(err)
			}
			if want := ledger.Explain(grants, at).Active; sqlSays != want {
				t.Fatalf("at %s the SQL says %v, the ledger %v; grants %+v", at, sqlSays, want, grants)
			}
			// The sign-in read, which decides a session's scopes, says the same.
			if signedIn, err := people.GetByIdentityID(ctx, "user_sql", at); err != nil || signedIn.HasAccess != sqlSays {
				t.Fatalf("at %s the sign-in read says %v (%v), the ledger %v", at, signedIn.HasAccess, err, sqlSays)
			}
		}
	}
}
