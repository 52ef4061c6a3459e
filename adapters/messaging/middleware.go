package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/internal/text"
	"github.com/womendefiningai/platform/ports"
)

// delivery is what the chain learns about one delivery of a message.
type delivery struct {
	// base is the subscriber's context for the message. Once it is done the
	// subscriber no longer waits for the ack (shutdown, ack deadline) and
	// will deliver the message again, so it must not be dead-lettered.
	base          context.Context
	handler       string
	topic         string
	attempts      int
	firstFailedAt time.Time
	lastFailedAt  time.Time
	// earlier is what the message's metadata says of its earlier
	// deliveries (re-deliveries after transient errors).
	earlier retryState
}

type deliveryKey struct{}

func deliveryFrom(ctx context.Context) *delivery {
	d, _ := ctx.Value(deliveryKey{}).(*delivery)
	if d == nil {
		d = &delivery{base: ctx}
	}
	return d
}

// correlate (outermost) opens the delivery record and puts the message's
// correlation id in the context, so that messages the handler publishes
// carry it on.
func (r *Router) correlate(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		ctx := msg.Context()
		d := &delivery{
			base:    ctx,
			handler: handlerOf(message.HandlerNameFromCtx(ctx)),
			topic:   message.SubscribeTopicFromCtx(ctx),
			earlier: readRetryState(msg.Metadata),
		}
		cid := middleware.MessageCorrelationID(msg)
		if cid == "" {
			cid = msg.UUID
		}
		ctx = context.WithValue(ports.WithCorrelationID(ctx, cid), deliveryKey{}, d)
		msg.SetContext(ctx)
		return h(msg)
	}
}

// timeout bounds one delivery of a message by its handler's timeout
// (WithTimeout, else HandlerTimeout).
func (r *Router) timeout(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		d := deliveryFrom(msg.Context())
		limit, ok := r.timeouts[d.handler]
		if !ok {
			limit = r.cfg.HandlerTimeout
		}
		ctx, cancel := context.WithTimeout(msg.Context(), limit)
		defer cancel()
		msg.SetContext(ctx)
		return h(msg)
	}
}

// retry calls the handler again after an error, up to MaxRetries times, with
// exponential backoff and jitter; it counts the attempts. A permanent or a
// transient error (which the settle step re-delivers later), or the end of
// the delivery's time (the handler's timeout), ends the retries.
func (r *Router) retry(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		ctx := msg.Context()
		d := deliveryFrom(ctx)
		wait := r.cfg.RetryInitialInterval
		for {
			d.attempts++
			msg.SetContext(ctx) // every attempt starts from the same context
			out, err := h(msg)
			if err == nil {
				return out, nil
			}
			now := time.Now()
			if d.firstFailedAt.IsZero() {
				d.firstFailedAt = now
			}
			d.lastFailedAt = now
			if ports.IsPermanent(err) || ports.IsTransient(err) || d.attempts > r.cfg.MaxRetries {
				return nil, err
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w (no more retries: %w)", err, context.Cause(ctx))
			}
			pause := jitter(wait, r.cfg.RetryJitter)
			r.logger.Log(ctx, slog.LevelWarn, "messaging: handler failed, will retry",
				"handler", d.handler, "topic", d.topic,
				"message_id", msg.UUID, "attempt", d.attempts,
				"retry_in", pause, "error", err.Error())
			timer := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				timer.Stop()
				return nil, fmt.Errorf("%w (no more retries: %w)", err, context.Cause(ctx))
			case <-timer.C:
			}
			wait = min(time.Duration(float64(wait)*r.cfg.RetryMultiplier), r.cfg.RetryMaxInterval)
		}
	}
}

func jitter(d time.Duration, factor float64) time.Duration {
	return time.Duration(float64(d) * (1 + factor*(2*rand.Float64()-1))) //nolint:gosec // spreading retries needs no secure randomness
}

