package postgres

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/approval"
	"github.com/womendefiningai/platform/ports"
)

// PeopleStore implements ports.People.
type PeopleStore struct{ q Querier }

var _ ports.People = (*PeopleStore)(nil)

// NewPeopleStore returns a store on a pool or a transaction.
func NewPeopleStore(q Querier) *PeopleStore { return &PeopleStore{q: q} }

// directoryColumns is personColumns for the people table aliased as p.
const directoryColumns = `p.id::text, coalesce(p.identity_user_id, ''), coalesce(p.primary_email, ''), p.emails,
	p.first_name, p.last_name, p.role, coalesce(p.billing_customer_id, ''), p.created_at, p.erased_at IS NOT NULL`

const personColumns = `id::text, coalesce(identity_user_id, ''), coalesce(primary_email, ''), emails,
	first_name, last_name, role, coalesce(billing_customer_id, ''), created_at, erased_at IS NOT NULL`

// scanPerson scans personColumns, then extra columns into extra.
func scanPerson(row pgx.Row, extra ...any) (ports.Person, error) {
	var p ports.Person
	var role string
	err := row.Scan(append([]any{&p.ID, &p.IdentityUserID, &p.PrimaryEmail, &p.Emails, &p.FirstName, &p.LastName, &role, &p.BillingCustomerID, &p.CreatedAt, &p.Erased}, extra...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return ports.Person{}, ports.ErrNotFound
	}
	if err != nil {
		return ports.Person{}, err
	}
	if p.Role, err = access.ParseRole(role); err != nil {
		return ports.Person{}, err
	}
	return p, nil
}

func (s *PeopleStore) one(ctx context.Context, what, where string, args ...any) (ports.Person, error) {
	p, err := scanPerson(s.q.QueryRow(ctx, `SELECT `+personColumns+` FROM people WHERE `+where, args...))
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return p, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return p, err
}

// Get returns the person with id; a malformed id is not found.
func (s *PeopleStore) Get(ctx context.Context, id string) (ports.Person, error) {
	if !isUUID(id) {
		return ports.Person{}, ports.ErrNotFound
	}
	return s.one(ctx, "get person", "id = $1", id)
}

// GetMany returns the people with the given ids that exist, in one query.
func (s *PeopleStore) GetMany(ctx context.Context, ids []string) (map[string]ports.Person, error) {
	valid := validUUIDs(ids)
	rows, err := s.q.Query(ctx, `SELECT `+personColumns+` FROM people WHERE id = ANY($1::uuid[])`, valid)
	if err != nil {
		return nil, fmt.Errorf("postgres: get people: %w", err)
	}
	defer rows.Close()
	out := make(map[string]ports.Person, len(valid))
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: get people: %w", err)
		}
		out[p.ID] = p
	}
	return out, rows.Err()
}

// signInSQL is GetByIdentityID's statement, built once: it runs on every
// signed-in request.
var signInSQL = `SELECT ` + directoryColumns + `, ` + hasAccessSQL("p.id", "$2") + `, ` + summaryColumns + `
	FROM people p LEFT JOIN memberships m ON m.person_id = p.id
	WHERE p.identity_user_id = $1`

// GetByIdentityID finds the person linked to an identity-provider user,
// with the summary of their membership and whether they have access at the
// instant at, in one statement (it runs on every signed-in request).
func (s *PeopleStore) GetByIdentityID(ctx context.Context, identityUserID string, at time.Time) (ports.SignedInPerson, error) {
	// The person, their membership's summary (the memberships row keeps it
	// at every save: TestSignInReadsTheSummaryEverySaveRecords), and
	// whether a grant is current (the ledger's rule, in SQL:
	// TestAccessSQLAgreesWithTheLedger): a signed-in read needs nothing
	// else from the database, and not the subscriptions behind it.
	var out ports.SignedInPerson
	var ms summaryScan
	p, err := scanPerson(s.q.QueryRow(ctx, signInSQL, identityUserID, at), append([]any{&out.HasAccess}, ms.dest()...)...)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.SignedInPerson{}, err
	}
	if err == nil {
		out.Membership, err = ms.summary()
	}
	if err != nil {
		return ports.SignedInPerson{}, fmt.Errorf("postgres: get person by identity: %w", err)
	}
	out.Person, out.MembershipRead = p, true
	return out, nil
}

