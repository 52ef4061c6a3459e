package messaging

import (
	"context"
	"log/slog"
	"maps"
	"math"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

// Metadata a message carries between its deliveries after transient errors.
// They are stripped from its dead letter (which counts them itself).
const (
	metaRetryDeferrals = "retry_deferrals"  // how many times it was re-delivered later
	metaRetryAttempts  = "retry_attempts"   // attempts made in those earlier deliveries
	metaRetryFirstFail = "retry_first_fail" // RFC 3339: its first failure
)

// retryState is what a message's metadata says of its earlier deliveries.
type retryState struct {
	deferrals     int
	attempts      int
	firstFailedAt time.Time
}

func readRetryState(md message.Metadata) retryState {
	var s retryState
	s.deferrals, _ = strconv.Atoi(md.Get(metaRetryDeferrals))
	s.attempts, _ = strconv.Atoi(md.Get(metaRetryAttempts))
	s.firstFailedAt, _ = time.Parse(time.RFC3339Nano, md.Get(metaRetryFirstFail))
	s.deferrals, s.attempts = max(s.deferrals, 0), max(s.attempts, 0)
	return s
}

func withoutRetryState(md message.Metadata) message.Metadata {
	out := maps.Clone(md)
	delete(out, metaRetryDeferrals)
	delete(out, metaRetryAttempts)
	delete(out, metaRetryFirstFail)
	return out
}

// firstFailure is the time the message first failed, over all deliveries.
func (d *delivery) firstFailure() time.Time {
	if !d.earlier.firstFailedAt.IsZero() {
		return d.earlier.firstFailedAt
	}
	if !d.firstFailedAt.IsZero() {
		return d.firstFailedAt
	}
	return time.Now()
}

// withinBudget reports whether a transient failure is re-delivered later
// rather than dead-lettered: always while the provider's circuit breaker is
// open (the call was not even made), otherwise until TransientRetryBudget
// has passed since the message first failed.
func (r *Router) withinBudget(d *delivery, t *ports.TransientError) bool {
	if t.CircuitOpen {
		return true
	}
	return time.Since(d.firstFailure()) < r.cfg.TransientRetryBudget
}

// transientWait is the wait before re-delivery number n+1 (n earlier
// ones): TransientRetryInitial × RetryMultiplier^n, jittered, at most
// TransientRetryMax, and never shorter than what the provider asked for.
func (r *Router) transientWait(n int, retryAfter time.Duration) time.Duration {
	backoff := float64(r.cfg.TransientRetryInitial) * math.Pow(r.cfg.RetryMultiplier, float64(min(n, 64)))
	wait := jitter(time.Duration(min(backoff, float64(r.cfg.TransientRetryMax))), r.cfg.RetryJitter)
	return max(min(wait, r.cfg.TransientRetryMax), retryAfter)
}

// deferRetry re-delivers the message to its topic later: a copy (same id,
// payload and metadata, plus the retry state) goes to the scheduled
// messages, in the subscriber's transaction, and the message is then acked.
// The copy and the ack commit together, so the message is never lost, and
// no claim or transaction is held open during the wait.
func (r *Router) deferRetry(msg *message.Message, d *delivery, t *ports.TransientError, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(msg.Context()), deadLetterWriteMargin)
	defer cancel()
	stx, err := subscriberTxFrom(ctx)
	if err != nil {
		return err
	}
	wait := r.transientWait(d.earlier.deferrals, t.RetryAfter)
	at := time.Now().Add(wait).Add(time.Microsecond - 1).Truncate(time.Microsecond).UTC()
	out := message.NewMessage(msg.UUID, msg.Payload)
	out.Metadata = maps.Clone(msg.Metadata)
	delete(out.Metadata, "scheduled_for")
	out.Metadata.Set(metaTargetTopic, d.topic)
	out.Metadata.Set(metaDeliverAt, at.Format(time.RFC3339Nano))
	out.Metadata.Set(metaRetryDeferrals, strconv.Itoa(d.earlier.deferrals+1))
	out.Metadata.Set(metaRetryAttempts, strconv.Itoa(d.earlier.attempts+max(d.attempts, 1)))
	out.Metadata.Set(metaRetryFirstFail, d.firstFailure().UTC().Format(time.RFC3339Nano))
	err = stx.within(ctx, func(tx pgx.Tx) error {
		return NewTxPublisher(tx).insertOne(ctx, TopicDelayed, out)
	})
	if err != nil {
		return err
	}
	r.logger.Log(ctx, slog.LevelWarn, "messaging: provider unavailable, message will be delivered again later",
		"handler", d.handler, "topic", d.topic, "message_id", msg.UUID,
		"provider", t.Provider, "circuit_open", t.CircuitOpen,
		"deferrals", d.earlier.deferrals+1, "retry_in", wait, "error", cause.Error())
	return nil
}
