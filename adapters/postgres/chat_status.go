package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/womendefiningai/platform/domain/chatstatus"
	"github.com/womendefiningai/platform/ports"
)

// chatProvider is the integrations row's provider for chat links.
const chatProvider = "chat"

// ChatStatusStore implements ports.ChatStatuses on the integrations table
// (provider 'chat'), reading people and memberships for the matches.
type ChatStatusStore struct{ q Querier }

var (
	_ ports.ChatStatuses                   = (*ChatStatusStore)(nil)
	_ ports.UnitOfWork[ports.ChatStatusTx] = scoped[ports.ChatStatusTx]{}
	_ ports.ChatStatusTx                   = (*Tx)(nil)
)

// NewChatStatusStore returns a store on a pool or a transaction.
func NewChatStatusStore(q Querier) *ChatStatusStore { return &ChatStatusStore{q: q} }

// ChatStatuses is the transaction's chat link store.
func (t *Tx) ChatStatuses() ports.ChatStatuses { return NewChatStatusStore(txQuerier{t}) }

// MatchVisible answers in one statement, by the GIN index on emails:
// visible members with access now (the access ledger's rule in SQL).
func (s *ChatStatusStore) MatchVisible(ctx context.Context, emails []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(emails) == 0 {
		return out, nil
	}
	rows, err := s.q.Query(ctx, `
		SELECT e, p.id::text
		FROM people p JOIN memberships m ON m.person_id = p.id AND m.visible AND `+hasAccessSQL("p.id", "statement_timestamp()")+`
		CROSS JOIN LATERAL unnest(p.emails) AS e
		WHERE p.erased_at IS NULL AND p.emails && $1::text[] AND e = ANY($1::text[])
		ORDER BY p.id`, emails)
	if err != nil {
		return nil, fmt.Errorf("postgres: match chat emails: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var email, id string
		if err := rows.Scan(&email, &id); err != nil {
			return nil, fmt.Errorf("postgres: match chat emails: %w", err)
		}
		out[email] = append(out[email], id)
	}
	return out, rows.Err()
}

// Unmatched pages by (last sync time, person id): members never synced
// first, so that look-ups cut short by their budget reach everyone over
// successive runs. The cursor is "<synced_at, RFC 3339, or "-">/<person id>".
// A link written since the sync began is left out whoever wrote it: a run
// racing this one decided it, and a link it moved moved past the cursor.
func (s *ChatStatusStore) Unmatched(ctx context.Context, sync string, since time.Time, after string, limit int) ([]ports.ChatMember, error) {
	afterAt, afterID, err := parseUnmatchedCursor(after)
	if err != nil {
		return nil, err
	}
	var began *time.Time
	if !since.IsZero() {
		began = &since
	}
	rows, err := s.q.Query(ctx, `
		SELECT p.id::text, p.emails, i.synced_at
		FROM people p JOIN memberships m ON m.person_id = p.id AND m.visible AND `+hasAccessSQL("p.id", "statement_timestamp()")+`
		LEFT JOIN integrations i ON i.person_id = p.id AND i.provider = $4
		WHERE p.erased_at IS NULL AND NOT coalesce(`+syncWrote+`, false)
		AND ($6::timestamptz IS NULL OR i.synced_at IS NULL OR i.synced_at < $6)
		AND ($5::uuid IS NULL OR (coalesce(i.synced_at, '-infinity'), p.id) > (coalesce($2::timestamptz, '-infinity'), $5::uuid))
		ORDER BY coalesce(i.synced_at, '-infinity'), p.id LIMIT $3`, sync, afterAt, limit, chatProvider, afterID, began)
	if err != nil {
		return nil, fmt.Errorf("postgres: unmatched chat members: %w", err)
	}
	defer rows.Close()
	var out []ports.ChatMember
	for rows.Next() {
		var m ports.ChatMember
		var at *time.Time
		if err := rows.Scan(&m.PersonID, &m.Emails, &at); err != nil {
			return nil, fmt.Errorf("postgres: unmatched chat members: %w", err)
		}
		stamp := "-"
		if at != nil {
			stamp = at.UTC().Format(time.RFC3339Nano)
		}
		m.Cursor = stamp + "/" + m.PersonID
		out = append(out, m)
	}
	return out, rows.Err()
}

// parseUnmatchedCursor reads Unmatched's cursor: nil, nil for "".
func parseUnmatchedCursor(after string) (*time.Time, *string, error) {
	if after == "" {
		return nil, nil, nil
	}
	stamp, id, ok := strings.Cut(after, "/")
	if !ok || !isUUID(id) {
		return nil, nil, fmt.Errorf("postgres: unmatched chat members: bad cursor %q", after)
	}
	if stamp == "-" {
		return nil, &id, nil
	}
	at, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: unmatched chat members: bad cursor %q", after)
	}
	return &at, &id, nil
}

