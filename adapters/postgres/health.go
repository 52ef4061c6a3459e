package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/domain/ops"
	"github.com/womendefiningai/platform/ports"
)

// sampleRetention is how long provider and process samples are kept.
const sampleRetention = 48 * time.Hour

// breakerFreshness is how recent a process's sample must be for its
// breakers' states to count.
const breakerFreshness = 2 * time.Minute

// lastRunHorizon bounds how far back a job's last run is looked for.
const lastRunHorizon = 7 * 24 * time.Hour

// Health implements ports.HealthReadModel and ports.AlertLevels.
type Health struct {
	q Querier
}

var (
	_ ports.HealthReadModel = (*Health)(nil)
	_ ports.AlertLevels     = (*Health)(nil)
)

// NewHealth returns the store on q.
func NewHealth(q Querier) *Health { return &Health{q: q} }

// healthSQL reads the whole snapshot in one statement: each part is a
// subquery over an index (samples by minute, job runs by creation, the
// inbox's unfinished statuses, open dead letters), folded into one JSON
// object.
const healthSQL = `
WITH call_rows AS (
    SELECT provider, sum(calls) AS calls, sum(failures) AS failures, sum(rate_limited) AS rate_limited,
           max(last_success_at) AS last_success, max(last_failure_at) AS last_failure,
           (array_agg(last_error_class ORDER BY last_failure_at DESC NULLS LAST))[1] AS last_error_class
    FROM provider_call_samples WHERE minute >= $1 GROUP BY provider
), breakers AS (
    SELECT b.key AS provider,
           (array['closed', 'half-open', 'open'])[1 + max(CASE b.value WHEN 'open' THEN 2 WHEN 'half-open' THEN 1 ELSE 0 END)] AS state
    FROM process_samples p, jsonb_each_text(p.breakers) b WHERE p.at >= $2 AND p.process_id <> $8 GROUP BY b.key
), jobs AS (
    SELECT job, json_object_agg(status, n) AS outcomes
    FROM (SELECT job, status, count(*) AS n FROM job_runs WHERE created_at >= $3 GROUP BY job, status) s GROUP BY job
), last_runs AS (
    SELECT DISTINCT ON (job) job, status, summary, coalesce(finished_at, updated_at, created_at) AS at
    FROM job_runs WHERE created_at >= $4 ORDER BY job, created_at DESC
), hooks AS (
    SELECT count(*) AS received,
           count(*) FILTER (WHERE status IN ('processed', 'ignored')) AS applied,
           count(*) FILTER (WHERE status = 'expired' OR (status = 'received' AND received_at < $6)) AS failed,
           coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at))
               FILTER (WHERE status = 'processed' AND processed_at IS NOT NULL), 0) AS p95
    FROM billing_inbox WHERE received_at >= $5
)
SELECT json_build_object(
    'calls', (SELECT coalesce(json_agg(c), '[]') FROM call_rows c),
    'breakers', (SELECT coalesce(json_object_agg(provider, state), '{}') FROM breakers),
    'jobs', (SELECT coalesce(json_agg(json_build_object('job', l.job, 'outcomes', coalesce(j.outcomes, '{}'),
        'last_status', l.status, 'last_summary', l.summary, 'last_at', l.at)), '[]')
        FROM last_runs l LEFT JOIN jobs j USING (job)),
    'hooks', (SELECT row_to_json(h) FROM hooks h),
    'backlog', (SELECT coalesce(json_object_agg(status, n), '{}') FROM
        (SELECT status, count(*) AS n FROM billing_inbox WHERE status IN ('received', 'deferred', 'expired') GROUP BY status) b),
    'dead_letters', (SELECT count(*) FROM dead_letters WHERE status = 'open'),
    'api', (SELECT json_build_object('p95_ms', coalesce(max(api_p95_ms) FILTER (WHERE api_requests > 0), 0),
        'requests', coalesce(sum(api_requests), 0)) FROM process_samples WHERE at >= $7)
)`

