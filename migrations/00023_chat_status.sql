-- The chat workspace sync keeps one integrations row per person under
-- provider 'chat': the matched account's id (external_id), the status the
-- sync decided (domain/chatstatus), when it did, and in state.sync the run
-- that last wrote it. An empty status only exists inside the transaction
-- that creates the row and decides it.

-- +goose Up
ALTER TABLE integrations ADD CONSTRAINT integrations_chat_status
    CHECK (provider <> 'chat' OR status IN ('', 'not_found', 'active', 'inactive', 'deactivated'));
CREATE INDEX integrations_chat_status_idx ON integrations (status) WHERE provider = 'chat';

-- +goose Down
DROP INDEX integrations_chat_status_idx;
ALTER TABLE integrations DROP CONSTRAINT integrations_chat_status;
