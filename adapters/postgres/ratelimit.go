package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/ports"
)

// RateLimiter keeps every caller's allowance in the rate_limits table, so
// all replicas spend from one allowance. It implements the generic cell
// rate algorithm (GCRA): each row holds a theoretical arrival time (tat)
// that moves ahead by Period/Limit per unit spent; units are refused while
// that would put tat more than one Period ahead of now. One Take is one
// statement (an UPSERT that updates no indexed column, so a HOT update on
// an unlogged table), and the database's clock is the only clock.
type RateLimiter struct {
	pool *pgxpool.Pool
	// lastSweep is when this process last swept, in Unix nanoseconds.
	lastSweep atomic.Int64
}

// rateLimitSweepEvery is how often each process deletes the rows of
// callers whose allowance is full again, from a Take that finds it due.
const rateLimitSweepEvery = time.Minute

var _ ports.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns a limiter over the pool.
func NewRateLimiter(pool *pgxpool.Pool) *RateLimiter {
	l := &RateLimiter{pool: pool}
	l.lastSweep.Store(time.Now().UnixNano())
	return l
}

// $1 key, $2 the increment (n units) and $3 the period, both in
// microseconds. RETURNING sees the row as written: tat is the new one when
// allowed and the old one when refused, which is what the wait is computed
// from.
const takeSQL = `
INSERT INTO rate_limits AS r (key, tat, allowed)
VALUES ($1, CASE WHEN $2::bigint <= $3::bigint THEN now() + $2::bigint * interval '1 microsecond' ELSE now() END, $2::bigint <= $3::bigint)
ON CONFLICT (key) DO UPDATE SET
    allowed = greatest(r.tat, now()) + $2::bigint * interval '1 microsecond' <= now() + $3::bigint * interval '1 microsecond',
    tat = CASE WHEN greatest(r.tat, now()) + $2::bigint * interval '1 microsecond' <= now() + $3::bigint * interval '1 microsecond'
               THEN greatest(r.tat, now()) + $2::bigint * interval '1 microsecond' ELSE r.tat END
RETURNING allowed,
    (extract(epoch FROM greatest(tat, now()) + $2::bigint * interval '1 microsecond' - $3::bigint * interval '1 microsecond' - now()) * 1000000)::bigint`

// Take spends n units of key's allowance, or none.
func (l *RateLimiter) Take(ctx context.Context, key string, n int, rate ports.Rate) (ports.RateDecision, error) {
	if key == "" || n < 1 || rate.Limit < 1 || rate.Period < time.Microsecond*time.Duration(rate.Limit) {
		return ports.RateDecision{}, errors.New("postgres: rate limit: need a key, n >= 1 and a rate of at least 1µs per unit")
	}
	emission := rate.Period.Microseconds() / int64(rate.Limit)
	var d ports.RateDecision
	var waitMicros int64
	if err := l.pool.QueryRow(ctx, takeSQL, key, emission*int64(n), rate.Period.Microseconds()).Scan(&d.Allowed, &waitMicros); err != nil {
		return ports.RateDecision{}, fmt.Errorf("postgres: rate limit: %w", err)
	}
	if !d.Allowed {
		d.RetryAfter = max(time.Duration(waitMicros)*time.Microsecond, time.Microsecond)
	}
	l.sweepIfDue(ctx)
	return d, nil
}

// sweepIfDue starts one sweep in the background when a minute has passed
// since this process's last one, so that the table holds only callers seen
// recently without a scheduler of its own.
func (l *RateLimiter) sweepIfDue(ctx context.Context) {
	now, last := time.Now().UnixNano(), l.lastSweep.Load()
	if now-last < int64(rateLimitSweepEvery) || !l.lastSweep.CompareAndSwap(last, now) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = l.Sweep(ctx) // a failed sweep leaves rows for the next one
	}()
}

// Sweep deletes the rows of callers whose allowance is full again (tat in
// the past): they mean the same as no row. It returns how many went.
func (l *RateLimiter) Sweep(ctx context.Context) (int64, error) {
	tag, err := l.pool.Exec(ctx, `DELETE FROM rate_limits WHERE tat < now()`)
	if err != nil {
		return 0, fmt.Errorf("postgres: sweep rate limits: %w", err)
	}
	return tag.RowsAffected(), nil
}