// Links reads stored links.
func (s *ChatStatusStore) Links(ctx context.Context, personIDs []string) (map[string]ports.ChatLinkView, error) {
	out := map[string]ports.ChatLinkView{}
	ids := uuids(personIDs)
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.q.Query(ctx, `
		SELECT person_id::text, external_id, status, synced_at FROM integrations
		WHERE provider = $2 AND person_id = ANY($1::uuid[]) AND status <> ''`, ids, chatProvider)
	if err != nil {
		return nil, fmt.Errorf("postgres: chat links: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v ports.ChatLinkView
		var status string
		if err := rows.Scan(&v.PersonID, &v.UserID, &status, &v.SyncedAt); err != nil {
			return nil, fmt.Errorf("postgres: chat links: %w", err)
		}
		if v.Status, err = chatstatus.ParseStatus(status); err != nil {
			return nil, fmt.Errorf("postgres: chat link of %s: %w", v.PersonID, err)
		}
		out[v.PersonID] = v
	}
	return out, rows.Err()
}

// Summary counts the links of people not erased, by status.
func (s *ChatStatusStore) Summary(ctx context.Context) (map[chatstatus.Status]int, error) {
	rows, err := s.q.Query(ctx, `
		SELECT i.status, count(*) FROM integrations i JOIN people p ON p.id = i.person_id
		WHERE i.provider = $1 AND i.status <> '' AND p.erased_at IS NULL GROUP BY i.status`, chatProvider)
	if err != nil {
		return nil, fmt.Errorf("postgres: chat summary: %w", err)
	}
	defer rows.Close()
	out := map[chatstatus.Status]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("postgres: chat summary: %w", err)
		}
		st, err := chatstatus.ParseStatus(status)
		if err != nil {
			return nil, fmt.Errorf("postgres: chat summary: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// Update must run in a transaction (a unit of work's ChatStatuses): the row
// locks last until it ends. Rows never synced are inserted with an empty
// status first, in person-id order like the locks, so that two racing
// updates wait for each other instead of both creating the row; an empty
// status never commits (a link fn leaves New is removed again).
func (s *ChatStatusStore) Update(ctx context.Context, sync string, personIDs []string, fn func(map[string]*chatstatus.Link, map[string]bool) error) error {
	ids := uuids(personIDs)
	if len(ids) != len(personIDs) {
		return fmt.Errorf("postgres: update chat links: %d of %d ids are not person ids", len(personIDs)-len(ids), len(personIDs))
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if _, err := s.q.Exec(ctx, `
		INSERT INTO integrations (person_id, provider, status)
		SELECT id, $2, '' FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, n) ORDER BY n
		ON CONFLICT (person_id, provider) DO NOTHING`, ids, chatProvider); err != nil {
		return fmt.Errorf("postgres: create chat links: %w", err)
	}
	links, written, marks, err := s.lock(ctx, sync, ids)
	if err != nil {
		return err
	}
	if err := fn(links, written); err != nil {
		return err
	}
	return s.write(ctx, sync, links, marks)
}

// syncWrote is true when the link i was written by the sync $1: its id is
// among the link's marks ('syncs'), or is the single mark rows written
// before marks were kept carry ('sync').
const syncWrote = `(i.state->'syncs' @> jsonb_build_array($1::text) OR i.state->>'sync' = $1)`

// chatSyncMarks is how many syncs' marks a link keeps, the newest first. A
// sync recognises its own links unless this many other syncs wrote the same
// link while it ran.
const chatSyncMarks = 4

// marked returns the marks of a link that sync writes: sync first, then
// the newest of the link's others, at most chatSyncMarks in all.
func marked(sync string, old []string) []string {
	out := make([]string, 0, chatSyncMarks)
	out = append(out, sync)
	for _, m := range old {
		if len(out) == chatSyncMarks {
			break
		}
		if m != sync && m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// lock locks the links and returns them, those sync already wrote, and each
// link's marks.
func (s *ChatStatusStore) lock(ctx context.Context, sync string, ids []string) (map[string]*chatstatus.Link, map[string]bool, map[string][]string, error) {
	rows, err := s.q.Query(ctx, `
		SELECT person_id::text, external_id, status, synced_at,
			ARRAY(SELECT jsonb_array_elements_text(CASE jsonb_typeof(state->'syncs') WHEN 'array' THEN state->'syncs' ELSE '[]' END))
				|| coalesce(state->>'sync', '')
		FROM integrations
		WHERE provider = $2 AND person_id = ANY($1::uuid[]) ORDER BY person_id FOR UPDATE`, ids, chatProvider)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("postgres: lock chat links: %w", err)
	}
	defer rows.Close()
	links := make(map[string]*chatstatus.Link, len(ids))
	written := map[string]bool{}
	marks := make(map[string][]string, len(ids))
	for rows.Next() {
		var id, user, status string
		var at time.Time
		var had []string
		if err := rows.Scan(&id, &user, &status, &at, &had); err != nil {
			return nil, nil, nil, fmt.Errorf("postgres: lock chat links: %w", err)
		}
		l, err := chatstatus.FromStore(status, user, at)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("postgres: chat link of %s: %w", id, err)
		}
		links[id] = &l
		if slices.Contains(had, sync) {
			written[id] = true
		}
		marks[id] = had
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("postgres: lock chat links: %w", err)
	}
	if len(links) != len(ids) {
		return nil, nil, nil, errors.New("postgres: lock chat links: a person is missing")
	}
	return links, written, marks, nil
}

func (s *ChatStatusStore) write(ctx context.Context, sync string, links map[string]*chatstatus.Link, had map[string][]string) error {
	var ids, users, statuses, marks, unset []string
	var at []time.Time
	for id, l := range links {
		if l.Status() == chatstatus.New {
			unset = append(unset, id)
			continue
		}
		m, err := json.Marshal(marked(sync, had[id]))
		if err != nil {
			return fmt.Errorf("postgres: write chat links: %w", err)
		}
		ids, users, statuses, at = append(ids, id), append(users, l.UserID()), append(statuses, string(l.Status())), append(at, l.SyncedAt())
		marks = append(marks, string(m))
	}
	if len(ids) > 0 {
		if _, err := s.q.Exec(ctx, `
			UPDATE integrations i SET external_id = u.user_id, status = u.status, synced_at = u.at,
				state = (i.state - 'sync') || jsonb_build_object('syncs', u.marks::jsonb), version = i.version + 1
			FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[]) AS u(id, user_id, status, at, marks)
			WHERE i.provider = $6 AND i.person_id = u.id`, ids, users, statuses, at, marks, chatProvider); err != nil {
			return fmt.Errorf("postgres: write chat links: %w", err)
		}
	}
	if len(unset) > 0 {
		if _, err := s.q.Exec(ctx, `DELETE FROM integrations WHERE provider = $2 AND person_id = ANY($1::uuid[]) AND status = ''`,
			unset, chatProvider); err != nil {
			return fmt.Errorf("postgres: drop undecided chat links: %w", err)
		}
	}
	return nil
}

// uuids keeps the ids that are person ids.
func uuids(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if isUUID(id) {
			out = append(out, id)
		}
	}
	return out
}
