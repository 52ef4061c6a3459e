package messaging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/womendefiningai/platform/internal/text"
	"github.com/womendefiningai/platform/ports"
)

// maxReasonLen bounds the error text kept with a dead letter.
const maxReasonLen = 4000

// DB is what the dead-letter store runs on: the pool, or a transaction of the
// caller's (*pgxpool.Pool and pgx.Tx both satisfy it).
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// DeadLetterStore lists and resolves dead letters (ports.DeadLetters). Built
// on a caller's transaction (NewDeadLetterStore(tx)), Replay and Abandon
// commit with it, together with whatever the caller audits there.
type DeadLetterStore struct{ db DB }

var _ ports.DeadLetters = (*DeadLetterStore)(nil)

// NewDeadLetterStore returns a store on db: a pool, or a pgx.Tx.
func NewDeadLetterStore(db DB) *DeadLetterStore { return &DeadLetterStore{db: db} }

const deadLetterColumns = `id::text, message_id, topic, handler, reason, payload, metadata,
	first_failed_at, last_failed_at, attempts, status, created_at, resolved_at,
	COALESCE(resolved_by, ''), COALESCE(resolution_note, '')`

// List returns up to limit dead letters (1 to 1000; 0 means 100), newest
// first, with the given status or any status for "".
func (s *DeadLetterStore) List(ctx context.Context, status ports.DeadLetterStatus, limit int) ([]ports.DeadLetter, error) {
	if status != "" {
		if _, err := ports.ParseDeadLetterStatus(string(status)); err != nil {
			return nil, fmt.Errorf("messaging: list dead letters: %w", err)
		}
	}
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	rows, err := s.db.Query(ctx, `SELECT `+deadLetterColumns+` FROM dead_letters
		WHERE ($1 = '' OR status = $1) ORDER BY created_at DESC, id LIMIT $2`, string(status), limit)
	if err != nil {
		return nil, fmt.Errorf("messaging: list dead letters: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ports.DeadLetter, error) { return scanDeadLetter(row) })
	if err != nil {
		return nil, fmt.Errorf("messaging: list dead letters: %w", err)
	}
	return out, nil
}

// Get returns one dead letter, or ports.ErrNotFound.
func (s *DeadLetterStore) Get(ctx context.Context, id string) (ports.DeadLetter, error) {
	dl, err := getDeadLetter(ctx, s.db, id, false)
	if err != nil {
		return ports.DeadLetter{}, fmt.Errorf("messaging: get dead letter %s: %w", id, err)
	}
	return dl, nil
}

// Replay publishes the dead letter's message again to its topic (same id,
// payload and metadata, plus replayed_dead_letter) and marks it replayed by
// `by`, in one transaction. It returns ports.ErrNotFound, or
// ports.ErrDeadLetterResolved if it is not open.
func (s *DeadLetterStore) Replay(ctx context.Context, id, by string) error {
	var topic string
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		dl, err := getDeadLetter(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if dl.Status != ports.DeadLetterOpen {
			return fmt.Errorf("%w (%s)", ports.ErrDeadLetterResolved, dl.Status)
		}
		if err := checkTopic(dl.Topic); err != nil {
			return err
		}
		meta := maps.Clone(dl.Metadata)
		if meta == nil {
			meta = map[string]string{}
		}
		meta["replayed_dead_letter"] = dl.ID
		msg := toWatermill(ctx, ports.Message{ID: dl.MessageID, Topic: dl.Topic, Payload: dl.Payload, Metadata: meta})
		if err := NewTxPublisher(tx).insertOne(ctx, dl.Topic, msg); err != nil {
			return err
		}
		topic = dl.Topic
		return resolve(ctx, tx, dl.ID, ports.DeadLetterReplayed, by, "")
	})
	if err != nil {
		return fmt.Errorf("messaging: replay dead letter %s: %w", id, err)
	}
	// A consumer in this process takes the message once it is committed:
	// the replay's own transaction on a pool, or the caller's.
	signalOnceVisible(s.db, topic)
	return nil
}

// Abandon marks the dead letter abandoned by `by`, for reason (required).
func (s *DeadLetterStore) Abandon(ctx context.Context, id, by, reason string) error {
	if reason == "" {
		return fmt.Errorf("messaging: abandon dead letter %s: a reason is required", id)
	}
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		dl, err := getDeadLetter(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if dl.Status != ports.DeadLetterOpen {
			return fmt.Errorf("%w (%s)", ports.ErrDeadLetterResolved, dl.Status)
		}
		return resolve(ctx, tx, dl.ID, ports.DeadLetterAbandoned, by, reason)
	})
	if err != nil {
		return fmt.Errorf("messaging: abandon dead letter %s: %w", id, err)
	}
	return nil
}

