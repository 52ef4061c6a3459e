package messaging

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// fastConfig keeps retries and polls short so tests run quickly.
var fastConfig = RouterConfig{
	RetryInitialInterval: 20 * time.Millisecond,
	RetryMaxInterval:     100 * time.Millisecond,
	PollInterval:         50 * time.Millisecond,
	HandlerTimeout:       5 * time.Second,
	AckDeadline:          15 * time.Second,
}

// newPool returns a pool of maxConns connections on a fresh, migrated
// database.
func newPool(tb testing.TB, maxConns int32) *pgxpool.Pool {
	tb.Helper()
	return poolOn(tb, testdb.NewURL(tb), maxConns)
}

// poolOn returns another pool (other connections) on the database at url.
func poolOn(tb testing.TB, url string, maxConns int32) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// testLogger logs warnings and errors to the test log while the test runs.
func testLogger(tb testing.TB) *slog.Logger {
	w := &tbWriter{tb: tb}
	tb.Cleanup(w.stop) // registered first, so it runs after the routers close
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tbWriter struct {
	mu   sync.Mutex
	tb   testing.TB
	done bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.tb.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func (w *tbWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// alerts records the alerts raised.
type alerts struct {
	mu  sync.Mutex
	got []ports.Alert
}

func (a *alerts) Alert(_ context.Context, al ports.Alert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, al)
	return nil
}

func (a *alerts) all() []ports.Alert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]ports.Alert(nil), a.got...)
}

// newRouter builds a router on pool with cfg and alerter; handlers are added
// by add before it starts. The router is closed when the test ends.
func newRouter(tb testing.TB, pool *pgxpool.Pool, cfg RouterConfig, alerter ports.Alerter, add func(r *Router)) *Router {
	tb.Helper()
	r, err := NewRouter(pool, testLogger(tb), alerter, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if add != nil {
		add(r)
	}
	startRouter(tb, r)
	return r
}

func startRouter(tb testing.TB, r *Router) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	tb.Cleanup(func() {
		_ = r.Close()
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("router: %v", err)
		}
	})
	select {
	case <-r.Running():
	case err := <-done:
		done <- err
		tb.Fatalf("router did not start: %v", err)
	case <-time.After(10 * time.Second):
		tb.Fatal("router did not start in 10s")
	}
}

func mustAdd(tb testing.TB, r *Router, name, topic string, fn HandlerFunc, opts ...HandlerOption) {
	tb.Helper()
	if err := r.AddHandler(name, topic, fn, opts...); err != nil {
		tb.Fatal(err)
	}
}

// eventually polls cond until it holds or timeout passes.
func eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rows counts the rows of a table.
func rows(tb testing.TB, pool *pgxpool.Pool, table string) int {
	tb.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func publish(tb testing.TB, pool *pgxpool.Pool, topic string, payloads ...string) []string {
	tb.Helper()
	msgs := make([]ports.Message, len(payloads))
	ids := make([]string, len(payloads))
	for i, p := range payloads {
		ids[i] = watermill.NewUUID()
		msgs[i] = ports.Message{ID: ids[i], Topic: topic, Payload: []byte(p)}
	}
	if err := NewPublisher(pool).Publish(context.Background(), msgs...); err != nil {
		tb.Fatal(err)
	}
	return ids
}

func openDeadLetters(tb testing.TB, pool *pgxpool.Pool) []ports.DeadLetter {
	tb.Helper()
	dls, err := NewDeadLetterStore(pool).List(context.Background(), ports.DeadLetterOpen, 100)
	if err != nil {
		tb.Fatal(err)
	}
	return dls
}