// maxEmailMatches bounds how many people an ambiguous address lists.
const maxEmailMatches = 10

// GetByEmail matches the verified addresses only (the primary is one of
// them, the table's check says so). An address that more than one person
// holds gives ErrAmbiguous with their ids, oldest first: picking one would
// hand that person's records, or a role, to whoever claimed it.
func (s *PeopleStore) GetByEmail(ctx context.Context, email string) (ports.Person, error) {
	e := approval.NormalizeEmail(email)
	if e == "" {
		return ports.Person{}, ports.ErrNotFound
	}
	rows, err := s.q.Query(ctx, `SELECT `+personColumns+` FROM people WHERE erased_at IS NULL AND emails @> ARRAY[$1]
		ORDER BY created_at, id LIMIT $2`, e, maxEmailMatches)
	if err != nil {
		return ports.Person{}, fmt.Errorf("postgres: get person by email: %w", err)
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ports.Person, error) { return scanPerson(r) })
	if err != nil {
		return ports.Person{}, fmt.Errorf("postgres: get person by email: %w", err)
	}
	switch len(found) {
	case 0:
		return ports.Person{}, ports.ErrNotFound
	case 1:
		return found[0], nil
	}
	ids := make([]string, 0, len(found))
	for _, p := range found {
		ids = append(ids, p.ID)
	}
	return ports.Person{}, fmt.Errorf("%w: %d people hold this address: %s", ports.ErrAmbiguous, len(found), strings.Join(ids, ", "))
}

// GetByBillingCustomer finds the person linked to a billing customer.
func (s *PeopleStore) GetByBillingCustomer(ctx context.Context, customerID string) (ports.Person, error) {
	return s.one(ctx, "get person by customer", "billing_customer_id = $1", customerID)
}

// UpsertFromIdentity creates or updates the person for u. The insert uses
// ON CONFLICT on the unique identity id, so racing first requests for one
// user create one person. A person created earlier from a checkout with the
// same primary email (and no identity yet) is linked rather than duplicated.
func (s *PeopleStore) UpsertFromIdentity(ctx context.Context, u ports.IdentityUser) (ports.IdentityUpsert, error) {
	if strings.TrimSpace(u.ID) == "" {
		return ports.IdentityUpsert{}, errors.New("postgres: upsert person: empty identity user id")
	}
	primary, emails := identityEmails(u)
	var out ports.IdentityUpsert
	err := pgx.BeginFunc(ctx, s.q, func(tx pgx.Tx) error {
		before, err := scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+` FROM people WHERE identity_user_id = $1 FOR UPDATE`, u.ID))
		switch {
		case errors.Is(err, ports.ErrNotFound):
			// Link a person made from a checkout before the first sign-in,
			// through the verified primary address.
			if primary != "" {
				linked, err := scanPerson(tx.QueryRow(ctx, `
					UPDATE people SET identity_user_id = $1, emails = $3, first_name = $4, last_name = $5, updated_at = now()
					WHERE id = (SELECT id FROM people WHERE identity_user_id IS NULL AND erased_at IS NULL AND primary_email = $2
					            ORDER BY created_at LIMIT 1 FOR UPDATE)
					RETURNING `+personColumns, u.ID, primary, emails, u.FirstName, u.LastName))
				if err == nil {
					out = ports.IdentityUpsert{Person: linked}
					return nil
				}
				if !errors.Is(err, ports.ErrNotFound) {
					return err
				}
			}
			created, err := scanPerson(tx.QueryRow(ctx, `
				INSERT INTO people (identity_user_id, primary_email, emails, first_name, last_name)
				VALUES ($1, nullif($2, ''), $3, $4, $5)
				ON CONFLICT (identity_user_id) DO NOTHING
				RETURNING `+personColumns, u.ID, primary, emails, u.FirstName, u.LastName))
			if errors.Is(err, ports.ErrNotFound) { // a racing request created it
				p, err := scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+` FROM people WHERE identity_user_id = $1`, u.ID))
				out = ports.IdentityUpsert{Person: p}
				return err
			}
			out = ports.IdentityUpsert{Person: created, Created: err == nil}
			return err
		case err != nil:
			return err
		}
		if before.Erased {
			out = ports.IdentityUpsert{Person: before}
			return nil // an erased person is not brought back by a late update
		}
		after, err := scanPerson(tx.QueryRow(ctx, `
			UPDATE people SET primary_email = nullif($2, ''), emails = $3, first_name = $4, last_name = $5, updated_at = now()
			WHERE identity_user_id = $1 RETURNING `+personColumns, u.ID, primary, emails, u.FirstName, u.LastName))
		if err != nil {
			return err
		}
		out = ports.IdentityUpsert{Person: after}
		if before.PrimaryEmail != after.PrimaryEmail {
			out.PreviousPrimaryEmail = before.PrimaryEmail
		}
		return nil
	})
	if err != nil {
		return ports.IdentityUpsert{}, fmt.Errorf("postgres: upsert person: %w", err)
	}
	return out, nil
}