type healthRow struct {
	Calls []struct {
		Provider       string     `json:"provider"`
		Calls          int64      `json:"calls"`
		Failures       int64      `json:"failures"`
		RateLimited    int64      `json:"rate_limited"`
		LastSuccess    *time.Time `json:"last_success"`
		LastFailure    *time.Time `json:"last_failure"`
		LastErrorClass *string    `json:"last_error_class"`
	} `json:"calls"`
	Breakers map[string]string `json:"breakers"`
	Jobs     []struct {
		Job         string           `json:"job"`
		Outcomes    map[string]int64 `json:"outcomes"`
		LastStatus  string           `json:"last_status"`
		LastSummary map[string]any   `json:"last_summary"`
		LastAt      time.Time        `json:"last_at"`
	} `json:"jobs"`
	Hooks struct {
		Received int64   `json:"received"`
		Applied  int64   `json:"applied"`
		Failed   int64   `json:"failed"`
		P95      float64 `json:"p95"`
	} `json:"hooks"`
	Backlog     map[string]int64 `json:"backlog"`
	DeadLetters int64            `json:"dead_letters"`
	API         struct {
		P95ms    float64 `json:"p95_ms"`
		Requests int64   `json:"requests"`
	} `json:"api"`
}

// Snapshot reads the health snapshot at now over the windows w, in one
// statement.
func (s *Health) Snapshot(ctx context.Context, now time.Time, w ports.HealthWindows, self string) (ports.HealthSnapshot, error) {
	var raw []byte
	err := s.q.QueryRow(ctx, healthSQL,
		now.Add(-w.Calls).Truncate(time.Minute), now.Add(-breakerFreshness), now.Add(-w.Jobs), now.Add(-lastRunHorizon),
		now.Add(-w.Webhooks), now.Add(-w.StuckAfter), now.Add(-w.API), self).Scan(&raw)
	if err != nil {
		return ports.HealthSnapshot{}, fmt.Errorf("postgres: read health: %w", err)
	}
	var row healthRow
	if err := json.Unmarshal(raw, &row); err != nil {
		return ports.HealthSnapshot{}, fmt.Errorf("postgres: decode health: %w", err)
	}
	out := ports.HealthSnapshot{Breakers: row.Breakers, APIRequests: row.API.Requests,
		APIP95: time.Duration(row.API.P95ms * float64(time.Millisecond)),
		Webhooks: ports.WebhookHealth{Received: row.Hooks.Received, Applied: row.Hooks.Applied, Failed: row.Hooks.Failed,
			P95: time.Duration(row.Hooks.P95 * float64(time.Second)), Backlog: row.Backlog, OpenDeadLetters: row.DeadLetters}}
	for _, c := range row.Calls {
		cc := ports.CallCounts{Provider: c.Provider, Calls: c.Calls, Failures: c.Failures, RateLimited: c.RateLimited}
		if c.LastSuccess != nil {
			cc.LastSuccess = *c.LastSuccess
		}
		if c.LastFailure != nil {
			cc.LastFailure = *c.LastFailure
		}
		if c.LastErrorClass != nil {
			cc.LastErrorClass = *c.LastErrorClass
		}
		out.Calls = append(out.Calls, cc)
	}
	for _, j := range row.Jobs {
		jh := ports.JobHealth{Job: j.Job, Outcomes: map[ports.JobStatus]int64{}, LastStatus: ports.JobStatus(j.LastStatus),
			LastSummary: j.LastSummary, LastAt: j.LastAt}
		for st, n := range j.Outcomes {
			jh.Outcomes[ports.JobStatus(st)] = n
		}
		out.Jobs = append(out.Jobs, jh)
	}
	return out, nil
}

