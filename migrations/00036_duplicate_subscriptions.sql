-- +goose Up
-- Two or more current subscriptions held by one person (a double checkout):
-- recorded in the transaction of the membership change that found them, so
-- that the operators' view lists them and exactly one alert names the person
-- and the subscriptions. alerted_at is set when the alert is claimed and
-- cleared again when sending it failed, so that the retry sends it.
CREATE TABLE duplicate_subscriptions (
    person_id        uuid NOT NULL REFERENCES people (id),
    subscription_ids text[] NOT NULL CHECK (cardinality(subscription_ids) > 1),
    detected_at      timestamptz NOT NULL DEFAULT now(),
    alerted_at       timestamptz,
    PRIMARY KEY (person_id, subscription_ids)
);
CREATE INDEX duplicate_subscriptions_unalerted_idx ON duplicate_subscriptions (person_id) WHERE alerted_at IS NULL;
CREATE INDEX duplicate_subscriptions_detected_idx ON duplicate_subscriptions (detected_at DESC);

-- +goose Down
DROP TABLE duplicate_subscriptions;