// settle decides what becomes of a message whose handler still fails once
// the quick retries are spent (or skipped):
//
//   - a transient error within the retry budget, or any error while the
//     provider's circuit breaker is open: re-delivered later (deferRetry);
//   - anything else: the poison queue. The message is written to
//     dead_letters in the subscriber's transaction, and then acked.
//
// Either write commits with the ack, so the message is never lost between
// them. If the write fails, the message is nacked and delivered again.
func (r *Router) settle(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err == nil {
			return out, nil
		}
		d := deliveryFrom(msg.Context())
		if d.base.Err() != nil {
			// Shutting down, or past the ack deadline: the message stays
			// queued and is delivered again.
			return nil, err
		}
		if t, ok := ports.AsTransient(err); ok && r.withinBudget(d, t) {
			deferErr := r.deferRetry(msg, d, t, err)
			if deferErr == nil {
				return nil, nil
			}
			r.logger.Log(context.Background(), slog.LevelError, "messaging: cannot defer a retry, message will be delivered again",
				"handler", d.handler, "topic", d.topic,
				"message_id", msg.UUID, "error", deferErr.Error())
			return nil, errors.Join(err, deferErr)
		}
		if dlErr := r.recordDeadLetter(msg, d, err); dlErr != nil {
			r.logger.Log(context.Background(), slog.LevelError, "messaging: cannot record dead letter, message will be delivered again",
				"handler", d.handler, "topic", d.topic,
				"message_id", msg.UUID, "error", dlErr.Error())
			return nil, errors.Join(err, dlErr)
		}
		return nil, nil
	}
}

func (r *Router) recordDeadLetter(msg *message.Message, d *delivery, cause error) error {
	// Detached from cancellation: the timeout or the handler's return may
	// have cancelled the message context (Defect 4, docs/messaging.md).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(msg.Context()), deadLetterWriteMargin)
	defer cancel()
	stx, err := subscriberTxFrom(ctx)
	if err != nil {
		return err
	}
	rec := deadLetterRecord{
		messageID:     msg.UUID,
		topic:         d.topic,
		handler:       d.handler,
		reason:        cause.Error(),
		payload:       msg.Payload,
		metadata:      withoutRetryState(msg.Metadata),
		firstFailedAt: d.firstFailedAt,
		lastFailedAt:  d.lastFailedAt,
		attempts:      max(d.attempts, 1) + d.earlier.attempts,
	}
	if !d.earlier.firstFailedAt.IsZero() {
		rec.firstFailedAt = d.earlier.firstFailedAt
	}
	if rec.firstFailedAt.IsZero() {
		rec.firstFailedAt = time.Now()
		rec.lastFailedAt = rec.firstFailedAt
	}
	var id string
	var inserted bool
	hook := r.onDeadLetter[d.handler] // written before Run only
	err = stx.within(ctx, func(tx pgx.Tx) error {
		var err error
		if id, inserted, err = insertDeadLetter(ctx, tx, rec); err != nil || hook == nil {
			return err
		}
		return hook(ctx, tx, ports.Message{ID: msg.UUID, Topic: d.topic, Payload: msg.Payload, Metadata: maps.Clone(map[string]string(msg.Metadata))})
	})
	if err != nil {
		return err
	}
	r.logger.Log(ctx, slog.LevelWarn, "messaging: message dead-lettered",
		"dead_letter_id", id, "handler", d.handler, "topic", d.topic,
		"message_id", msg.UUID, "attempts", rec.attempts, "error", rec.reason)
	if inserted {
		// Alert once the dead letter is committed (with the ack), so that an
		// alert never names a dead letter that was rolled back.
		alert := deadLetterAlert(id, rec)
		stx.afterCommit(func() {
			actx, cancel := context.WithTimeout(context.Background(), alertTimeout)
			defer cancel()
			if err := r.alerter.Alert(actx, alert); err != nil {
				r.logger.Log(actx, slog.LevelError, "messaging: dead letter alert failed",
					"dead_letter_id", id, "error", err.Error())
			}
		})
	}
	return nil
}

// alertTimeout bounds one dead-letter alert; the subscriber waits for it
// before its next batch.
const alertTimeout = 10 * time.Second

// deadLetterAlert names the dead letter; it carries neither the payload nor
// the metadata, and only the first line of the error.
func deadLetterAlert(id string, rec deadLetterRecord) ports.Alert {
	reason, _, _ := strings.Cut(rec.reason, "\n")
	reason = text.Clip(reason, 300)
	return ports.Alert{
		Severity: ports.SeverityCritical,
		Title:    "Message dead-lettered by " + rec.handler,
		Detail: fmt.Sprintf("Handler %s gave up on a %s message after %d attempt(s). Replay or abandon dead letter %s.",
			rec.handler, rec.topic, rec.attempts, id),
		Fields: map[string]string{
			"dead_letter_id": id,
			"message_id":     rec.messageID,
			"topic":          rec.topic,
			"handler":        rec.handler,
			"attempts":       strconv.Itoa(rec.attempts),
			"reason":         reason,
		},
	}
}
