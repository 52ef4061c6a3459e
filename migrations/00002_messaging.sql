-- Messaging (adapters/messaging): one Watermill queue table per topic, the
-- table of scheduled messages, and the dead letters.
--
-- A new topic needs its name in ports and messaging.Topics, and a new
-- migration with one line:  SELECT messaging_create_topic('the.topic');

-- +goose Up

-- +goose StatementBegin
CREATE FUNCTION messaging_create_topic(topic text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- The same characters Watermill accepts in a topic name.
    IF topic !~ '^[A-Za-z0-9$:._-]+$' THEN
        RAISE EXCEPTION 'invalid topic name %', topic;
    END IF;
    -- Watermill's PostgreSQL queue schema, with a 64-bit offset and a binary
    -- payload. Rows are deleted when acked, so the table holds only the
    -- backlog and a poll never scans history.
    EXECUTE format($ddl$
        CREATE TABLE %I (
            "offset"   bigserial PRIMARY KEY,
            uuid       varchar(36) NOT NULL,
            payload    bytea,
            metadata   json,
            acked      boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now()
        )$ddl$, 'watermill_' || topic);
END
$$;
-- +goose StatementEnd

SELECT messaging_create_topic('stripe.event');
SELECT messaging_create_topic('member.changed');
SELECT messaging_create_topic('person.email_changed');
SELECT messaging_create_topic('person.deleted');
SELECT messaging_create_topic('membership.period_end');
SELECT messaging_create_topic('job.run');

-- Scheduled messages wait here until deliver_at, then move to their target
-- topic's table (the target is in metadata->>'target_topic').
SELECT messaging_create_topic('delayed');
ALTER TABLE "watermill_delayed" ADD COLUMN deliver_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX "watermill_delayed_deliver_at_idx" ON "watermill_delayed" (deliver_at, "offset");

CREATE TABLE dead_letters (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    message_id        text NOT NULL,
    topic             text NOT NULL,
    handler           text NOT NULL,
    reason            text NOT NULL,
    payload           bytea NOT NULL,
    metadata          jsonb NOT NULL DEFAULT '{}',
    first_failed_at   timestamptz NOT NULL,
    last_failed_at    timestamptz NOT NULL,
    attempts          integer NOT NULL CHECK (attempts > 0),
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'abandoned')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    resolved_at       timestamptz,
    resolved_by       text,
    resolution_note   text,
    CHECK ((status = 'open') = (resolved_at IS NULL)),
    CHECK (status <> 'abandoned' OR resolution_note <> '')
);

-- At most one open dead letter per message and handler: a second failure of
-- the same message adds to it instead of raising a second alert.
CREATE UNIQUE INDEX dead_letters_open_message_idx ON dead_letters (message_id, handler) WHERE status = 'open';
CREATE INDEX dead_letters_status_created_idx ON dead_letters (status, created_at DESC);

-- +goose Down
DROP TABLE dead_letters;
DROP TABLE "watermill_delayed";
DROP TABLE "watermill_job.run";
DROP TABLE "watermill_membership.period_end";
DROP TABLE "watermill_person.deleted";
DROP TABLE "watermill_person.email_changed";
DROP TABLE "watermill_member.changed";
DROP TABLE "watermill_stripe.event";
DROP FUNCTION messaging_create_topic(text);
