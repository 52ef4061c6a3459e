-- API keys of AI agents. The key's prefix (its public part) is the primary
-- key; only the SHA-256 of its secret is kept, never the plaintext.

-- +goose Up
CREATE TABLE agent_keys (
    prefix            text PRIMARY KEY CHECK (prefix ~ '^[a-z2-7]{8}$'),
    secret_sha256     bytea NOT NULL CHECK (length(secret_sha256) = 32),
    name              text NOT NULL CHECK (name <> '' AND length(name) <= 100),
    scopes            text[] NOT NULL CHECK (cardinality(scopes) > 0),
    allow_mutations   boolean NOT NULL DEFAULT false,
    rate_per_minute   integer NOT NULL CHECK (rate_per_minute > 0),
    expires_at        timestamptz,
    created_by        text NOT NULL CHECK (created_by <> ''),
    created_at        timestamptz NOT NULL DEFAULT now(),
    revoked_at        timestamptz,
    revoked_by        text,
    -- Kept to the minute: written at most once a minute per key and process.
    last_used_at      timestamptz
);

CREATE UNIQUE INDEX agent_keys_name_active_idx ON agent_keys (name) WHERE revoked_at IS NULL;

-- +goose Down
DROP TABLE agent_keys;
