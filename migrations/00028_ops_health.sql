-- What the health view and the alerts read besides the tables the platform
-- already keeps (job_runs, billing_inbox, dead_letters).
--
-- provider_call_samples: each process adds what its provider calls did,
-- per minute, about every 15 seconds (one row per process, provider and
-- minute, summed on conflict). Rows older than two days are pruned by the
-- writers. UNLOGGED: losing a crash's worth of samples only blurs a
-- dashboard, and skipping the write-ahead log keeps the writes cheap.
--
-- process_samples: each process's breaker states and API p95, per minute.
--
-- alert_levels: the level last announced per measure, so that every
-- replica announces a change once and never repeats one; alert_evaluations
-- lets one replica claim each minute's evaluation.

-- +goose Up
CREATE UNLOGGED TABLE provider_call_samples (
    provider         text NOT NULL,
    minute           timestamptz NOT NULL,
    process_id       text NOT NULL,
    calls            bigint NOT NULL DEFAULT 0 CHECK (calls >= 0),
    failures         bigint NOT NULL DEFAULT 0 CHECK (failures >= 0),
    rate_limited     bigint NOT NULL DEFAULT 0 CHECK (rate_limited >= 0),
    last_success_at  timestamptz,
    last_failure_at  timestamptz,
    last_error_class text NOT NULL DEFAULT '',
    PRIMARY KEY (provider, minute, process_id)
);
CREATE INDEX provider_call_samples_minute_idx ON provider_call_samples (minute);

CREATE UNLOGGED TABLE process_samples (
    process_id   text NOT NULL,
    minute       timestamptz NOT NULL,
    at           timestamptz NOT NULL,
    breakers     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(breakers) = 'object'),
    api_requests bigint NOT NULL DEFAULT 0,
    api_p95_ms   double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (process_id, minute)
);
CREATE INDEX process_samples_at_idx ON process_samples (at);

CREATE TABLE alert_levels (
    measure    text PRIMARY KEY,
    level      text NOT NULL CHECK (level IN ('ok', 'warning', 'critical')),
    value      double precision NOT NULL,
    changed_at timestamptz NOT NULL
);

CREATE TABLE alert_evaluations (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_slot timestamptz NOT NULL
);
INSERT INTO alert_evaluations (last_slot) VALUES ('-infinity');

CREATE INDEX IF NOT EXISTS job_runs_finished_idx ON job_runs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS billing_inbox_received_idx ON billing_inbox (received_at);

-- +goose Down
DROP INDEX IF EXISTS billing_inbox_received_idx;
DROP INDEX IF EXISTS job_runs_finished_idx;
DROP TABLE alert_evaluations;
DROP TABLE alert_levels;
DROP TABLE process_samples;
DROP TABLE provider_call_samples;
