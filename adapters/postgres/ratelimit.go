package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/ports"
)

// RateLimiter keeps every caller's allowance in the rate_limits table, so
// all replicas spend from one allowance. It implements the generic cell
// rate algorithm (GCRA): each row holds a theoretical arrival time (tat)
// that moves ahead by Period/Limit per unit spent; units are refused while
// that would put tat more than one Period ahead of now. A statement is an
// UPSERT that updates no indexed column (a HOT update on an unlogged
// table), and the database's clock is the only clock.
//
// Two local shortcuts keep most requests from reaching the database, and
// neither ever admits more than the shared allowance:
//   - a lease: for a large allowance, one statement spends 1% of it at once
//     (at most 100 units) and this process hands those units out for up
//     to a second. Units leased and not used are lost, so with R replicas
//     a caller may be admitted up to R% less than the limit, never more.
//   - a refusal: after the database refuses a caller, this process refuses
//     them until the wait it named, without asking again (tat only moves
//     forward, so no replica can free a unit sooner).
type RateLimiter struct {
	pool *pgxpool.Pool
	// lastSweep is when this process last swept, in Unix nanoseconds.
	lastSweep atomic.Int64

	mu     sync.Mutex
	locals map[string]*localAllowance
}

// localAllowance is what this process holds for one caller and rate.
type localAllowance struct {
	rate ports.Rate
	// left units of a lease valid until leaseUntil.
	left       int
	leaseUntil time.Time
	// refusedUntil: the database refused this caller until then.
	refusedUntil time.Time
	// singlesUntil: a whole lease does not fit until then; take one unit
	// at a time.
	singlesUntil time.Time
}

const (
	// rateLimitSweepEvery is how often each process deletes the rows of
	// callers whose allowance is full again, from a Take that finds it due.
	rateLimitSweepEvery = time.Minute
	// leaseFor is how long leased units may be handed out.
	leaseFor = time.Second
	// maxLease bounds the units one statement leases.
	maxLease = 100
	// maxLocals bounds the callers this process remembers; past it, takes
	// go to the database one by one.
	maxLocals = 100_000
)

var _ ports.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns a limiter over the pool.
func NewRateLimiter(pool *pgxpool.Pool) *RateLimiter {
	l := &RateLimiter{pool: pool, locals: map[string]*localAllowance{}}
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
	lease := min(rate.Limit/100, maxLease)
	if n != 1 || lease < 2 {
		return l.take(ctx, key, n, rate)
	}
	now := time.Now()
	d, ok, singles := l.local(key, rate, now)
	if ok {
		return d, nil
	}
	if !singles {
		d, err := l.take(ctx, key, lease, rate)
		if err != nil {
			return d, err
		}
		if d.Allowed {
			l.remember(key, rate, now, func(a *localAllowance) {
				if !now.Before(a.leaseUntil) {
					a.left = 0 // the old lease is over
				}
				a.left, a.leaseUntil = a.left+lease-1, now.Add(leaseFor)
			})
			return d, nil
		}
		// A whole lease fits again only after this wait; until then, one
		// unit per statement, as without leases.
		l.remember(key, rate, now, func(a *localAllowance) { a.singlesUntil = now.Add(d.RetryAfter) })
	}
	d, err := l.take(ctx, key, 1, rate)
	if err != nil || d.Allowed {
		return d, err
	}
	l.remember(key, rate, now, func(a *localAllowance) { a.refusedUntil = now.Add(d.RetryAfter) })
	return d, nil
}

// local answers from this process's lease or refusal for the caller, when
// it has one that is still valid (ok); otherwise it says whether to take
// single units instead of a lease.
func (l *RateLimiter) local(key string, rate ports.Rate, now time.Time) (d ports.RateDecision, ok, singles bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, found := l.locals[key]
	switch {
	case !found || a.rate != rate:
		return ports.RateDecision{}, false, false
	case a.left > 0 && now.Before(a.leaseUntil):
		a.left--
		return ports.RateDecision{Allowed: true}, true, false
	case now.Before(a.refusedUntil):
		return ports.RateDecision{RetryAfter: a.refusedUntil.Sub(now)}, true, false
	default:
		return ports.RateDecision{}, false, now.Before(a.singlesUntil)
	}
}

// remember records a lease or a refusal for the caller, replacing what was
// held; when this process already remembers too many callers it first
// forgets the stale ones, and remembers nothing if that is not enough.
func (l *RateLimiter) remember(key string, rate ports.Rate, now time.Time, set func(*localAllowance)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.locals[key]; !ok && len(l.locals) >= maxLocals {
		for k, a := range l.locals {
			if !now.Before(a.leaseUntil) && !now.Before(a.refusedUntil) && !now.Before(a.singlesUntil) {
				delete(l.locals, k)
			}
		}
		if len(l.locals) >= maxLocals {
			return
		}
	}
	a, ok := l.locals[key]
	if !ok || a.rate != rate {
		a = &localAllowance{rate: rate}
		l.locals[key] = a
	}
	set(a)
}

// take is one statement: n units of key's allowance, or none.
func (l *RateLimiter) take(ctx context.Context, key string, n int, rate ports.Rate) (ports.RateDecision, error) {
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
