-- The latest hosted checkout each person started for each tier, with the
-- billing customer it was made for ('' when none yet) and the time the
-- provider closes it. Asking for a checkout of the same tier again hands
-- out this one while it is open and the person is still the same customer,
-- instead of creating another.

-- +goose Up
CREATE TABLE open_checkouts (
    person_id  uuid NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    tier_id    text NOT NULL,
    url        text NOT NULL,
    customer_id text NOT NULL DEFAULT '',
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, tier_id)
);

-- +goose Down
DROP TABLE open_checkouts;
