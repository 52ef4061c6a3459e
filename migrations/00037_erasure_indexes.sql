-- +goose Up
-- Erasure finds a person's stored billing events by client reference (the
-- person id a checkout carries) and by billing customer: without these
-- indexes each erasure read the whole inbox.
CREATE INDEX billing_inbox_client_reference_idx ON billing_inbox (client_reference_id);
CREATE INDEX billing_inbox_customer_idx ON billing_inbox (customer_id) WHERE customer_id <> '';

-- +goose Down
DROP INDEX billing_inbox_customer_idx;
DROP INDEX billing_inbox_client_reference_idx;
