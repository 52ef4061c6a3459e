-- A validly signed billing event whose JSON jsonb refuses (a \u0000 escape,
-- or bytes that are not UTF-8) is still stored, and processed: its payload
-- goes to payload_raw, as the bytes that were signed, and payload stays
-- NULL. Every other event keeps its payload in jsonb, as before.

-- +goose Up
ALTER TABLE billing_inbox ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE billing_inbox ADD COLUMN payload_raw bytea;
ALTER TABLE billing_inbox ADD CONSTRAINT billing_inbox_payload_kept
    CHECK ((payload IS NULL) <> (payload_raw IS NULL));

-- +goose Down
UPDATE billing_inbox SET payload = '{}'::jsonb WHERE payload IS NULL;
ALTER TABLE billing_inbox DROP CONSTRAINT billing_inbox_payload_kept;
ALTER TABLE billing_inbox DROP COLUMN payload_raw;
ALTER TABLE billing_inbox ALTER COLUMN payload SET NOT NULL;
