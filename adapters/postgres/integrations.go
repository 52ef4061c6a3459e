package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

// IntegrationStore implements ports.Integrations.
type IntegrationStore struct{ q Querier }

var _ ports.Integrations = (*IntegrationStore)(nil)

// NewIntegrationStore returns a store on a pool or a transaction.
func NewIntegrationStore(q Querier) *IntegrationStore { return &IntegrationStore{q: q} }

const integrationColumns = `person_id::text, provider, external_id, status, state, note, synced_at, version`

func scanIntegration(row pgx.Row) (ports.IntegrationState, error) {
	var s ports.IntegrationState
	err := row.Scan(&s.PersonID, &s.Provider, &s.ExternalID, &s.Status, &s.State, &s.Note, &s.SyncedAt, &s.Version)
	return s, err
}

// Get returns the state, or ErrNotFound.
func (s *IntegrationStore) Get(ctx context.Context, personID, provider string) (ports.IntegrationState, error) {
	if !isUUID(personID) {
		return ports.IntegrationState{}, ports.ErrNotFound
	}
	st, err := scanIntegration(s.q.QueryRow(ctx, `SELECT `+integrationColumns+` FROM integrations WHERE person_id = $1 AND provider = $2`, personID, provider))
	if errors.Is(err, pgx.ErrNoRows) {
		return st, ports.ErrNotFound
	}
	if err != nil {
		return st, fmt.Errorf("postgres: get integration: %w", err)
	}
	return st, nil
}

// GetMany returns the provider's states of the given people, in one query.
func (s *IntegrationStore) GetMany(ctx context.Context, provider string, personIDs []string) (map[string]ports.IntegrationState, error) {
	if len(personIDs) == 0 {
		return map[string]ports.IntegrationState{}, nil
	}
	rows, err := s.q.Query(ctx, `SELECT `+integrationColumns+` FROM integrations WHERE provider = $1 AND person_id = ANY($2::uuid[])`, provider, personIDs)
	if err != nil {
		return nil, fmt.Errorf("postgres: list integrations: %w", err)
	}
	defer rows.Close()
	out := map[string]ports.IntegrationState{}
	for rows.Next() {
		st, err := scanIntegration(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list integrations: %w", err)
		}
		out[st.PersonID] = st
	}
	return out, rows.Err()
}

// Put stores the state if nobody changed it since it was read (compare and
// set on the version), stamping synced_at.
func (s *IntegrationStore) Put(ctx context.Context, st ports.IntegrationState) (int64, error) {
	state := st.State
	if len(state) == 0 {
		state = []byte("{}")
	}
	var version int64
	var err error
	if st.Version == 0 {
		err = s.q.QueryRow(ctx, `
			INSERT INTO integrations (person_id, provider, external_id, status, state, note, synced_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, now(), 1)
			ON CONFLICT (person_id, provider) DO NOTHING RETURNING version`,
			st.PersonID, st.Provider, st.ExternalID, st.Status, state, st.Note).Scan(&version)
	} else {
		err = s.q.QueryRow(ctx, `
			UPDATE integrations SET external_id = $3, status = $4, state = $5, note = $6, synced_at = now(), version = version + 1
			WHERE person_id = $1 AND provider = $2 AND version = $7 RETURNING version`,
			st.PersonID, st.Provider, st.ExternalID, st.Status, state, st.Note, st.Version).Scan(&version)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ports.ErrStaleState
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: put integration: %w", err)
	}
	return version, nil
}
