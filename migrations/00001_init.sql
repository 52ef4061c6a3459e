-- +goose Up
CREATE TABLE membership_tiers (
    id               text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_-]*$'),
    name             text NOT NULL CHECK (name <> ''),
    description      text NOT NULL DEFAULT '',
    price_display    text NOT NULL,
    stripe_price_id  text UNIQUE,
    sort_order       integer NOT NULL DEFAULT 0,
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

COMMENT ON COLUMN membership_tiers.stripe_price_id IS
    'Stripe price id for checkout; the seeded values are placeholders to replace per environment.';

INSERT INTO membership_tiers (id, name, description, price_display, stripe_price_id, sort_order) VALUES
    ('community', 'Community', 'Member directory, Slack community and member-only events.', '$15 / month', 'price_placeholder_community', 10),
    ('professional', 'Professional', 'Everything in Community, plus workshops, office hours and recordings.', '$35 / month', 'price_placeholder_professional', 20),
    ('leader', 'Leader', 'Everything in Professional, plus hosting chapter events and leadership circles.', '$75 / month', 'price_placeholder_leader', 30);

-- +goose Down
DROP TABLE membership_tiers;
