package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/domain/agentkey"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// TestAgentKeyStoreKeepsOnlyTheHash: a key is stored by prefix with the
// hash of its secret; an active name is unique, revoking frees it; Touch
// only moves last_used_at forward.
func TestAgentKeyStoreKeepsOnlyTheHash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	s := postgres.NewAgentKeyStore(pool)
	key, err := agentkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	created, err := s.Create(ctx, ports.AgentKey{Prefix: key.ID, SecretHash: key.Hash(), Name: "finance bot",
		Scopes: []string{"members:read", "billing:read"}, RatePerMinute: 60, CreatedBy: "system:cli:test"})
	if err != nil {
		t.Fatal(err)
	}
	if created.CreatedAt.IsZero() || created.LastUsedAt != nil || created.RevokedAt != nil {
		t.Fatalf("created %+v", created)
	}
	got, err := s.Get(ctx, key.ID)
	if err != nil || !key.Matches(got.SecretHash) || got.Name != "finance bot" || len(got.Scopes) != 2 {
		t.Fatalf("get = %+v, %v", got, err)
	}
	var secretStored bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM agent_keys k WHERE k::text LIKE '%' || $1 || '%')`, key.Secret).Scan(&secretStored); err != nil || secretStored {
		t.Fatalf("the secret is in the row (%v)", err)
	}
	other, _ := agentkey.Generate()
	if _, err := s.Create(ctx, ports.AgentKey{Prefix: other.ID, SecretHash: other.Hash(), Name: "finance bot",
		Scopes: []string{"members:read"}, RatePerMinute: 60, CreatedBy: "x"}); !errors.Is(err, ports.ErrAgentKeyNameTaken) {
		t.Fatalf("second active key with the name: %v", err)
	}
	at := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.Touch(ctx, []string{key.ID}, at); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, []string{key.ID}, at.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, key.ID); got.LastUsedAt == nil || !got.LastUsedAt.Equal(at) {
		t.Fatalf("last used %v, want %v", got.LastUsedAt, at)
	}
	if _, err := s.Revoke(ctx, key.ID, "system:cli:test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoke(ctx, key.ID, "system:cli:test"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	if _, err := s.Create(ctx, ports.AgentKey{Prefix: other.ID, SecretHash: other.Hash(), Name: "finance bot",
		Scopes: []string{"members:read"}, RatePerMinute: 60, CreatedBy: "x"}); err != nil {
		t.Fatalf("the name of a revoked key is free again: %v", err)
	}
	if _, err := s.Get(ctx, "zzzzzzzz"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("unknown prefix: %v", err)
	}
	keys, err := s.List(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("list = %d keys, %v", len(keys), err)
	}
}