func resolve(ctx context.Context, tx pgx.Tx, id string, status ports.DeadLetterStatus, by, note string) error {
	_, err := tx.Exec(ctx, `UPDATE dead_letters
		SET status = $2, resolved_at = now(), resolved_by = NULLIF($3, ''), resolution_note = NULLIF($4, '')
		WHERE id = $1`, id, string(status), by, note)
	return err
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func getDeadLetter(ctx context.Context, db queryRower, id string, forUpdate bool) (ports.DeadLetter, error) {
	if uuid.Validate(id) != nil {
		return ports.DeadLetter{}, ports.ErrNotFound
	}
	q := `SELECT ` + deadLetterColumns + ` FROM dead_letters WHERE id = $1`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	dl, err := scanDeadLetter(db.QueryRow(ctx, q, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return ports.DeadLetter{}, ports.ErrNotFound
	}
	return dl, err
}

func scanDeadLetter(row pgx.Row) (ports.DeadLetter, error) {
	var dl ports.DeadLetter
	var status string
	var meta []byte
	var resolvedAt *time.Time
	err := row.Scan(&dl.ID, &dl.MessageID, &dl.Topic, &dl.Handler, &dl.Reason, &dl.Payload, &meta,
		&dl.FirstFailedAt, &dl.LastFailedAt, &dl.Attempts, &status, &dl.CreatedAt, &resolvedAt,
		&dl.ResolvedBy, &dl.ResolutionNote)
	if err != nil {
		return ports.DeadLetter{}, err
	}
	if dl.Status, err = ports.ParseDeadLetterStatus(status); err != nil {
		return ports.DeadLetter{}, err
	}
	if resolvedAt != nil {
		dl.ResolvedAt = *resolvedAt
	}
	if err := json.Unmarshal(meta, &dl.Metadata); err != nil {
		return ports.DeadLetter{}, fmt.Errorf("metadata: %w", err)
	}
	return dl, nil
}

// deadLetterRecord is a failure as the router records it.
type deadLetterRecord struct {
	messageID     string
	topic         string
	handler       string
	reason        string
	payload       []byte
	metadata      map[string]string
	firstFailedAt time.Time
	lastFailedAt  time.Time
	attempts      int
}

// insertDeadLetter stores rec, or adds it to the open dead letter of the same
// message and handler. inserted is false in the second case (no new alert).
func insertDeadLetter(ctx context.Context, tx pgx.Tx, rec deadLetterRecord) (id string, inserted bool, err error) {
	meta, err := json.Marshal(rec.metadata)
	if err != nil {
		return "", false, fmt.Errorf("messaging: dead letter metadata: %w", err)
	}
	if rec.metadata == nil {
		meta = []byte(`{}`)
	}
	payload := rec.payload
	if payload == nil {
		payload = []byte{}
	}
	reason := text.Clip(rec.reason, maxReasonLen)
	err = tx.QueryRow(ctx, `INSERT INTO dead_letters
			(message_id, topic, handler, reason, payload, metadata, first_failed_at, last_failed_at, attempts)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (message_id, handler) WHERE status = 'open' DO UPDATE SET
			reason = EXCLUDED.reason,
			last_failed_at = EXCLUDED.last_failed_at,
			attempts = dead_letters.attempts + EXCLUDED.attempts
		RETURNING id::text, (xmax = 0)`,
		rec.messageID, rec.topic, rec.handler, reason, payload, meta,
		rec.firstFailedAt, rec.lastFailedAt, rec.attempts,
	).Scan(&id, &inserted)
	if err != nil {
		return "", false, fmt.Errorf("messaging: record dead letter: %w", err)
	}
	return id, inserted, nil
}
