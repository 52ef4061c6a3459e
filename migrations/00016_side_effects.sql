-- Provider calls that must happen at most once (a journey trigger, later an
-- RSVP decision) record their intent here under a unique key, in the same
-- transaction as the decision that calls for them and before the call. A
-- retry, a redelivery or a concurrent attempt that reaches the same key
-- finds it taken and does not call again. 'sent' marks a call the provider
-- accepted; an intent whose call the provider refused is deleted, so that a
-- retry may call; an intent left 'intended' is a call whose outcome is
-- unknown (the worker stopped during it), and it is never made again.

-- +goose Up
CREATE TABLE side_effects (
    key         text PRIMARY KEY CHECK (key <> ''),
    kind        text NOT NULL CHECK (kind <> ''),
    status      text NOT NULL DEFAULT 'intended' CHECK (status IN ('intended', 'sent')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX side_effects_intended_idx ON side_effects (created_at) WHERE status = 'intended';

-- +goose Down
DROP TABLE side_effects;
