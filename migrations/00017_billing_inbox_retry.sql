-- Reconciliation re-queues billing events that wait: deferred ones (nobody
-- linked to their customer yet) and ones stuck in 'received' (their message
-- was lost to a long outage). Each re-queue counts an attempt and pushes the
-- next one back, so the oldest rows cannot take every slot for ever. A row
-- deferred for longer than a limit expires ('expired': kept, never
-- re-queued again) with one alert.

-- +goose Up
ALTER TABLE billing_inbox
    ADD COLUMN attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN deferred_at     timestamptz;
UPDATE billing_inbox SET deferred_at = coalesce(processed_at, received_at), next_attempt_at = now()
    WHERE status = 'deferred';
ALTER TABLE billing_inbox DROP CONSTRAINT billing_inbox_status_check;
ALTER TABLE billing_inbox ADD CONSTRAINT billing_inbox_status_check
    CHECK (status IN ('received', 'processed', 'ignored', 'deferred', 'expired'));
-- Due rows, by when they are due; a customer's deferred rows.
CREATE INDEX billing_inbox_due_idx ON billing_inbox (status, next_attempt_at);
CREATE INDEX billing_inbox_deferred_customer_idx ON billing_inbox (customer_id) WHERE status = 'deferred';

-- +goose Down
DROP INDEX billing_inbox_deferred_customer_idx;
DROP INDEX billing_inbox_due_idx;
UPDATE billing_inbox SET status = 'deferred' WHERE status = 'expired';
ALTER TABLE billing_inbox DROP CONSTRAINT billing_inbox_status_check;
ALTER TABLE billing_inbox ADD CONSTRAINT billing_inbox_status_check
    CHECK (status IN ('received', 'processed', 'ignored', 'deferred'));
ALTER TABLE billing_inbox
    DROP COLUMN deferred_at,
    DROP COLUMN next_attempt_at,
    DROP COLUMN attempts;
