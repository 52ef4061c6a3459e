package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
)

// A malformed DATABASE_URL is reported with the reason and the expected
// form, never with the URL (it may hold a password) or a Go type name; an
// unreachable server's refusal is said once.
func TestOpenErrorsSayWhatIsWrong(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, "postgres://ada:s3cret@db.example:notaport/wdai", postgres.PoolConfig{})
	if err == nil {
		t.Fatal("a malformed URL opened")
	}
	msg := err.Error()
	if strings.Contains(msg, "s3cret") || strings.Contains(msg, "*pgconn") || !strings.Contains(msg, "expected postgres://USER:PASSWORD@HOST:5432/DBNAME") ||
		!strings.Contains(msg, "invalid port") {
		t.Errorf("malformed URL: %s", msg)
	}
	_, err = postgres.Open(ctx, "postgres://ada:s3cret@127.0.0.1:1/wdai?connect_timeout=2", postgres.PoolConfig{})
	if err == nil {
		t.Fatal("an unreachable server opened")
	}
	msg = err.Error()
	if strings.Count(msg, "connection refused") != 1 || strings.Contains(msg, "s3cret") || !strings.Contains(msg, "cannot reach the database") {
		t.Errorf("unreachable server: %s", msg)
	}
	t.Logf("malformed and unreachable: %s", msg)
}
