package postgres_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/domain/chatstatus"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// chatMember inserts a person with verified emails, an active membership
// and a current grant of access.
func chatMember(t *testing.T, pool *pgxpool.Pool, visible, erased bool, emails ...string) string {
	t.Helper()
	var id string
	err := pool.QueryRow(t.Context(), `INSERT INTO people (emails, erased_at) VALUES ($1, CASE WHEN $2 THEN now() END) RETURNING id::text`,
		emails, erased).Scan(&id)
	if err == nil {
		_, err = pool.Exec(t.Context(), `INSERT INTO memberships (person_id, status, visible) VALUES ($1, 'active', $2)`, id, visible)
	}
	if err == nil {
		_, err = pool.Exec(t.Context(), `INSERT INTO access_grants (person_id, source, starts_at, granted_by, reason)
			VALUES ($1, 'subscription', now() - interval '1 hour', 'billing', 'test')`, id)
	}
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func chatUoW(t *testing.T, pool *pgxpool.Pool) ports.UnitOfWork[ports.ChatStatusTx] {
	t.Helper()
	s, err := postgres.Scope[ports.ChatStatusTx](testUoW(t, pool, "unused_outbox", nil))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestChatStatusMatchAndUnmatched(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := t.Context()
	store := postgres.NewChatStatusStore(pool)
	ada := chatMember(t, pool, true, false, "ada@example.org", "ada@work.example")
	bea := chatMember(t, pool, true, false, "bea@example.org")
	chatMember(t, pool, false, false, "hidden@example.org")
	chatMember(t, pool, true, true, "erased@example.org")
	lapsed := chatMember(t, pool, true, false, "lapsed@example.org") // listed, but their access ended
	if _, err := pool.Exec(ctx, `UPDATE access_grants SET ends_at = now() - interval '1 minute' WHERE person_id = $1`, lapsed); err != nil {
		t.Fatal(err)
	}

	got, err := store.MatchVisible(ctx, []string{"ada@work.example", "hidden@example.org", "erased@example.org", "lapsed@example.org", "nobody@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got["ada@work.example"]) != 1 || got["ada@work.example"][0] != ada {
		t.Fatalf("MatchVisible = %v, want only ada's work address", got)
	}

	uow := chatUoW(t, pool)
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	err = uow.Do(ctx, func(ctx context.Context, tx ports.ChatStatusTx) error {
		return tx.ChatStatuses().Update(ctx, "run-1", []string{ada}, func(links map[string]*chatstatus.Link, _ map[string]bool) error {
			_, err := links[ada].Observe(chatstatus.Sighting{Account: chatstatus.AccountActive, UserID: "U1"}, now)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for sync, want := range map[string]bool{"run-1": true, "run-2": false} {
		err := uow.Do(ctx, func(ctx context.Context, tx ports.ChatStatusTx) error {
			return tx.ChatStatuses().Update(ctx, sync, []string{ada}, func(_ map[string]*chatstatus.Link, written map[string]bool) error {
				if written[ada] != want {
					t.Errorf("Update(%s): written = %v, want ada %v", sync, written, want)
				}
				return errors.New("roll back")
			})
		})
		if err == nil {
			t.Fatal("the closure's error was lost")
		}
	}
	rest, err := store.Unmatched(ctx, "run-1", time.Time{}, "", 10)
	if err != nil || len(rest) != 1 || rest[0].PersonID != bea || rest[0].Emails[0] != "bea@example.org" {
		t.Fatalf("Unmatched(run-1) = %+v, %v; want bea only", rest, err)
	}
	// Another sync pages through both, the never-synced member first.
	var order []string
	for after := ""; ; {
		page, err := store.Unmatched(ctx, "run-2", time.Time{}, after, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		order, after = append(order, page[0].PersonID), page[0].Cursor
	}
	if len(order) != 2 || order[0] != bea || order[1] != ada {
		t.Errorf("Unmatched(run-2) pages = %v, want bea (never synced) then ada", order)
	}
	if _, err := store.Unmatched(ctx, "run-2", time.Time{}, "yesterday/"+ada, 1); err == nil {
		t.Error("a bad cursor was accepted")
	}
	links, err := store.Links(ctx, []string{ada, bea, "not-a-uuid"})
	if err != nil || len(links) != 1 || links[ada].Status != chatstatus.Active || links[ada].UserID != "U1" || !links[ada].SyncedAt.Equal(now) {
		t.Fatalf("Links = %+v, %v", links, err)
	}
}

// TestChatStatusSyncsKeepTheirMarks: a link written by several syncs in
// turn is known as written to each of the last four (the first run's own
// links stay its own when a second run overwrites them), and Unmatched
// leaves out a link written since the sync began, whoever wrote it.
func TestChatStatusSyncsKeepTheirMarks(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := t.Context()
	store := postgres.NewChatStatusStore(pool)
	ada := chatMember(t, pool, true, false, "ada@example.org")
	bea := chatMember(t, pool, true, false, "bea@example.org")
	uow := chatUoW(t, pool)
	began := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	write := func(sync string, at time.Time) map[string]bool {
		t.Helper()
		var seen map[string]bool
		err := uow.Do(ctx, func(ctx context.Context, tx ports.ChatStatusTx) error {
			return tx.ChatStatuses().Update(ctx, sync, []string{ada}, func(links map[string]*chatstatus.Link, written map[string]bool) error {
				seen = written
				_, err := links[ada].Observe(chatstatus.Sighting{Account: chatstatus.AccountActive, UserID: "U1"}, at)
				return err
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return seen
	}
	// A row from before marks were kept: one 'sync' key.
	write("old", began.Add(-time.Hour))
	if _, err := pool.Exec(ctx, `UPDATE integrations SET state = '{"sync":"old"}' WHERE person_id = $1`, ada); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		sync string
		want bool // the sync's mark is still on the link
	}{{"s1", false}, {"s2", false}, {"old", true}, {"s1", true}, {"s3", false}, {"s4", false}, {"s5", false}, {"s1", true}, {"old", false}}
	for i, step := range steps {
		sync, want := step.sync, step.want
		seen := write(sync, began.Add(time.Duration(i)*time.Minute))
		if seen[ada] != want {
			t.Errorf("write %d by %s: written = %v, want %v", i, sync, seen[ada], want)
		}
	}
	var marks string
	if err := pool.QueryRow(ctx, `SELECT state::text FROM integrations WHERE person_id = $1`, ada).Scan(&marks); err != nil {
		t.Fatal(err)
	}
	if marks != `{"syncs": ["old", "s1", "s5", "s4"]}` {
		t.Errorf("state = %s; want the four newest marks, newest first, and no old 'sync' key", marks)
	}
	for sync, want := range map[string][]string{"s4": {bea}, "s2": {bea}, "s9": {bea, ada}} {
		since := began
		if sync == "s9" {
			since = time.Time{}
		}
		rest, err := store.Unmatched(ctx, sync, since, "", 10)
		var got []string
		for _, m := range rest {
			got = append(got, m.PersonID)
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Unmatched(%s, since %v) = %v, %v; want %v", sync, since, got, err, want)
		}
	}
	if rest, err := store.Unmatched(ctx, "s9", began.Add(time.Hour), "", 10); err != nil || len(rest) != 2 {
		t.Errorf("Unmatched since after the last write = %+v, %v; want both members", rest, err)
	}
}

// TestChatStatusUpdateRaces: twenty updates of the same people at once
// leave one row per person, and only the first sees them new.
func TestChatStatusUpdateRaces(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := t.Context()
	ids := []string{chatMember(t, pool, true, false, "a@example.org"), chatMember(t, pool, true, false, "b@example.org")}
	uow := chatUoW(t, pool)
	var mu sync.Mutex
	changes := 0
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			err := uow.Do(ctx, func(ctx context.Context, tx ports.ChatStatusTx) error {
				return tx.ChatStatuses().Update(ctx, "run", []string{ids[1], ids[0]}, func(links map[string]*chatstatus.Link, _ map[string]bool) error {
					for _, l := range links {
						c, err := l.Observe(chatstatus.Sighting{Account: chatstatus.AccountMissing}, time.Now())
						if err != nil {
							return err
						}
						mu.Lock()
						changes += len(c)
						mu.Unlock()
					}
					return nil
				})
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM integrations WHERE provider = 'chat' AND status = 'not_found'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 2 || changes != 2 {
		t.Fatalf("rows %d, changes %d; want 2 and 2", rows, changes)
	}
	sum, err := postgres.NewChatStatusStore(pool).Summary(ctx)
	if err != nil || sum[chatstatus.NotFound] != 2 || len(sum) != 1 {
		t.Fatalf("Summary = %v, %v", sum, err)
	}
}

// TestChatStatusUpdateLeavesNothingUndecided: a link the closure does not
// decide is not stored, and a failing closure stores nothing.
func TestChatStatusUpdateLeavesNothingUndecided(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := t.Context()
	id := chatMember(t, pool, true, false, "a@example.org")
	uow := chatUoW(t, pool)
	boom := errors.New("boom")
	err := uow.Do(ctx, func(ctx context.Context, tx ports.ChatStatusTx) error {
		return tx.ChatStatuses().Update(ctx, "run", []string{id}, func(map[string]*chatstatus.Link, map[string]bool) error { return boom })
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the closure's error", err)
	}
	err = uow.Do(ctx, func(ctx context.Context, tx ports.ChatStatusTx) error {
		return tx.ChatStatuses().Update(ctx, "run", []string{id}, func(map[string]*chatstatus.Link, map[string]bool) error { return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM integrations WHERE provider = 'chat'`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("chat rows = %d, %v; want none", rows, err)
	}
	err = uow.Do(ctx, func(ctx context.Context, tx ports.ChatStatusTx) error {
		return tx.ChatStatuses().Update(ctx, "run", []string{"nope"}, func(map[string]*chatstatus.Link, map[string]bool) error { return nil })
	})
	if err == nil {
		t.Error("an id that is not a person id was accepted")
	}
	if _, err := pool.Exec(ctx, `INSERT INTO integrations (person_id, provider, status) VALUES ($1, 'chat', 'gone')`, id); err == nil {
		t.Error("the table accepted an unknown chat status")
	}
}
