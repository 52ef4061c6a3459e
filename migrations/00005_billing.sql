-- The billing inbox: every verified Stripe event, keyed by its id, stored
-- in the same transaction as the stripe.event message that processes it.
-- The ids the worker needs are extracted at ingest, so the application never
-- parses vendor JSON.

-- +goose Up
CREATE TABLE billing_inbox (
    event_id            text PRIMARY KEY,
    type                text NOT NULL,
    created             timestamptz NOT NULL,
    payload             jsonb NOT NULL,
    source              text NOT NULL CHECK (source IN ('webhook', 'reconcile')),
    subscription_id     text NOT NULL DEFAULT '',
    customer_id         text NOT NULL DEFAULT '',
    invoice_id          text NOT NULL DEFAULT '',
    client_reference_id text NOT NULL DEFAULT '',
    customer_email      text NOT NULL DEFAULT '',
    customer_name       text NOT NULL DEFAULT '',
    attempt_count       integer NOT NULL DEFAULT 0,
    status              text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'ignored', 'deferred')),
    note                text NOT NULL DEFAULT '',
    received_at         timestamptz NOT NULL DEFAULT now(),
    processed_at        timestamptz
);
CREATE INDEX billing_inbox_status_idx ON billing_inbox (status, received_at);

-- One member notification per (invoice, payment attempt).
CREATE TABLE payment_failure_notices (
    invoice_id  text NOT NULL,
    attempt     integer NOT NULL,
    person_id   uuid NOT NULL REFERENCES people (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (invoice_id, attempt)
);

-- +goose Down
DROP TABLE payment_failure_notices;
DROP TABLE billing_inbox;
