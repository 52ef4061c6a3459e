package postgres

import (
	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

// redactedDeadLetter replaces the payload of a dead letter about an erased
// person: replaying it does nothing harmful (its handler refuses it).
const redactedDeadLetter = `{"redacted":"person erased"}`

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
