package messaging

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

// TestDeadLetterHookRunsInTheDeadLettersTransaction: a handler's hook sees
// the dead letter inside its transaction (so what it writes commits with
// it), gets the message, and a failing hook rolls the dead letter back: the
// message is delivered again, and dead-lettered once the hook succeeds.
func TestDeadLetterHookRunsInTheDeadLettersTransaction(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	var hooks, handled atomic.Int32
	var sawOwn atomic.Bool
	newRouter(t, pool, fastConfig, &alerts{}, func(r *Router) {
		mustAdd(t, r, "hooked", ports.TopicJobRun, func(context.Context, ports.Message) error {
			handled.Add(1)
			return ports.Permanent(errors.New("broken body"))
		}, WithDeadLetterHook(func(ctx context.Context, tx pgx.Tx, msg ports.Message) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM dead_letters WHERE message_id = $1 AND status = 'open'`, msg.ID).Scan(&n); err != nil {
				return err
			}
			sawOwn.Store(n == 1 && string(msg.Payload) == `{"run_id":"r1"}` && msg.Topic == ports.TopicJobRun)
			if hooks.Add(1) == 1 {
				return errors.New("the hook's write failed")
			}
			return nil
		}))
	})
	publish(t, pool, ports.TopicJobRun, `{"run_id":"r1"}`)
	eventually(t, 20*time.Second, "dead letter recorded after the hook succeeds", func() bool { return len(openDeadLetters(t, pool)) == 1 })
	time.Sleep(300 * time.Millisecond)
	if hooks.Load() != 2 || handled.Load() != 2 || !sawOwn.Load() || len(openDeadLetters(t, pool)) != 1 {
		t.Fatalf("hook ran %d times, handler %d, saw its dead letter %v, %d open dead letters; want 2, 2, true, 1",
			hooks.Load(), handled.Load(), sawOwn.Load(), len(openDeadLetters(t, pool)))
	}
}
