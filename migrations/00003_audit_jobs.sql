-- The audit trail (append-only, enforced here and not only by the code) and
-- the runs of scheduled jobs (one per job and slot, across every replica).

-- +goose Up

CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor_kind    text NOT NULL CHECK (actor_kind <> ''),
    actor_id      text NOT NULL DEFAULT '',
    action        text NOT NULL CHECK (action <> ''),
    subject_kind  text NOT NULL DEFAULT '',
    subject_id    text NOT NULL DEFAULT '',
    outcome       text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    details       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object')
);

CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_subject_idx ON audit_log (subject_kind, subject_id, at DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_kind, actor_id, at DESC);

-- Append-only: UPDATE, DELETE and TRUNCATE are refused for every role,
-- whatever its privileges. Retention, when it is needed, is a deliberate
-- operator act: ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only.
-- +goose StatementBegin
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'raise_exception', HINT = 'insert a new entry instead';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

CREATE TABLE job_runs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job          text NOT NULL CHECK (job <> ''),
    slot         timestamptz NOT NULL,
    trigger      text NOT NULL CHECK (trigger IN ('cron', 'http', 'cli')),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN (
                     'pending', 'processing', 'completed', 'failed',
                     'retrying', 'dead_letter', 'replayed', 'abandoned')),
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    summary      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(summary) = 'object'),
    error        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    -- Each cron slot runs once, however many replicas try to enqueue it.
    CONSTRAINT job_runs_job_slot_key UNIQUE (job, slot)
);

CREATE INDEX job_runs_created_idx ON job_runs (created_at DESC);
CREATE INDEX job_runs_job_created_idx ON job_runs (job, created_at DESC);

-- +goose Down
DROP TABLE job_runs;
DROP TABLE audit_log;
DROP FUNCTION audit_log_refuse_change();
