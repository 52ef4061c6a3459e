package messaging

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/ports"
)

// maxRowsPerInsert keeps one INSERT under PostgreSQL's 65,535 parameters.
const maxRowsPerInsert = 1000

// Execer runs a statement whose result the caller does not need. A pool, a
// pgx.Tx and a unit of work's transaction (which may queue the statement and
// send it with the next one, reporting its error at the latest at commit)
// all satisfy it.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Publisher implements ports.Publisher: it inserts the messages into the
// topics' tables with the queue schema's INSERT, which Watermill's subscribers
// read. Built with NewTxPublisher it writes in the caller's transaction (the
// transactional outbox); built with NewPublisher it writes on the pool.
type Publisher struct {
	pool *pgxpool.Pool // set for a pool publisher
	tx   Execer        // set for a transactional publisher
}

var _ ports.Publisher = (*Publisher)(nil)

// NewPublisher returns a publisher outside any transaction. Each Publish call
// is still atomic: several statements run in one transaction.
func NewPublisher(pool *pgxpool.Pool) *Publisher { return &Publisher{pool: pool} }

// NewTxPublisher returns a publisher that writes in tx: the messages are
// delivered if and only if tx commits. Build one per transaction (it does no
// I/O when built); commit or roll back tx yourself. It never reads the
// result of its statements, so tx may defer them.
func NewTxPublisher(tx Execer) *Publisher { return &Publisher{tx: tx} }

// Publish stores msgs on their topics, in order within each topic. Messages
// without an ID get a new one; every message carries a correlation id, taken
// from ctx (ports.WithCorrelationID) when the metadata has none, else new.
func (p *Publisher) Publish(ctx context.Context, msgs ...ports.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	byTopic := make(map[string][]*message.Message)
	var order []string
	for _, m := range msgs {
		if err := checkDeliverable(m.Topic); err != nil {
			return err
		}
		if _, seen := byTopic[m.Topic]; !seen {
			order = append(order, m.Topic)
		}
		byTopic[m.Topic] = append(byTopic[m.Topic], toWatermill(ctx, m))
	}
	return p.insert(ctx, order, byTopic)
}

func (p *Publisher) insert(ctx context.Context, topics []string, byTopic map[string][]*message.Message) error {
	type insert struct {
		topic string
		n     int
		q     wsql.Query
	}
	var inserts []insert
	for _, t := range topics {
		all := byTopic[t]
		for start := 0; start < len(all); start += maxRowsPerInsert {
			chunk := all[start:min(start+maxRowsPerInsert, len(all))]
			q, err := queueSchema{}.InsertQuery(wsql.InsertQueryParams{Topic: t, Msgs: chunk})
			if err != nil {
				return fmt.Errorf("messaging: publish %d message(s) to %s: %w", len(chunk), t, err)
			}
			inserts = append(inserts, insert{topic: t, n: len(chunk), q: q})
		}
	}
	run := func(db Execer) error {
		for _, in := range inserts {
			if _, err := db.Exec(ctx, in.q.Query, in.q.Args...); err != nil {
				return fmt.Errorf("messaging: publish %d message(s) to %s: %w", in.n, in.topic, err)
			}
		}
		return nil
	}
	var db any = p.pool // where the messages were written
	var err error
	switch {
	case p.tx != nil:
		db, err = p.tx, run(p.tx)
	case len(inserts) > 1:
		// Several statements on the pool: make them one transaction.
		err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error { return run(tx) })
	default:
		err = run(p.pool)
	}
	if err != nil {
		return err
	}
	signalOnceVisible(db, topics...)
	return nil
}

// insertOne stores one prepared message on topic (TopicDelayed included).
func (p *Publisher) insertOne(ctx context.Context, topic string, msg *message.Message) error {
	return p.insert(ctx, []string{topic}, map[string][]*message.Message{topic: {msg}})
}

func toWatermill(ctx context.Context, m ports.Message) *message.Message {
	id := m.ID
	if id == "" {
		id = watermill.NewUUID()
	}
	wm := message.NewMessage(id, m.Payload)
	wm.Metadata = make(message.Metadata, len(m.Metadata)+1)
	maps.Copy(wm.Metadata, m.Metadata)
	if wm.Metadata.Get(middleware.CorrelationIDMetadataKey) == "" {
		cid := ports.CorrelationID(ctx)
		if cid == "" {
			cid = watermill.NewUUID()
		}
		wm.Metadata.Set(middleware.CorrelationIDMetadataKey, cid)
	}
	wm.SetContext(ctx) // Watermill's publisher runs its INSERT with this context
	return wm
}

// Scheduler implements ports.Scheduler: a scheduled message waits in the
// TopicDelayed table until its time, then a router moves it to its topic.
type Scheduler struct{ pub *Publisher }

var _ ports.Scheduler = (*Scheduler)(nil)

// NewScheduler returns a scheduler outside any transaction.
func NewScheduler(pool *pgxpool.Pool) *Scheduler { return &Scheduler{pub: NewPublisher(pool)} }

// NewTxScheduler returns a scheduler that writes in tx: the message is
// scheduled if and only if tx commits.
func NewTxScheduler(tx Execer) *Scheduler { return &Scheduler{pub: NewTxPublisher(tx)} }

// ScheduleAt publishes payload to topic no earlier than at; a time in the
// past means as soon as possible. Delivery follows at within the router's
// poll interval (twice, at most: the scheduled table, then the topic's).
func (s *Scheduler) ScheduleAt(ctx context.Context, topic string, payload []byte, at time.Time) error {
	if err := checkDeliverable(topic); err != nil {
		return err
	}
	// PostgreSQL keeps microseconds: round up, never deliver early.
	at = at.Add(time.Microsecond - 1).Truncate(time.Microsecond).UTC()
	wm := toWatermill(ctx, ports.Message{Topic: TopicDelayed, Payload: payload})
	wm.Metadata.Set(metaTargetTopic, topic)
	wm.Metadata.Set(metaDeliverAt, at.Format(time.RFC3339Nano))
	if err := s.pub.insertOne(ctx, TopicDelayed, wm); err != nil {
		return fmt.Errorf("messaging: schedule %s at %s: %w", topic, at.Format(time.RFC3339), err)
	}
	return nil
}
