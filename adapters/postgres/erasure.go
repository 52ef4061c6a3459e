package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/domain/approval"
	"github.com/womendefiningai/platform/ports"
)

// redactedDeadLetter replaces the payload of a dead letter about an erased
// person: replaying it does nothing harmful (its handler refuses it).
const redactedDeadLetter = `{"redacted":"person erased"}`

// erasedGuestNote is the note of an undecided guest registration an
// erasure marked ignored: its email was the erased person's.
const erasedGuestNote = "the guest's email was an erased person's: removed, no decision"

// queueDeadLetterRedaction queues, in an erasure's batch, the redaction of
// every dead letter whose payload names the person by id or by any of
// their addresses. Dead letters are few (each raises an alert), so the
// scan of their payloads is bounded by what operators have left open or
// resolved; the statement runs once per erasure.
func queueDeadLetterRedaction(batch *pgx.Batch, p ports.Person) {
	needles := append([]string{p.ID}, p.Emails...)
	if p.PrimaryEmail != "" {
		needles = append(needles, p.PrimaryEmail)
	}
	batch.Queue(`UPDATE dead_letters SET payload = convert_to($2, 'UTF8'), metadata = '{}'::jsonb
		WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) n WHERE n <> '' AND position(convert_to(n, 'UTF8') in payload) > 0)`,
		needles, redactedDeadLetter)
}

// queueGuestInboxScrub queues, in an erasure's batch, the marking as
// ignored (email cleared, erasedGuestNote) of every undecided guest
// registration whose email is one of the person's addresses, compared as
// the decision compares them (approval.NormalizeEmail), so the worker makes
// no decision for it. A decided registration holds no email already. The
// undecided rows are read through the partial index of received ones: the
// worker decides each within a minute, so they are few.
func queueGuestInboxScrub(ctx context.Context, tx pgx.Tx, batch *pgx.Batch, p ports.Person) error {
	var addresses []string
	for _, e := range append([]string{p.PrimaryEmail}, p.Emails...) {
		if n := approval.NormalizeEmail(e); n != "" {
			addresses = append(addresses, n)
		}
	}
	if len(addresses) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT delivery_id, email FROM guest_inbox WHERE status = 'received' AND email <> ''`)
	if err != nil {
		return err
	}
	type undecided struct{ id, email string }
	received, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (undecided, error) {
		var u undecided
		return u, r.Scan(&u.id, &u.email)
	})
	if err != nil {
		return err
	}
	var ids []string
	for _, u := range received {
		if slices.Contains(addresses, approval.NormalizeEmail(u.email)) {
			ids = append(ids, u.id)
		}
	}
	if len(ids) > 0 {
		batch.Queue(`UPDATE guest_inbox SET email = '', status = 'ignored', note = $2, processed_at = now()
			WHERE delivery_id = ANY($1) AND status = 'received'`, ids, erasedGuestNote)
	}
	return nil
}
