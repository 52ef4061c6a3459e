package messaging

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/womendefiningai/platform/ports"
)

// recordingExecer answers every Exec with an empty command tag, as a unit of
// work that queues the statement does.
type recordingExecer struct{ sqls []string }

func (r *recordingExecer) Exec(_ context.Context, sql string, _ ...any) (pgconn.CommandTag, error) {
	r.sqls = append(r.sqls, sql)
	return pgconn.CommandTag{}, nil
}

func TestTxPublisherAndSchedulerNeedOnlyAnExecWhoseResultTheyIgnore(t *testing.T) {
	ctx := context.Background()
	db := &recordingExecer{}
	msgs := make([]ports.Message, 0, maxRowsPerInsert+2)
	for range maxRowsPerInsert + 1 {
		msgs = append(msgs, ports.Message{Topic: ports.TopicBillingEvent, Payload: []byte(`{}`)})
	}
	msgs = append(msgs, ports.Message{Topic: ports.TopicPersonEmailChanged, Payload: []byte(`{}`)})
	if err := NewTxPublisher(db).Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	if err := NewTxScheduler(db).ScheduleAt(ctx, ports.TopicBillingEvent, []byte(`{}`), time.Now()); err != nil {
		t.Fatal(err)
	}
	want := []string{tableName(ports.TopicBillingEvent), tableName(ports.TopicBillingEvent), tableName(ports.TopicPersonEmailChanged), tableName(TopicDelayed)}
	if len(db.sqls) != len(want) {
		t.Fatalf("%d statements, want %d: %v", len(db.sqls), len(want), db.sqls)
	}
	for i, sql := range db.sqls {
		if !strings.HasPrefix(sql, "INSERT INTO "+want[i]+" ") {
			t.Errorf("statement %d = %.60s…, want an INSERT into %s", i, sql, want[i])
		}
	}
}