// recordSQL adds one process sample in one statement: the provider calls
// summed into their minute's row, the process row for the minute, and the
// pruning of rows past the retention.
const recordSQL = `
WITH c AS (
    INSERT INTO provider_call_samples AS s (provider, minute, process_id, calls, failures, rate_limited,
        last_success_at, last_failure_at, last_error_class)
    SELECT provider, $2, $1, calls, failures, rate_limited, last_success, last_failure, last_class
    FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::timestamptz[], $8::timestamptz[], $9::text[])
        AS u(provider, calls, failures, rate_limited, last_success, last_failure, last_class)
    ON CONFLICT (provider, minute, process_id) DO UPDATE SET
        calls = s.calls + excluded.calls,
        failures = s.failures + excluded.failures,
        rate_limited = s.rate_limited + excluded.rate_limited,
        last_success_at = greatest(s.last_success_at, excluded.last_success_at),
        last_failure_at = greatest(s.last_failure_at, excluded.last_failure_at),
        last_error_class = CASE WHEN excluded.last_failure_at >= coalesce(s.last_failure_at, '-infinity')
            THEN excluded.last_error_class ELSE s.last_error_class END
), p AS (
    INSERT INTO process_samples AS s (process_id, minute, at, breakers, api_requests, api_p95_ms)
    VALUES ($1, $2, $10, $11, $12, $13)
    ON CONFLICT (process_id, minute) DO UPDATE SET at = excluded.at, breakers = excluded.breakers,
        api_requests = s.api_requests + excluded.api_requests,
        api_p95_ms = greatest(s.api_p95_ms, excluded.api_p95_ms)
), d1 AS (
    DELETE FROM provider_call_samples WHERE minute < $14
), d2 AS (
    DELETE FROM process_samples WHERE at < $14
)
SELECT 1`

// Record adds a process's sample, in one statement.
func (s *Health) Record(ctx context.Context, sm ports.ProcessSample) error {
	if sm.ProcessID == "" || sm.At.IsZero() {
		return errors.New("postgres: record health sample: no process id or time")
	}
	n := len(sm.Calls)
	providers, calls, failures, limited := make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n)
	succ, fail, classes := make([]*time.Time, n), make([]*time.Time, n), make([]string, n)
	for i, c := range sm.Calls {
		providers[i], calls[i], failures[i], limited[i], classes[i] = c.Provider, c.Calls, c.Failures, c.RateLimited, c.LastErrorClass
		succ[i], fail[i] = timeOrNil(c.LastSuccess), timeOrNil(c.LastFailure)
	}
	breakers := sm.Breakers
	if breakers == nil {
		breakers = map[string]string{}
	}
	minute := sm.At.UTC().Truncate(time.Minute)
	_, err := s.q.Exec(ctx, recordSQL, sm.ProcessID, minute, providers, calls, failures, limited, succ, fail, classes,
		sm.At, breakers, sm.APIRequests, float64(sm.APIP95)/float64(time.Millisecond), sm.At.Add(-sampleRetention))
	if err != nil {
		return fmt.Errorf("postgres: record health sample: %w", err)
	}
	return nil
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Claim lets the first caller for slot evaluate it: the one row of
// alert_evaluations moves forward only once per slot.
func (s *Health) Claim(ctx context.Context, slot time.Time) (bool, error) {
	tag, err := s.q.Exec(ctx, `UPDATE alert_evaluations SET last_slot = $1 WHERE last_slot < $1`, slot)
	if err != nil {
		return false, fmt.Errorf("postgres: claim alert evaluation: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Transition moves measure to level under its row lock; announce runs only
// on a change, and the change is stored only when it succeeds.
func (s *Health) Transition(ctx context.Context, measure string, to ops.Level, value float64, at time.Time,
	announce func(from ops.Level) error,
) (bool, error) {
	changed := false
	err := pgx.BeginFunc(ctx, s.q, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO alert_levels (measure, level, value, changed_at) VALUES ($1, 'ok', 0, $2)
			ON CONFLICT (measure) DO NOTHING`, measure, at); err != nil {
			return err
		}
		var fromText string
		if err := tx.QueryRow(ctx, `SELECT level FROM alert_levels WHERE measure = $1 FOR UPDATE`, measure).Scan(&fromText); err != nil {
			return err
		}
		from, err := ops.ParseLevel(fromText)
		if err != nil {
			return err
		}
		if from == to {
			return nil
		}
		if err := announce(from); err != nil {
			return err
		}
		changed = true
		_, err = tx.Exec(ctx, `UPDATE alert_levels SET level = $2, value = $3, changed_at = $4 WHERE measure = $1`, measure, string(to), value, at)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: alert level of %s: %w", measure, err)
	}
	return changed, nil
}
