-- The agents' starter operations read the newest payment failure notices,
-- the newest RSVP decisions, and one person's decisions: each an index scan
-- that stops at its limit instead of a sort of the whole table.

-- +goose Up
CREATE INDEX payment_failure_notices_created_idx ON payment_failure_notices (created_at DESC);
CREATE INDEX rsvp_decisions_decided_idx ON rsvp_decisions (decided_at DESC) WHERE state = 'applied';
CREATE INDEX rsvp_decisions_person_idx ON rsvp_decisions (person_id, decided_at DESC) WHERE state = 'applied';

-- +goose Down
DROP INDEX rsvp_decisions_person_idx;
DROP INDEX rsvp_decisions_decided_idx;
DROP INDEX payment_failure_notices_created_idx;
