package messaging

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// Metadata keys of scheduled messages.
const (
	metaTargetTopic = "target_topic" // the topic a scheduled message is delivered to
	metaDeliverAt   = "deliver_at"   // RFC 3339 with nanoseconds; not delivered before
)

// queueSchema is Watermill's PostgreSQL queue schema (one table per topic, no
// consumer groups) with the guard against Defect 5 (docs/messaging.md): rows
// are claimed with FOR UPDATE SKIP LOCKED at READ COMMITTED, so concurrent
// subscribers (in one process or many) each take different rows instead of
// queueing on the first one's locks and reading the serialization failure as
// "no messages".
//
// For TopicDelayed it selects only the rows whose deliver_at has passed, in
// deliver_at order, and fills deliver_at from the metadata on insert.
//
// Tables come from migrations: SchemaInitializingQueries creates nothing.
//
// A claim takes batchSize rows, or, with backlogPerRow set, one row per
// backlogPerRow queued messages, between 1 and batchSize: while the queue is
// short every claim is one row (a slow message holds up no other), and a
// deep backlog is drained in bigger claims (fewer round trips per message).
// The backlog is read from the ends of the primary key (max - min offset),
// which costs two index probes.
type queueSchema struct {
	batchSize     int
	backlogPerRow int
}

func (s queueSchema) SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}

func (s queueSchema) SubscribeIsolationLevel() sql.IsolationLevel {
	return sql.LevelReadCommitted
}

func (s queueSchema) SelectQuery(p wsql.SelectQueryParams) (wsql.Query, error) {
	if p.ConsumerGroup != "" {
		return wsql.Query{}, errors.New("messaging: the queue schema has no consumer groups")
	}
	if err := checkTopic(p.Topic); err != nil {
		return wsql.Query{}, err
	}
	batch := s.batchSize
	if batch <= 0 {
		batch = defaultBatchSize
	}
	where, order := `acked = false`, `"offset"`
	if p.Topic == TopicDelayed {
		where, order = `acked = false AND deliver_at <= now()`, `deliver_at, "offset"`
	}
	limit := strconv.Itoa(batch)
	if s.backlogPerRow > 0 && batch > 1 && p.Topic != TopicDelayed {
		limit = `(SELECT LEAST(` + limit + `, GREATEST(1, (max("offset") - min("offset") + 1) / ` +
			strconv.Itoa(s.backlogPerRow) + `)) FROM ` + tableName(p.Topic) + `)`
	}
	q := `SELECT "offset", uuid, payload, metadata FROM ` + tableName(p.Topic) +
		` WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ` + limit +
		` FOR UPDATE SKIP LOCKED`
	return wsql.Query{Query: q}, nil
}

func (s queueSchema) InsertQuery(p wsql.InsertQueryParams) (wsql.Query, error) {
	if err := checkTopic(p.Topic); err != nil {
		return wsql.Query{}, err
	}
	delayed := p.Topic == TopicDelayed
	cols, per := `(uuid, payload, metadata)`, 3
	if delayed {
		cols, per = `(uuid, payload, metadata, deliver_at)`, 4
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO ` + tableName(p.Topic) + ` ` + cols + ` VALUES `)
	args := make([]any, 0, len(p.Msgs)*per)
	for i, msg := range p.Msgs {
		if i > 0 {
			b.WriteByte(',')
		}
		n := i * per
		if delayed {
			fmt.Fprintf(&b, "($%d,$%d,$%d,$%d)", n+1, n+2, n+3, n+4)
		} else {
			fmt.Fprintf(&b, "($%d,$%d,$%d)", n+1, n+2, n+3)
		}
		meta, err := json.Marshal(msg.Metadata)
		if err != nil {
			return wsql.Query{}, fmt.Errorf("messaging: metadata of %s: %w", msg.UUID, err)
		}
		args = append(args, msg.UUID, []byte(msg.Payload), meta)
		if delayed {
			at, err := time.Parse(time.RFC3339Nano, msg.Metadata.Get(metaDeliverAt))
			if err != nil {
				return wsql.Query{}, fmt.Errorf("messaging: scheduled message %s has no valid %s: %w", msg.UUID, metaDeliverAt, err)
			}
			args = append(args, at)
		}
	}
	return wsql.Query{Query: b.String(), Args: args}, nil
}

func (s queueSchema) UnmarshalMessage(p wsql.UnmarshalMessageParams) (wsql.Row, error) {
	var r wsql.Row
	if err := p.Row.Scan(&r.Offset, &r.UUID, &r.Payload, &r.Metadata); err != nil {
		return wsql.Row{}, fmt.Errorf("messaging: scan message row: %w", err)
	}
	msg := message.NewMessage(string(r.UUID), r.Payload)
	if len(r.Metadata) > 0 {
		if err := json.Unmarshal(r.Metadata, &msg.Metadata); err != nil {
			return wsql.Row{}, fmt.Errorf("messaging: metadata of %s: %w", msg.UUID, err)
		}
	}
	if msg.Metadata == nil {
		msg.Metadata = message.Metadata{}
	}
	r.Msg = msg
	return r, nil
}

// ackedRowsOnly is the offsets adapter of the queue schema with the guard
// against Defect 1 (docs/messaging.md). Watermill's subscriber reads a batch,
// delivers its rows in order and stops at the first row that is not acked (its
// ack deadline passed, or the subscriber is closing); it then runs the ack
// query for the batch. The library's query covers every row of the batch,
// deleting rows that were never delivered. This one covers only the rows up to
// the last acked one (LastRow); the others stay in the table, unlocked at
// commit, and are delivered again.
//
// Acked rows are deleted, never kept (Defect 7 in docs/messaging.md cannot
// arise: a poll scans only the backlog).
type ackedRowsOnly struct{}

func (ackedRowsOnly) AckMessageQuery(p wsql.AckMessageQueryParams) (wsql.Query, error) {
	if p.ConsumerGroup != "" {
		return wsql.Query{}, errors.New("messaging: the queue schema has no consumer groups")
	}
	if err := checkTopic(p.Topic); err != nil {
		return wsql.Query{}, err
	}
	offsets, err := ackedPrefix(p.Rows, p.LastRow)
	if err != nil {
		return wsql.Query{}, err
	}
	return wsql.Query{
		Query: ackQueryMarker + `DELETE FROM ` + tableName(p.Topic) + ` WHERE "offset" = ANY($1)`,
		Args:  []any{offsets},
	}, nil
}

// ackedPrefix returns the offsets of rows, in delivery order, up to and
// including last. It fails rather than ack rows it cannot vouch for.
func ackedPrefix(rows []wsql.Row, last wsql.Row) ([]int64, error) {
	offsets := make([]int64, 0, len(rows))
	for _, r := range rows {
		offsets = append(offsets, r.Offset)
		if r.Offset == last.Offset {
			return offsets, nil
		}
	}
	return nil, fmt.Errorf("messaging: last acked offset %d is not in the batch", last.Offset)
}

func (ackedRowsOnly) ConsumedMessageQuery(wsql.ConsumedMessageQueryParams) (wsql.Query, error) {
	return wsql.Query{}, nil
}

func (ackedRowsOnly) NextOffsetQuery(wsql.NextOffsetQueryParams) (wsql.Query, error) {
	return wsql.Query{}, nil
}

func (ackedRowsOnly) SchemaInitializingQueries(wsql.OffsetsSchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}

func (ackedRowsOnly) BeforeSubscribingQueries(wsql.BeforeSubscribingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}
