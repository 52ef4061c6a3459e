package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/testdb"
)

func TestMigratorDownReportsBehindThenUpRestoresHead(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	m, err := postgres.NewMigrator(pool)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Close() }()

	if err := m.CheckAtHead(ctx); err != nil {
		t.Fatalf("fresh test database not at head: %v", err)
	}
	_, head, err := m.Versions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	down, err := m.Down(ctx)
	if err != nil {
		t.Fatalf("Down: %v", err)
	}
	if down != head {
		t.Fatalf("Down rolled back %d, want head %d", down, head)
	}
	var behind *postgres.SchemaBehindError
	if err := m.CheckAtHead(ctx); !errors.As(err, &behind) {
		t.Fatalf("CheckAtHead after down = %v, want SchemaBehindError", err)
	}
	if behind.Head != head || behind.Current >= head {
		t.Fatalf("SchemaBehindError = %+v, head %d", behind, head)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last := st[len(st)-1]; last.Applied || last.Version != head {
		t.Fatalf("status of head = %+v, want pending", last)
	}
	applied, err := m.Up(ctx)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	if len(applied) != 1 || applied[0] != head {
		t.Fatalf("Up applied %v, want [%d]", applied, head)
	}
	if err := m.CheckAtHead(ctx); err != nil {
		t.Fatalf("after Up: %v", err)
	}
}

func TestEveryMigrationRollsBackCleanly(t *testing.T) {
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
		if v == 0 {
			break
		}
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("Up from empty: %v", err)
	}
	if err := m.CheckAtHead(ctx); err != nil {
		t.Fatal(err)
	}
}
