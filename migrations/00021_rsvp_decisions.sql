-- One decision per guest of an event, under the unique key (event,
-- guest): the approval job claims the decision here before it tells the
-- events platform, so two racing runs decide a guest once and a later run
-- makes no call for a guest already decided. A claim whose call was
-- deferred (rate limit, outage) or failed, or that went stale (the worker
-- died), is decided again; a guest left pending may be decided by a later
-- run. run_id names the job run, whose summary is counted from here.

-- +goose Up
CREATE TABLE rsvp_decisions (
    event_id    uuid NOT NULL REFERENCES events (id),
    guest_id    text NOT NULL CHECK (guest_id <> '' AND length(guest_id) <= 200),
    person_id   uuid REFERENCES people (id),
    outcome     text NOT NULL CHECK (outcome IN ('approve', 'decline', 'leave_pending')),
    reason      text NOT NULL CHECK (reason <> ''),
    state       text NOT NULL CHECK (state IN ('claimed', 'applied', 'deferred', 'failed')),
    run_id      text NOT NULL CHECK (run_id <> ''),
    error       text NOT NULL DEFAULT '',
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    decided_at  timestamptz,
    PRIMARY KEY (event_id, guest_id),
    CHECK ((state = 'applied') = (decided_at IS NOT NULL))
);

-- The counts shown with each event, and those of a run's summary.
CREATE INDEX rsvp_decisions_counts_idx ON rsvp_decisions (event_id, outcome) WHERE state = 'applied';
CREATE INDEX rsvp_decisions_run_idx ON rsvp_decisions (run_id);

-- How often each run deferred a call (rate limit, outage) per event, for
-- its summary: kept apart from the decisions, which a racing run may take
-- over after a deferral.
CREATE TABLE rsvp_run_deferrals (
    run_id     text NOT NULL CHECK (run_id <> ''),
    event_id   uuid NOT NULL REFERENCES events (id),
    deferrals  integer NOT NULL CHECK (deferrals > 0),
    PRIMARY KEY (run_id, event_id)
);

-- +goose Down
DROP TABLE rsvp_run_deferrals;
DROP TABLE rsvp_decisions;
