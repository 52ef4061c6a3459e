package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// MembershipStore implements ports.Memberships: one memberships row per
// person (with derived columns for queries) and one membership_subscriptions
// row per billing subscription.
type MembershipStore struct{ q Querier }

var _ ports.Memberships = (*MembershipStore)(nil)

// NewMembershipStore returns a store on a pool or a transaction.
func NewMembershipStore(q Querier) *MembershipStore { return &MembershipStore{q: q} }

// Get rebuilds the person's membership, or returns ErrNotFound.
func (s *MembershipStore) Get(ctx context.Context, personID string) (*membership.Membership, error) {
	ms, err := s.GetMany(ctx, []string{personID})
	if err != nil {
		return nil, err
	}
	m, ok := ms[personID]
	if !ok {
		return nil, ports.ErrNotFound
	}
	return m, nil
}

// GetMany rebuilds the memberships of the given people in two queries;
// people without one are absent from the map.
func (s *MembershipStore) GetMany(ctx context.Context, personIDs []string) (map[string]*membership.Membership, error) {
	return loadMemberships(ctx, s.q, personIDs, false)
}

// Update locks the person's membership row (creating a pending one), lets
// fn change the entity, and saves it when fn returns nil. Run it in a
// transaction (ports.Tx.Memberships) for the lock to mean anything; on a
// pool it opens its own.
func (s *MembershipStore) Update(ctx context.Context, personID string, fn func(*membership.Membership) error) error {
	if !isUUID(personID) {
		return ports.ErrNotFound
	}
	err := pgx.BeginFunc(ctx, s.q, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO memberships (person_id) VALUES ($1) ON CONFLICT DO NOTHING`, personID); err != nil {
			return err
		}
		ms, err := loadMemberships(ctx, tx, []string{personID}, true)
		if err != nil {
			return err
		}
		m, ok := ms[personID]
		if !ok {
			return ports.ErrNotFound
		}
		if err := fn(m); err != nil {
			return err
		}
		return saveMembership(ctx, tx, m)
	})
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) && pgErr.SQLState() == "23503" { // no such person
		return ports.ErrNotFound
	}
	return err
}

// PersonForSubscription returns the person a subscription was applied to.
func (s *MembershipStore) PersonForSubscription(ctx context.Context, subscriptionID string) (string, error) {
	var id string
	err := s.q.QueryRow(ctx, `SELECT person_id::text FROM membership_subscriptions WHERE subscription_id = $1`, subscriptionID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ports.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("postgres: person for subscription: %w", err)
	}
	return id, nil
}

func loadMemberships(ctx context.Context, q Querier, personIDs []string, forUpdate bool) (map[string]*membership.Membership, error) {
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE OF m" // the membership row, as before: its subscriptions change only under it
	}
	// One statement for a membership and its subscriptions (one round trip
	// on every signed-in read): a membership without any has one row of
	// NULL subscription columns.
	rows, err := q.Query(ctx, `SELECT `+membershipJoinColumns+`
		FROM memberships m LEFT JOIN membership_subscriptions s ON s.person_id = m.person_id
		WHERE m.person_id = ANY($1::uuid[])`+lock, validUUIDs(personIDs))
	if err != nil {
		return nil, fmt.Errorf("postgres: load memberships: %w", err)
	}
	defer rows.Close()
	records := membershipRecords{}
	for rows.Next() {
		var sc membershipScan
		if err := rows.Scan(sc.dest()...); err != nil {
			return nil, fmt.Errorf("postgres: load memberships: %w", err)
		}
		if err := records.add(&sc); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: load memberships: %w", err)
	}
	return records.build()
}

// parseStanding reads a stored status and tier (empty: no tier), of a
// subscription or of a membership's summary.
func parseStanding(status, tier string) (membership.Status, membership.Tier, error) {
	st, err := membership.ParseStatus(status)
	if err != nil || tier == "" {
		return st, membership.Tier{}, err
	}
	t, err := membership.NewTier(tier)
	return st, t, err
}

// summaryColumns are a membership's summary (membership.Summary) as the
// memberships row (m) records it at every save, as summaryScan reads them;
// all NULL for a person without a membership.
const summaryColumns = `m.status, coalesce(m.tier, ''), coalesce(m.cancel_at_period_end, false), m.current_period_end,
	coalesce(m.visible, false), coalesce(m.alumni, false)`

// summaryScan holds one row of summaryColumns.
type summaryScan struct {
	status    *string // NULL: no membership
	tier      string
	periodEnd *time.Time
	s         membership.Summary
}

func (sc *summaryScan) dest() []any {
	return []any{&sc.status, &sc.tier, &sc.s.CancelAtPeriodEnd, &sc.periodEnd, &sc.s.Visible, &sc.s.Alumni}
}

// summary is the summary read, nil when there is no membership.
func (sc *summaryScan) summary() (*membership.Summary, error) {
	if sc.status == nil {
		return nil, nil
	}
	out := sc.s
	var err error
	if out.Status, out.Tier, err = parseStanding(*sc.status, sc.tier); err != nil {
		return nil, err
	}
	if sc.periodEnd != nil {
		out.CurrentPeriodEnd = *sc.periodEnd
	}
	return &out, nil
}

// membershipJoinColumns are the columns of a membership (m) joined to one
// of its subscriptions (s), as membershipScan reads them. Every column may
// be NULL (a person without a membership, a membership without a
// subscription).
const membershipJoinColumns = `m.person_id::text, coalesce(m.visible, false), coalesce(m.ever_active, false),
	s.subscription_id, coalesce(s.status, ''), coalesce(s.tier, ''), coalesce(s.cancel_at_period_end, false),
	s.current_period_end, coalesce(s.payment_attempt, 0), s.snapshot_at`

// membershipScan holds one row of membershipJoinColumns.
type membershipScan struct {
	personID, subID   *string
	r                 membership.Record
	st                membership.SubscriptionState
	status, tier      string
	periodEnd, snapAt *time.Time
}

func (sc *membershipScan) dest() []any {
	return []any{&sc.personID, &sc.r.Visible, &sc.r.EverActive, &sc.subID, &sc.status, &sc.tier,
		&sc.st.CancelAtPeriodEnd, &sc.periodEnd, &sc.st.PaymentAttempt, &sc.snapAt}
}

// membershipRecords gathers the rows of membershipJoinColumns by person.
type membershipRecords map[string]*membership.Record

// add takes one row: its membership (the first row of a person makes it)
// and its subscription, if any.
func (recs membershipRecords) add(sc *membershipScan) error {
	if sc.personID == nil {
		return nil // no membership
	}
	r := recs[*sc.personID]
	if r == nil {
		sc.r.PersonID = *sc.personID
		r = &sc.r
		recs[*sc.personID] = r
	}
	if sc.subID == nil {
		return nil
	}
	st := sc.st
	st.ID = *sc.subID
	var err error
	if st.Status, st.Tier, err = parseStanding(sc.status, sc.tier); err != nil {
		return fmt.Errorf("postgres: subscription %s: %w", st.ID, err)
	}
	if sc.periodEnd != nil {
		st.CurrentPeriodEnd = *sc.periodEnd
	}
	if sc.snapAt != nil {
		st.SnapshotAt = *sc.snapAt
	}
	r.Subscriptions = append(r.Subscriptions, st)
	return nil
}

func (recs membershipRecords) build() (map[string]*membership.Membership, error) {
	out := make(map[string]*membership.Membership, len(recs))
	for id, r := range recs {
		m, err := membership.FromStore(*r)
		if err != nil {
			return nil, fmt.Errorf("postgres: rebuild membership: %w", err)
		}
		out[id] = m
	}
	return out, nil
}

func saveMembership(ctx context.Context, tx pgx.Tx, m *membership.Membership) error {
	batch := &pgx.Batch{}
	batch.Queue(`
		UPDATE memberships SET status = $2, tier = $3, cancel_at_period_end = $4, current_period_end = $5,
		       visible = $6, ever_active = $7, alumni = $8, subscription_id = $9, updated_at = now()
		WHERE person_id = $1`,
		m.PersonID(), m.Status().String(), m.Tier().String(), m.CancelAtPeriodEnd(), nullTime(m.CurrentPeriodEnd()),
		m.Visible(), m.EverActive(), m.Alumni(), m.SubscriptionID())
	subs := m.Subscriptions()
	for _, st := range subs {
		batch.Queue(`
			INSERT INTO membership_subscriptions (subscription_id, person_id, status, tier, cancel_at_period_end, current_period_end, payment_attempt, snapshot_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (subscription_id) DO UPDATE SET status = $3, tier = $4, cancel_at_period_end = $5,
			       current_period_end = $6, payment_attempt = $7, snapshot_at = $8
			WHERE membership_subscriptions.person_id = $2`,
			st.ID, m.PersonID(), st.Status.String(), st.Tier.String(), st.CancelAtPeriodEnd, nullTime(st.CurrentPeriodEnd), st.PaymentAttempt, st.SnapshotAt)
	}
	results := tx.SendBatch(ctx, batch)
	defer func() { _ = results.Close() }()
	for i := range batch.Len() {
		tag, err := results.Exec()
		if err != nil {
			return fmt.Errorf("postgres: save membership: %w", err)
		}
		if tag.RowsAffected() != 1 {
			if i == 0 {
				return fmt.Errorf("postgres: save membership: no membership row for person %s", m.PersonID())
			}
			return fmt.Errorf("postgres: save membership: subscription %s belongs to another person", subs[i-1].ID)
		}
	}
	return results.Close()
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func validUUIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if isUUID(id) {
			out = append(out, id)
		}
	}
	return out
}
