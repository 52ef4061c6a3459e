-- People (our record of a person, keyed to the identity provider's user id),
-- their memberships (derived from billing snapshots by domain/membership),
-- and a generic inbox for deduplicating webhook deliveries.

-- +goose Up
CREATE TABLE people (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The identity provider's (Clerk's) user id. NULL for a person created
    -- from a checkout before they ever signed in.
    identity_user_id  text UNIQUE,
    -- Lower-cased, trimmed. NULL once erased.
    primary_email     text CHECK (primary_email = lower(btrim(primary_email))),
    -- Every verified address, lower-cased and trimmed.
    emails            text[] NOT NULL DEFAULT '{}',
    first_name        text NOT NULL DEFAULT '',
    last_name         text NOT NULL DEFAULT '',
    role              text NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'leader', 'admin')),
    billing_customer_id text UNIQUE,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    -- Set when the person was erased: personal data is gone, the row stays
    -- for the membership history and the audit log.
    erased_at         timestamptz
);
CREATE INDEX people_primary_email_idx ON people (primary_email) WHERE erased_at IS NULL;
CREATE INDEX people_emails_idx ON people USING gin (emails);
CREATE INDEX people_directory_idx ON people (created_at, id);

-- One row per person: the membership's derived columns are kept for queries
-- (the directory filters by status and visibility); domain/membership
-- rebuilds the entity from visible, ever_active and the subscriptions.
CREATE TABLE memberships (
    person_id            uuid PRIMARY KEY REFERENCES people (id),
    status               text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'past_due', 'canceled')),
    tier                 text NOT NULL DEFAULT '',
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    current_period_end   timestamptz,
    visible              boolean NOT NULL DEFAULT false,
    ever_active          boolean NOT NULL DEFAULT false,
    alumni               boolean NOT NULL DEFAULT false,
    subscription_id      text NOT NULL DEFAULT '',
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'canceled' OR NOT visible)
);
CREATE INDEX memberships_status_idx ON memberships (status);

CREATE TABLE membership_subscriptions (
    subscription_id      text PRIMARY KEY,
    person_id            uuid NOT NULL REFERENCES memberships (person_id),
    status               text NOT NULL,
    tier                 text NOT NULL DEFAULT '',
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    current_period_end   timestamptz,
    payment_attempt      integer NOT NULL DEFAULT 0,
    snapshot_at          timestamptz NOT NULL
);
CREATE INDEX membership_subscriptions_person_idx ON membership_subscriptions (person_id);

-- Webhook deliveries already applied, per source (svix-id for Clerk).
CREATE TABLE webhook_inbox (
    source      text NOT NULL,
    delivery_id text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, delivery_id)
);

-- +goose Down
DROP TABLE webhook_inbox;
DROP TABLE membership_subscriptions;
DROP TABLE memberships;
DROP TABLE people;
