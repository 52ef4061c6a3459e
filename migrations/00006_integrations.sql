-- Per person, per provider: what we last synced there, so an unchanged
-- desired state makes no API call, and a resync only touches what differs.

-- +goose Up
CREATE TABLE integrations (
    person_id   uuid NOT NULL REFERENCES people (id),
    provider    text NOT NULL,
    external_id text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT '',
    state       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(state) = 'object'),
    note        text NOT NULL DEFAULT '',
    synced_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, provider)
);

-- +goose Down
DROP TABLE integrations;
