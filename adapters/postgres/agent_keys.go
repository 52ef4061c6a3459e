package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/womendefiningai/platform/ports"
)

// AgentKeyStore implements ports.AgentKeys on agent_keys (migration 00025).
type AgentKeyStore struct{ q Querier }

var _ ports.AgentKeys = (*AgentKeyStore)(nil)

// NewAgentKeyStore returns the store on q (the pool or a transaction).
func NewAgentKeyStore(q Querier) *AgentKeyStore { return &AgentKeyStore{q: q} }

// AgentKeys is the agent key store in the transaction.
func (t *Tx) AgentKeys() ports.AgentKeys { return NewAgentKeyStore(txQuerier{t}) }

const agentKeyColumns = `prefix, secret_sha256, name, scopes, allow_mutations, rate_per_minute, expires_at,
	created_by, created_at, revoked_at, last_used_at`

func scanAgentKey(row pgx.Row) (ports.AgentKey, error) {
	var k ports.AgentKey
	err := row.Scan(&k.Prefix, &k.SecretHash, &k.Name, &k.Scopes, &k.AllowMutations, &k.RatePerMinute, &k.ExpiresAt,
		&k.CreatedBy, &k.CreatedAt, &k.RevokedAt, &k.LastUsedAt)
	return k, err
}

// Create inserts k; an active key with the same name is ErrAgentKeyNameTaken.
func (s *AgentKeyStore) Create(ctx context.Context, k ports.AgentKey) (ports.AgentKey, error) {
	out, err := scanAgentKey(s.q.QueryRow(ctx, `INSERT INTO agent_keys
			(prefix, secret_sha256, name, scopes, allow_mutations, rate_per_minute, expires_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+agentKeyColumns,
		k.Prefix, k.SecretHash, k.Name, k.Scopes, k.AllowMutations, k.RatePerMinute, k.ExpiresAt, k.CreatedBy))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "agent_keys_name_active_idx" {
		return ports.AgentKey{}, ports.ErrAgentKeyNameTaken
	}
	if err != nil {
		return ports.AgentKey{}, fmt.Errorf("postgres: create agent key: %w", err)
	}
	return out, nil
}

// Get returns the key with that prefix, revoked or not.
func (s *AgentKeyStore) Get(ctx context.Context, prefix string) (ports.AgentKey, error) {
	k, err := scanAgentKey(s.q.QueryRow(ctx, `SELECT `+agentKeyColumns+` FROM agent_keys WHERE prefix = $1`, prefix))
	if errors.Is(err, pgx.ErrNoRows) {
		return ports.AgentKey{}, ports.ErrNotFound
	}
	if err != nil {
		return ports.AgentKey{}, fmt.Errorf("postgres: get agent key: %w", err)
	}
	return k, nil
}

// List returns every key, newest first.
func (s *AgentKeyStore) List(ctx context.Context) ([]ports.AgentKey, error) {
	rows, err := s.q.Query(ctx, `SELECT `+agentKeyColumns+` FROM agent_keys ORDER BY created_at DESC, prefix`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list agent keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ports.AgentKey, error) { return scanAgentKey(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list agent keys: %w", err)
	}
	return out, nil
}

// Revoke marks an active key revoked.
func (s *AgentKeyStore) Revoke(ctx context.Context, prefix, by string) (ports.AgentKey, error) {
	k, err := scanAgentKey(s.q.QueryRow(ctx, `UPDATE agent_keys SET revoked_at = now(), revoked_by = $2
		WHERE prefix = $1 AND revoked_at IS NULL RETURNING `+agentKeyColumns, prefix, by))
	if errors.Is(err, pgx.ErrNoRows) {
		return ports.AgentKey{}, ports.ErrNotFound
	}
	if err != nil {
		return ports.AgentKey{}, fmt.Errorf("postgres: revoke agent key: %w", err)
	}
	return k, nil
}

// Touch moves last_used_at forward to at, in one statement for every key.
func (s *AgentKeyStore) Touch(ctx context.Context, prefixes []string, at time.Time) error {
	if len(prefixes) == 0 {
		return nil
	}
	_, err := s.q.Exec(ctx, `UPDATE agent_keys SET last_used_at = $2
		WHERE prefix = ANY($1) AND (last_used_at IS NULL OR last_used_at < $2)`, prefixes, at)
	if err != nil {
		return fmt.Errorf("postgres: touch agent keys: %w", err)
	}
	return nil
}
