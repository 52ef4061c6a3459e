-- Community events created by leaders on the events platform. A row is
-- written before the platform is called ('creating', holding a lease), so a
-- retried request with the same idempotency key finds it: it returns the
-- created event, completes one whose platform id was recorded after the
-- store failed, or waits while another attempt holds the lease. No event
-- created on the platform is left without a row here.

-- +goose Up
CREATE TABLE events (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Who created it: a person (user) or an agent key, as in the audit log.
    creator_kind     text NOT NULL CHECK (creator_kind IN ('user', 'agent', 'system')),
    creator_id       text NOT NULL CHECK (creator_id <> ''),
    idempotency_key  text NOT NULL CHECK (idempotency_key <> '' AND length(idempotency_key) <= 200),
    status           text NOT NULL DEFAULT 'creating' CHECK (status IN ('creating', 'created')),
    platform_id      text UNIQUE CHECK (platform_id <> ''),
    url              text NOT NULL DEFAULT '',
    name             text NOT NULL CHECK (name <> ''),
    description      text NOT NULL DEFAULT '',
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL CHECK (ends_at > starts_at),
    timezone         text NOT NULL CHECK (timezone <> ''),
    capacity         integer NOT NULL CHECK (capacity > 0),
    held_until       timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (creator_kind, creator_id, idempotency_key),
    CHECK (status = 'creating' OR platform_id IS NOT NULL)
);

-- Upcoming events soonest first, past events latest first.
CREATE INDEX events_created_start_idx ON events (starts_at, id) WHERE status = 'created';

-- +goose Down
DROP TABLE events;
