-- The events platform's guest.registered webhook (POST /webhooks/luma):
-- each verified delivery is stored here once per delivery id, in the same
-- transaction as its "guest.registered" message, before the webhook
-- answers 200, so an acknowledged registration is never lost and a
-- redelivery does nothing. The worker decides the guest through the same
-- claim in rsvp_decisions as the twice-daily run (one decision per guest,
-- whichever comes first) and marks the row. The guest's email is kept only
-- until then: a marked row names the guest by id.

-- +goose Up
CREATE TABLE guest_inbox (
    delivery_id        text PRIMARY KEY CHECK (delivery_id <> '' AND length(delivery_id) <= 255),
    type               text NOT NULL CHECK (type <> '' AND length(type) <= 100),
    platform_event_id  text NOT NULL CHECK (platform_event_id <> '' AND length(platform_event_id) <= 200),
    guest_id           text NOT NULL CHECK (guest_id <> '' AND length(guest_id) <= 200),
    email              text NOT NULL DEFAULT '' CHECK (length(email) <= 320),
    approval_status    text NOT NULL DEFAULT '' CHECK (length(approval_status) <= 50),
    status             text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'ignored')),
    note               text NOT NULL DEFAULT '',
    received_at        timestamptz NOT NULL DEFAULT now(),
    processed_at       timestamptz,
    CHECK ((status = 'received') = (processed_at IS NULL)),
    CHECK (status = 'received' OR email = '')
);

-- Registrations not decided yet, oldest first (an operator's look).
CREATE INDEX guest_inbox_received_idx ON guest_inbox (received_at) WHERE status = 'received';

SELECT messaging_create_topic('guest.registered');

-- +goose Down
DROP TABLE "watermill_guest.registered";
DROP TABLE guest_inbox;
