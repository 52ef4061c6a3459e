package application

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/usertext"
	"github.com/womendefiningai/platform/ports"
)

// Read models of the dead-letter use cases.
type (
	// DeadLetter is a message a handler could not process.
	DeadLetter = ports.DeadLetter
	// DeadLetterStatus is open, replayed or abandoned.
	DeadLetterStatus = ports.DeadLetterStatus
)

// MaxDeadLetterPage bounds one listing.
const MaxDeadLetterPage = 500

// ListDeadLettersInput selects dead letters; Status "" lists all.
type ListDeadLettersInput struct {
	Status DeadLetterStatus
	Limit  int
}

// ListDeadLetters lists dead letters for operators (ops:read).
type ListDeadLetters struct {
	store ports.DeadLetters
}

// NewListDeadLetters refuses a nil store.
func NewListDeadLetters(store ports.DeadLetters) (ListDeadLetters, error) {
	if anyNil(store) {
		return ListDeadLetters{}, nilDependency("list dead letters")
	}
	return ListDeadLetters{store: store}, nil
}

// Handle returns up to in.Limit dead letters, newest first.
func (h ListDeadLetters) Handle(ctx context.Context, in ListDeadLettersInput) ([]DeadLetter, error) {
	if err := access.Authorize(PrincipalFrom(ctx), access.ScopeOpsRead); err != nil {
		return nil, err
	}
	if in.Limit < 1 || in.Limit > MaxDeadLetterPage {
		return nil, invalid("limit must be between 1 and %d", MaxDeadLetterPage)
	}
	return h.store.List(ctx, in.Status, in.Limit)
}

// GetDeadLetter shows one dead letter to operators (ops:read).
type GetDeadLetter struct {
	store ports.DeadLetters
}

// NewGetDeadLetter refuses a nil store.
func NewGetDeadLetter(store ports.DeadLetters) (GetDeadLetter, error) {
	if anyNil(store) {
		return GetDeadLetter{}, nilDependency("get dead letter")
	}
	return GetDeadLetter{store: store}, nil
}

// Handle returns the dead letter with that id, or ErrNotFound.
func (h GetDeadLetter) Handle(ctx context.Context, id string) (DeadLetter, error) {
	if err := access.Authorize(PrincipalFrom(ctx), access.ScopeOpsRead); err != nil {
		return DeadLetter{}, err
	}
	return h.store.Get(ctx, id)
}

// ReplayDeadLetter publishes a dead letter's message again to its topic
// (ops:write). The resolution, its audit entry and the job run's new status
// (for job messages) commit in one transaction.
type ReplayDeadLetter struct {
	uow ports.UnitOfWork[ports.DeadLetterTx]
}

// NewReplayDeadLetter refuses a nil unit of work.
func NewReplayDeadLetter(uow ports.UnitOfWork[ports.DeadLetterTx]) (ReplayDeadLetter, error) {
	if anyNil(uow) {
		return ReplayDeadLetter{}, nilDependency("replay dead letter")
	}
	return ReplayDeadLetter{uow: uow}, nil
}

// Handle replays the dead letter with that id.
func (h ReplayDeadLetter) Handle(ctx context.Context, id string) (DeadLetter, error) {
	return resolveDeadLetter(ctx, h.uow, id, "dead_letter.replay", "", ports.JobReplayed, func(ctx context.Context, s ports.DeadLetters, by string) error {
		return s.Replay(ctx, id, by)
	})
}

// AbandonDeadLetterInput names the dead letter and why it is given up.
type AbandonDeadLetterInput struct {
	ID     string
	Reason string
}

// maxAbandonReason is the most characters of the reason for abandoning a
// dead letter.
const maxAbandonReason = 500

// AbandonDeadLetter gives up on a dead letter, for a reason an operator
// states (ops:write), audited in the same transaction.
type AbandonDeadLetter struct {
	uow ports.UnitOfWork[ports.DeadLetterTx]
}

// NewAbandonDeadLetter refuses a nil unit of work.
func NewAbandonDeadLetter(uow ports.UnitOfWork[ports.DeadLetterTx]) (AbandonDeadLetter, error) {
	if anyNil(uow) {
		return AbandonDeadLetter{}, nilDependency("abandon dead letter")
	}
	return AbandonDeadLetter{uow: uow}, nil
}

// Handle abandons the dead letter; a reason is required.
func (h AbandonDeadLetter) Handle(ctx context.Context, in AbandonDeadLetterInput) (DeadLetter, error) {
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		return DeadLetter{}, invalid("a reason is required to abandon a dead letter")
	}
	if err := usertext.Check(reason, maxAbandonReason); err != nil {
		return DeadLetter{}, invalid("reason: %v", err)
	}
	return resolveDeadLetter(ctx, h.uow, in.ID, "dead_letter.abandon", reason, ports.JobAbandoned, func(ctx context.Context, s ports.DeadLetters, by string) error {
		return s.Abandon(ctx, in.ID, by, reason)
	})
}

func resolveDeadLetter(ctx context.Context, uow ports.UnitOfWork[ports.DeadLetterTx], id, action, reason string, jobStatus ports.JobStatus,
	apply func(context.Context, ports.DeadLetters, string) error,
) (DeadLetter, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeOpsWrite); err != nil {
		return DeadLetter{}, err
	}
	var out DeadLetter
	err := uow.Do(ctx, func(ctx context.Context, tx ports.DeadLetterTx) error {
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
		if runID := jobRunOf(dl); runID != "" {
			if err := tx.JobRuns().SetStatus(ctx, runID, jobStatus); err != nil && !errors.Is(err, ports.ErrNotFound) {
				return fmt.Errorf("job run %s: %w", runID, err)
			}
			details["job_run_id"] = runID
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

// jobRunOf returns the run a dead job message names, "" for other topics
// or a body that names none (it is resolved all the same).
func jobRunOf(dl DeadLetter) string {
	var job ports.JobRunPayload
	if dl.Topic != ports.TopicJobRun || json.Unmarshal(dl.Payload, &job) != nil {
		return ""
	}
	return job.RunID
}
