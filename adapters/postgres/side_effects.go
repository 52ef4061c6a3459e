package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/ports"
)

// SideEffects implements ports.SideEffects on the side_effects table, whose
// primary key makes each intent unique across attempts and replicas.
type SideEffects struct{ q Querier }

var _ ports.SideEffects = (*SideEffects)(nil)

// NewSideEffects returns the store on a pool or a transaction.
func NewSideEffects(q Querier) *SideEffects { return &SideEffects{q: q} }

// Intend inserts the intent of key, or reports false when the key exists.
// A concurrent transaction that inserted the same key and has not ended
// makes this one wait for its outcome, so exactly one of them gets true.
func (s *SideEffects) Intend(ctx context.Context, key, kind string) (bool, error) {
	if key == "" || kind == "" {
		return false, errors.New("postgres: intend side effect: empty key or kind")
	}
	tag, err := s.q.Exec(ctx, `INSERT INTO side_effects (key, kind) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, kind)
	if err != nil {
		return false, fmt.Errorf("postgres: intend side effect: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Sent marks the intent of key as a call the provider accepted.
func (s *SideEffects) Sent(ctx context.Context, key string) error {
	tag, err := s.q.Exec(ctx, `UPDATE side_effects SET status = 'sent', sent_at = now() WHERE key = $1`, key)
	if err != nil {
		return fmt.Errorf("postgres: side effect sent: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ports.ErrNotFound
	}
	return nil
}

// Release deletes the intent of key unless its call was recorded as sent.
func (s *SideEffects) Release(ctx context.Context, key string) error {
	if _, err := s.q.Exec(ctx, `DELETE FROM side_effects WHERE key = $1 AND status = 'intended'`, key); err != nil {
		return fmt.Errorf("postgres: release side effect: %w", err)
	}
	return nil
}