// Create makes a person who has not signed in yet.
func (s *PeopleStore) Create(ctx context.Context, email, firstName, lastName string) (ports.Person, error) {
	e := approval.NormalizeEmail(email)
	if e == "" {
		return ports.Person{}, errors.New("postgres: create person: empty email")
	}
	p, err := scanPerson(s.q.QueryRow(ctx, `
		INSERT INTO people (primary_email, emails, first_name, last_name) VALUES ($1, ARRAY[$1], $2, $3)
		RETURNING `+personColumns, e, firstName, lastName))
	if err != nil {
		return ports.Person{}, fmt.Errorf("postgres: create person: %w", err)
	}
	return p, nil
}

// UpdateProfile changes the person's name.
func (s *PeopleStore) UpdateProfile(ctx context.Context, id string, pr ports.PersonProfile) (ports.Person, error) {
	if !isUUID(id) {
		return ports.Person{}, ports.ErrNotFound
	}
	p, err := scanPerson(s.q.QueryRow(ctx, `UPDATE people SET first_name = $2, last_name = $3, updated_at = now()
		WHERE id = $1 AND erased_at IS NULL RETURNING `+personColumns, id, pr.FirstName, pr.LastName))
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return p, fmt.Errorf("postgres: update profile: %w", err)
	}
	return p, err
}

// SetRole changes the person's role.
func (s *PeopleStore) SetRole(ctx context.Context, id string, role access.Role) (ports.Person, error) {
	if !isUUID(id) {
		return ports.Person{}, ports.ErrNotFound
	}
	p, err := scanPerson(s.q.QueryRow(ctx, `UPDATE people SET role = $2, updated_at = now() WHERE id = $1 AND erased_at IS NULL RETURNING `+personColumns, id, role.String()))
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return p, fmt.Errorf("postgres: set role: %w", err)
	}
	return p, err
}

