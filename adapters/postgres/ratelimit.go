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
//   - a lease: for a caller who sends this process requests faster than
//     one a second, one statement spends as many units as their pace fills
//     in a second (at most 1% of the allowance, and 100), and this process
//     hands those units out for up to a second. Units leased and not used
//     are lost, so with R replicas a caller may be admitted up to R% less
//     than the limit, never more; a caller who sends a request now and then
//     is never leased more than one unit.
//   - a refusal: after the database refuses a caller, this process refuses
//     them until the wait it named, without asking again (tat only moves
//     forward, so no replica can free a unit sooner).
type RateLimiter struct {
	pool *pgxpool.Pool
	// lastSweep is when this process last swept, in Unix nanoseconds.
	lastSweep atomic.Int64

	mu     sync.Mutex
	locals map[string]*localAllowance
	pruned time.Time // when locals was last pruned
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
	// The caller's pace at this process: the time of their last take and
	// a moving average of the time between takes (0 before the second).
	lastTake time.Time
	interval time.Duration
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
	limitLease := min(rate.Limit/100, maxLease)
	if n != 1 || limitLease < 2 {
		return l.take(ctx, key, n, rate)
	}
	now := time.Now()
	d, ok, lease := l.local(key, rate, now, limitLease)
	if ok {
		return d, nil
	}
	if lease >= 2 {
		d, err := l.take(ctx, key, lease, rate)
		if err != nil {
			return d, err
		}
		if d.Allowed {
			l.update(key, rate, func(a *localAllowance) {
				if !now.Before(a.leaseUntil) {
					a.left = 0 // the old lease is over
				}
				a.left, a.leaseUntil = a.left+lease-1, now.Add(leaseFor)
			})
			return d, nil
		}
		// A whole lease fits again only after this wait; until then, one
		// unit per statement, as without leases.
		l.update(key, rate, func(a *localAllowance) { a.singlesUntil = now.Add(d.RetryAfter) })
	}
	d, err := l.take(ctx, key, 1, rate)
	if err != nil || d.Allowed {
		return d, err
	}
	l.update(key, rate, func(a *localAllowance) { a.refusedUntil = now.Add(d.RetryAfter) })
	return d, nil
}

// local counts the take towards the caller's pace and answers from this
// process's lease or refusal when it holds a valid one (ok). Otherwise it
// returns the lease to ask for: the takes their pace fills in leaseFor, at
// most limitLease, or less than 2 for one unit at a time.
func (l *RateLimiter) local(key string, rate ports.Rate, now time.Time, limitLease int) (d ports.RateDecision, ok bool, lease int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, found := l.locals[key]
	if !found || a.rate != rate {
		if !found && !l.roomLocked(now) {
			return ports.RateDecision{}, false, 0
		}
		a = &localAllowance{rate: rate}
		l.locals[key] = a
	}
	if !a.lastTake.IsZero() {
		gap := max(now.Sub(a.lastTake), time.Microsecond)
		if a.interval == 0 {
			a.interval = gap
		} else {
			a.interval = (3*a.interval + gap) / 4
		}
	}
	a.lastTake = now
	switch {
	case a.left > 0 && now.Before(a.leaseUntil):
		a.left--
		return ports.RateDecision{Allowed: true}, true, 0
	case now.Before(a.refusedUntil):
		return ports.RateDecision{RetryAfter: a.refusedUntil.Sub(now)}, true, 0
	case now.Before(a.singlesUntil):
		return ports.RateDecision{}, false, 0
	case a.interval == 0:
		return ports.RateDecision{}, false, 0
	default:
		return ports.RateDecision{}, false, int(min(leaseFor/a.interval, time.Duration(limitLease)))
	}
}

// roomLocked reports whether another caller may be remembered. When this
// process already remembers too many it forgets, at most once a second,
// the callers idle for a second that hold nothing. l.mu is held.
func (l *RateLimiter) roomLocked(now time.Time) bool {
	if len(l.locals) < maxLocals {
		return true
	}
	if now.Sub(l.pruned) < time.Second {
		return false
	}
	l.pruned = now
	for k, a := range l.locals {
		if now.Sub(a.lastTake) >= time.Second && !now.Before(a.leaseUntil) && !now.Before(a.refusedUntil) && !now.Before(a.singlesUntil) {
			delete(l.locals, k)
		}
	}
	return len(l.locals) < maxLocals
}

// update changes what this process holds for the caller, if it remembers
// them.
func (l *RateLimiter) update(key string, rate ports.Rate, set func(*localAllowance)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a, ok := l.locals[key]; ok && a.rate == rate {
		set(a)
	}
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
