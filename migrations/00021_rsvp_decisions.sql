-- One decision per guest of an event, under the unique key (event,
-- guest): the approval job claims the decision here before it tells the
-- events platform, so two racing runs decide a guest once and a later run
-- makes no call for a guest already decided. A claim never applied (the
-- call failed, the worker died) is released or goes stale and is decided
-- again; a guest left pending may be decided by a later run.

-- +goose Up
CREATE TABLE rsvp_decisions (
    event_id    uuid NOT NULL REFERENCES events (id),
    guest_id    text NOT NULL CHECK (guest_id <> '' AND length(guest_id) <= 200),
    person_id   uuid REFERENCES people (id),
    outcome     text NOT NULL CHECK (outcome IN ('approve', 'decline', 'leave_pending')),
    reason      text NOT NULL CHECK (reason <> ''),
    state       text NOT NULL CHECK (state IN ('claimed', 'applied')),
    run_id      text NOT NULL DEFAULT '',
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    decided_at  timestamptz,
    PRIMARY KEY (event_id, guest_id),
    CHECK ((state = 'applied') = (decided_at IS NOT NULL))
);

-- The counts shown with each event.
CREATE INDEX rsvp_decisions_counts_idx ON rsvp_decisions (event_id, outcome) WHERE state = 'applied';

-- +goose Down
DROP TABLE rsvp_decisions;
