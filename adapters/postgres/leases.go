package postgres

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Waits between attempts to take a slot: from leaseWaitMin, doubling up to
// leaseWaitMax, with jitter.
const (
	leaseWaitMin = 5 * time.Millisecond
	leaseWaitMax = 250 * time.Millisecond
)

// ProviderLeases is a semaphore held in PostgreSQL: at most Size calls of
// one provider are in flight across every replica. Each call takes a free
// (or expired) slot of provider_leases with one statement and gives it back
// with another; a call that finds none waits and tries again, so work over
// the limit waits, it is never dropped. A slot is leased for TTL, which
// must outlast the call (the client's timeout): a replica that dies
// holding a slot frees it when the lease expires.
type ProviderLeases struct {
	pool     *pgxpool.Pool
	provider string
	size     int
	ttl      time.Duration
	// Waited, if set, is told each time a call has to wait.
	Waited func()

	seedMu sync.Mutex
	seeded atomic.Bool
}

// NewProviderLeases returns the semaphore of provider with size slots
// leased for ttl.
func NewProviderLeases(pool *pgxpool.Pool, provider string, size int, ttl time.Duration) (*ProviderLeases, error) {
	if pool == nil || provider == "" || size < 1 || ttl <= 0 {
		return nil, errors.New("postgres: provider leases: a pool, a provider, a size of at least 1 and a positive lease time are required")
	}
	return &ProviderLeases{pool: pool, provider: provider, size: size, ttl: ttl}, nil
}

// seed creates the provider's slots once per process (slots above size,
// left by an older configuration, are never taken). A failure is not
// remembered: the first call's deadline, or the database being away, must
// not stop every later call of the process.
func (l *ProviderLeases) seed(ctx context.Context) error {
	if l.seeded.Load() {
		return nil
	}
	l.seedMu.Lock()
	defer l.seedMu.Unlock()
	if l.seeded.Load() {
		return nil
	}
	_, err := l.pool.Exec(ctx, `INSERT INTO provider_leases (provider, slot) SELECT $1, g FROM generate_series(1, $2::int) g
		ON CONFLICT DO NOTHING`, l.provider, l.size)
	if err != nil {
		return fmt.Errorf("postgres: seed %s leases: %w", l.provider, err)
	}
	l.seeded.Store(true)
	return nil
}

const takeLeaseSQL = `
UPDATE provider_leases l SET holder = $3, expires_at = now() + $4::interval
FROM (SELECT slot FROM provider_leases
      WHERE provider = $1 AND slot <= $2 AND (holder IS NULL OR expires_at < now())
      ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED) free
WHERE l.provider = $1 AND l.slot = free.slot
RETURNING l.slot`

// Acquire waits for a slot until ctx ends and returns the func that gives
// it back (call it once the call's answer has been read).
func (l *ProviderLeases) Acquire(ctx context.Context) (func(), error) {
	if err := l.seed(ctx); err != nil {
		return nil, err
	}
	var b [8]byte
	_, _ = crand.Read(b[:])
	holder := hex.EncodeToString(b[:])
	wait := leaseWaitMin
	for waited := false; ; {
		var slot int
		err := l.pool.QueryRow(ctx, takeLeaseSQL, l.provider, l.size, holder, l.ttl).Scan(&slot)
		switch {
		case err == nil:
			return func() { l.release(context.WithoutCancel(ctx), slot, holder) }, nil
		case !errors.Is(err, pgx.ErrNoRows):
			return nil, fmt.Errorf("postgres: take a %s lease: %w", l.provider, err)
		}
		if !waited && l.Waited != nil {
			l.Waited()
		}
		waited = true
		t := time.NewTimer(wait/2 + rand.N(wait)) //nolint:gosec // jitter, not a secret
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for a %s connection slot: %w", l.provider, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, leaseWaitMax)
	}
}

// release gives the slot back, even when the caller's context has ended;
// if it fails, the lease expires on its own.
func (l *ProviderLeases) release(ctx context.Context, slot int, holder string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, _ = l.pool.Exec(ctx, `UPDATE provider_leases SET holder = NULL, expires_at = NULL
		WHERE provider = $1 AND slot = $2 AND holder = $3`, l.provider, slot, holder)
}
