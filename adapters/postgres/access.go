package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/domain/ledger"
	"github.com/womendefiningai/platform/ports"
)

// AccessStore implements ports.AccessGrants and ports.AccessReader over the
// access_grants table (the access ledger) and memberships.access_active.
type AccessStore struct{ q Querier }

var (
	_ ports.AccessGrants = (*AccessStore)(nil)
	_ ports.AccessReader = (*AccessStore)(nil)
	_ ports.AccessTx     = (*Tx)(nil)
)

// NewAccessStore returns a store on a pool or a transaction.
func NewAccessStore(q Querier) *AccessStore { return &AccessStore{q: q} }

// AccessGrants is the transaction's access ledger.
func (t *Tx) AccessGrants() ports.AccessGrants { return NewAccessStore(txQuerier{t}) }

const grantColumns = `id::text, person_id::text, source, tier, starts_at, ends_at, granted_by, reason,
	revoked_at, revoked_by, revoke_reason`

// AccessCurrentSQL is the ledger's rule (ledger.Grant.CurrentAt) for a grant
// g at the instant $at, for queries that must filter by access (the
// directory, the chat sync). TestAccessSQLAgreesWithTheLedger holds the two
// together.
func accessCurrentSQL(g, at string) string {
	return g + `.starts_at <= ` + at + ` AND (` + g + `.ends_at IS NULL OR ` + at + ` < ` + g + `.ends_at)`
}

// hasAccessSQL is true when person p has a current grant at the instant at.
func hasAccessSQL(p, at string) string {
	return `EXISTS (SELECT 1 FROM access_grants ag WHERE ag.person_id = ` + p + ` AND ` + accessCurrentSQL("ag", at) + `)`
}

func scanGrant(row pgx.Row) (ledger.Grant, error) {
	var g ledger.Grant
	var source string
	var until, revoked *time.Time
	err := row.Scan(&g.ID, &g.PersonID, &source, &g.Tier, &g.From, &until, &g.GrantedBy, &g.Reason,
		&revoked, &g.RevokedBy, &g.RevokeReason)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Grant{}, ports.ErrNotFound
	}
	if err != nil {
		return ledger.Grant{}, err
	}
	if g.Source, err = ledger.ParseSource(source); err != nil {
		return ledger.Grant{}, fmt.Errorf("postgres: grant %s: %w", g.ID, err)
	}
	if until != nil {
		g.Until = *until
	}
	if revoked != nil {
		g.RevokedAt = *revoked
	}
	return g, nil
}

// ForPerson returns the person's grants, oldest first.
func (s *AccessStore) ForPerson(ctx context.Context, personID string) ([]ledger.Grant, error) {
	out, err := s.GrantsOf(ctx, []string{personID})
	return out[personID], err
}

// GrantsOf returns the grants of each person, oldest first, in one query.
func (s *AccessStore) GrantsOf(ctx context.Context, personIDs []string) (map[string][]ledger.Grant, error) {
	out := map[string][]ledger.Grant{}
	ids := validUUIDs(personIDs)
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.q.Query(ctx, `SELECT `+grantColumns+` FROM access_grants
		WHERE person_id = ANY($1::uuid[]) ORDER BY person_id, starts_at, id`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: access grants: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: access grants: %w", err)
		}
		out[g.PersonID] = append(out[g.PersonID], g)
	}
	return out, rows.Err()
}

// Get returns one grant, or ErrNotFound (also for an id that is not a UUID).
func (s *AccessStore) Get(ctx context.Context, grantID string) (ledger.Grant, error) {
	if !isUUID(grantID) {
		return ledger.Grant{}, ports.ErrNotFound
	}
	g, err := scanGrant(s.q.QueryRow(ctx, `SELECT `+grantColumns+` FROM access_grants WHERE id = $1`, grantID))
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return ledger.Grant{}, fmt.Errorf("postgres: access grant: %w", err)
	}
	return g, err
}

// Open stores a new grant and returns it as stored; ErrNotFound when the
// person does not exist.
func (s *AccessStore) Open(ctx context.Context, g ledger.Grant) (ledger.Grant, error) {
	if !isUUID(g.PersonID) {
		return ledger.Grant{}, ports.ErrNotFound
	}
	row := s.q.QueryRow(ctx, `
		INSERT INTO access_grants (person_id, source, tier, starts_at, ends_at, granted_by, reason, revoked_at, revoked_by, revoke_reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+grantColumns,
		g.PersonID, g.Source.String(), g.Tier, g.From, nullTime(g.Until), g.GrantedBy, g.Reason,
		nullTime(g.RevokedAt), g.RevokedBy, g.RevokeReason)
	stored, err := scanGrant(row)
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) && pgErr.SQLState() == "23503" {
		return ledger.Grant{}, ports.ErrNotFound
	}
	if err != nil {
		return ledger.Grant{}, fmt.Errorf("postgres: open access grant: %w", err)
	}
	return stored, nil // as stored: its times at the database's microseconds
}

// Save writes the grant's end, tier and revocation.
func (s *AccessStore) Save(ctx context.Context, g ledger.Grant) error {
	if !isUUID(g.ID) {
		return ports.ErrNotFound
	}
	tag, err := s.q.Exec(ctx, `
		UPDATE access_grants SET ends_at = $2, tier = $3, revoked_at = $4, revoked_by = $5, revoke_reason = $6
		WHERE id = $1`, g.ID, nullTime(g.Until), g.Tier, nullTime(g.RevokedAt), g.RevokedBy, g.RevokeReason)
	if err != nil {
		return fmt.Errorf("postgres: save access grant: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return ports.ErrNotFound
	}
	return nil
}

// SetActive records the person's access on their membership row (which
// Memberships.Update created and locked) and returns the previous value.
func (s *AccessStore) SetActive(ctx context.Context, personID string, active bool) (bool, error) {
	if !isUUID(personID) {
		return false, ports.ErrNotFound
	}
	var was bool
	err := s.q.QueryRow(ctx, `
		UPDATE memberships m SET access_active = $2
		FROM (SELECT access_active FROM memberships WHERE person_id = $1) old
		WHERE m.person_id = $1 RETURNING old.access_active`, personID, active).Scan(&was)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ports.ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("postgres: record access: %w", err)
	}
	return was, nil
}
