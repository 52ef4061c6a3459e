package application

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// MaxDeadLetterPage bounds one listing.
const MaxDeadLetterPage = 500

// DeadLettersHandler lists and shows dead letters for operators (ops:read).
type DeadLettersHandler struct {
	store ports.DeadLetters
}

// NewDeadLettersHandler refuses a nil store.
func NewDeadLettersHandler(store ports.DeadLetters) (DeadLettersHandler, error) {
	if store == nil {
		return DeadLettersHandler{}, errors.New("application: dead letters: nil store")
	}
	return DeadLettersHandler{store: store}, nil
}

// List returns up to limit dead letters, newest first; status "" lists all.
func (h DeadLettersHandler) List(ctx context.Context, status ports.DeadLetterStatus, limit int) ([]ports.DeadLetter, error) {
	if err := access.Authorize(PrincipalFrom(ctx), access.ScopeOpsRead); err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxDeadLetterPage {
		return nil, fmt.Errorf("%w: limit must be between 1 and %d", ErrInvalidInput, MaxDeadLetterPage)
	}
	return h.store.List(ctx, status, limit)
}

// Get returns one dead letter, or ports.ErrNotFound.
func (h DeadLettersHandler) Get(ctx context.Context, id string) (ports.DeadLetter, error) {
	if err := access.Authorize(PrincipalFrom(ctx), access.ScopeOpsRead); err != nil {
		return ports.DeadLetter{}, err
	}
	return h.store.Get(ctx, id)
}

// ResolveDeadLetterHandler replays or abandons a dead letter (ops:write). The
// resolution, its audit entry and the job run's new status (for job
// messages) commit in one transaction.
type ResolveDeadLetterHandler struct {
	uow ports.UnitOfWork
}

// NewResolveDeadLetterHandler refuses a nil unit of work.
func NewResolveDeadLetterHandler(uow ports.UnitOfWork) (ResolveDeadLetterHandler, error) {
	if uow == nil {
		return ResolveDeadLetterHandler{}, errors.New("application: resolve dead letter: nil unit of work")
	}
	return ResolveDeadLetterHandler{uow: uow}, nil
}

// Replay publishes the dead letter's message again to its original topic.
func (h ResolveDeadLetterHandler) Replay(ctx context.Context, id string) (ports.DeadLetter, error) {
	return h.resolve(ctx, id, "dead_letter.replay", "", ports.JobReplayed, func(ctx context.Context, s ports.DeadLetters, by string) error {
		return s.Replay(ctx, id, by)
	})
}

// Abandon gives up on the dead letter, for a reason an operator states.
func (h ResolveDeadLetterHandler) Abandon(ctx context.Context, id, reason string) (ports.DeadLetter, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ports.DeadLetter{}, fmt.Errorf("%w: a reason is required to abandon a dead letter", ErrInvalidInput)
	}
	return h.resolve(ctx, id, "dead_letter.abandon", reason, ports.JobAbandoned, func(ctx context.Context, s ports.DeadLetters, by string) error {
		return s.Abandon(ctx, id, by, reason)
	})
}

func (h ResolveDeadLetterHandler) resolve(ctx context.Context, id, action, reason string, jobStatus ports.JobStatus,
	apply func(context.Context, ports.DeadLetters, string) error,
) (ports.DeadLetter, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeOpsWrite); err != nil {
		return ports.DeadLetter{}, err
	}
	var out ports.DeadLetter
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		dl, err := tx.DeadLetters().Get(ctx, id)
		if err != nil {
			return err
		}
		if err := apply(ctx, tx.DeadLetters(), p.String()); err != nil {
			return err
		}
		details := map[string]any{"topic": dl.Topic, "handler": dl.Handler, "message_id": dl.MessageID, "attempts": dl.Attempts}
		if reason != "" {
			details["reason"] = reason
		}
		if dl.Topic == ports.TopicJobRun {
			var job ports.JobRunPayload
			if json.Unmarshal(dl.Payload, &job) == nil && job.RunID != "" {
				if err := tx.JobRuns().SetStatus(ctx, job.RunID, jobStatus); err != nil && !errors.Is(err, ports.ErrNotFound) {
					return fmt.Errorf("job run %s: %w", job.RunID, err)
				}
				details["job_run_id"] = job.RunID
			}
		}
		if err := tx.Audit().Record(ctx, actor(p, ports.AuditEntry{
			Action: action, SubjectKind: "dead_letter", SubjectID: id, Outcome: ports.OutcomeSuccess, Details: details,
		})); err != nil {
			return err
		}
		out, err = tx.DeadLetters().Get(ctx, id)
		return err
	})
	return out, err
}

// Read models and errors of this use case, re-exported so that driving
// adapters depend on application/ alone.
type (
	// DeadLetter is a message a handler could not process.
	DeadLetter = ports.DeadLetter
	// DeadLetterStatus is open, replayed or abandoned.
	DeadLetterStatus = ports.DeadLetterStatus
)

// Errors callers can act on.
var (
	ErrNotFound           = ports.ErrNotFound
	ErrDeadLetterResolved = ports.ErrDeadLetterResolved
	ErrNotConfigured      = ports.ErrNotConfigured
)
