-- Optimistic concurrency for integration state: two syncs of one person
-- running at once must not overwrite each other's record (a lost journey
-- mark would send a journey twice).

-- +goose Up
ALTER TABLE integrations ADD COLUMN version bigint NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE integrations DROP COLUMN version;