// SetBillingCustomer links the person to a billing customer.
func (s *PeopleStore) SetBillingCustomer(ctx context.Context, id, customerID string) error {
	tag, err := s.q.Exec(ctx, `UPDATE people SET billing_customer_id = $2, updated_at = now() WHERE id = $1::uuid`, id, customerID)
	if err != nil {
		return fmt.Errorf("postgres: set billing customer: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ports.ErrNotFound
	}
	return nil
}

// Erase clears the person's personal data and returns it as it was.
func (s *PeopleStore) Erase(ctx context.Context, identityUserID string) (ports.Person, error) {
	var before ports.Person
	unknown := false
	err := pgx.BeginFunc(ctx, s.q, func(tx pgx.Tx) error {
		var err error
		before, err = scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+` FROM people WHERE identity_user_id = $1 FOR UPDATE`, identityUserID))
		if errors.Is(err, ports.ErrNotFound) {
			if _, err := tx.Exec(ctx, `INSERT INTO people (identity_user_id, erased_at) VALUES ($1, now()) ON CONFLICT DO NOTHING`, identityUserID); err != nil {
				return err
			}
			unknown = true // commit the placeholder; report not found below
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE people SET primary_email = NULL, emails = '{}', first_name = '', last_name = '',
			       erased_at = coalesce(erased_at, now()), updated_at = now()
			WHERE id = $1`, before.ID)
		if err != nil {
			return err
		}
		batch := &pgx.Batch{}
		batch.Queue(`UPDATE memberships SET visible = false WHERE person_id = $1`, before.ID)
		// What other tables keep of the person: checkout details in stored
		// billing events, the synced email list state, and the email of an
		// undecided guest registration.
		batch.Queue(`UPDATE billing_inbox SET customer_email = '', customer_name = '', payload = '{}'::jsonb, payload_raw = NULL
			WHERE client_reference_id = $1 OR (customer_id <> '' AND customer_id = $2)`, before.ID, before.BillingCustomerID)
		batch.Queue(`UPDATE integrations SET external_id = '', state = '{}'::jsonb, version = version + 1 WHERE person_id = $1`, before.ID)
		queueDeadLetterRedaction(batch, before)
		if err := queueGuestInboxScrub(ctx, tx, batch, before); err != nil {
			return err
		}
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return before, fmt.Errorf("postgres: erase person: %w", err)
	}
	if unknown {
		return ports.Person{}, ports.ErrNotFound
	}
	return before, nil
}

// Directory lists people in creation order with their memberships' status
// and visibility as the filter says, one page at a time: without
// IncludeHidden, the visible people with access at f.At.
func (s *PeopleStore) Directory(ctx context.Context, f ports.DirectoryFilter) (ports.DirectoryPage, error) {
	if f.Limit < 1 {
		return ports.DirectoryPage{}, errors.New("postgres: directory: limit must be positive")
	}
	after, afterID, err := decodeCursor(f.After)
	if err != nil {
		return ports.DirectoryPage{}, err
	}
	if !f.IncludeHidden && f.At.IsZero() {
		return ports.DirectoryPage{}, errors.New("postgres: directory: the listing needs the instant whose access decides it")
	}
	statuses := make([]string, 0, len(f.Statuses))
	for _, st := range f.Statuses {
		statuses = append(statuses, st.String())
	}
	rows, err := s.q.Query(ctx, `
		SELECT `+directoryColumns+`
		FROM people p LEFT JOIN memberships m ON m.person_id = p.id
		WHERE p.erased_at IS NULL
		  AND ($1 OR (coalesce(m.visible, false) AND `+hasAccessSQL("p.id", "$6::timestamptz")+`))
		  AND (cardinality($2::text[]) = 0 OR m.status = ANY($2))
		  AND ($3::timestamptz IS NULL OR (p.created_at, p.id) > ($3, $4::uuid))
		ORDER BY p.created_at, p.id
		LIMIT $5`, f.IncludeHidden, statuses, after, afterID, f.Limit+1, nullTime(f.At))
	if err != nil {
		return ports.DirectoryPage{}, fmt.Errorf("postgres: directory: %w", err)
	}
	defer rows.Close()
	var page ports.DirectoryPage
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return ports.DirectoryPage{}, fmt.Errorf("postgres: directory: %w", err)
		}
		if len(page.People) == f.Limit {
			page.HasMore = true
			break
		}
		page.People = append(page.People, p)
		page.Cursors = append(page.Cursors, encodeCursor(p.CreatedAt, p.ID))
	}
	return page, rows.Err()
}

func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(c string) (*time.Time, *string, error) {
	if c == "" {
		return nil, nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, nil, ports.ErrInvalidCursor
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	at, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil || !isUUID(id) {
		return nil, nil, ports.ErrInvalidCursor
	}
	return &at, &id, nil
}

// identityEmails returns u's verified addresses, normalised, and its
// primary when that is one of them ("" otherwise): an address the user has
// not proven is never stored, matched or shown.
func identityEmails(u ports.IdentityUser) (primary string, verified []string) {
	verified = []string{}
	for _, e := range u.Emails {
		if n := approval.NormalizeEmail(e.Address); n != "" && e.Verified && !slices.Contains(verified, n) {
			verified = append(verified, n)
		}
	}
	if p := approval.NormalizeEmail(u.PrimaryEmail); slices.Contains(verified, p) {
		primary = p
	}
	return primary, verified
}

// isUUID accepts the canonical 36-character form only: anything else is
// not an id this store made (and would make PostgreSQL's cast fail).
func isUUID(s string) bool { return len(s) == 36 && uuid.Validate(s) == nil }
