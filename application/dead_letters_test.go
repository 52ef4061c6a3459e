package application_test

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

type txMocks struct {
	uow   *mocks.MockUnitOfWork
	tx    *mocks.MockTx
	dl    *mocks.MockDeadLetters
	audit *mocks.MockAuditLog
	jobs  *mocks.MockJobRuns
}

func newTxMocks(t *testing.T) txMocks {
	ctrl := gomock.NewController(t)
	m := txMocks{
		uow: mocks.NewMockUnitOfWork(ctrl), tx: mocks.NewMockTx(ctrl), dl: mocks.NewMockDeadLetters(ctrl),
		audit: mocks.NewMockAuditLog(ctrl), jobs: mocks.NewMockJobRuns(ctrl),
	}
	m.uow.EXPECT().Do(gomock.Any(), gomock.Any()).DoAndReturn(
		func(ctx context.Context, fn func(context.Context, ports.Tx) error) error { return fn(ctx, m.tx) }).AnyTimes()
	m.tx.EXPECT().DeadLetters().Return(m.dl).AnyTimes()
	m.tx.EXPECT().Audit().Return(m.audit).AnyTimes()
	m.tx.EXPECT().JobRuns().Return(m.jobs).AnyTimes()
	return m
}

func operator(t *testing.T, scopes ...access.Scope) context.Context {
	t.Helper()
	p, err := access.NewAgent("ops-bot", scopes)
	if err != nil {
		t.Fatal(err)
	}
	return application.WithPrincipal(context.Background(), p)
}

func TestReplayDeadLetterAuditsAndMarksJobRunReplayed(t *testing.T) {
	t.Parallel()
	m := newTxMocks(t)
	dl := ports.DeadLetter{ID: "dl1", Topic: ports.TopicJobRun, Handler: "job_runner", Payload: []byte(`{"run_id":"run-7"}`), Attempts: 4, Status: ports.DeadLetterOpen}
	replayed := dl
	replayed.Status = ports.DeadLetterReplayed
	gomock.InOrder(
		m.dl.EXPECT().Get(gomock.Any(), "dl1").Return(dl, nil),
		m.dl.EXPECT().Replay(gomock.Any(), "dl1", "agent:ops-bot").Return(nil),
		m.jobs.EXPECT().SetStatus(gomock.Any(), "run-7", ports.JobReplayed).Return(nil),
		m.audit.EXPECT().Record(gomock.Any(), gomock.Cond(func(e ports.AuditEntry) bool {
			return e.Action == "dead_letter.replay" && e.ActorKind == "agent" && e.ActorID == "ops-bot" &&
				e.SubjectID == "dl1" && e.Outcome == ports.OutcomeSuccess && e.Details["job_run_id"] == "run-7"
		})).Return(nil),
		m.dl.EXPECT().Get(gomock.Any(), "dl1").Return(replayed, nil),
	)
	h, err := application.NewResolveDeadLetterHandler(m.uow)
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.Replay(operator(t, access.ScopeOpsWrite), "dl1")
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if got.Status != ports.DeadLetterReplayed {
		t.Fatalf("status = %s", got.Status)
	}
}

func TestAbandonNeedsAReasonAndScope(t *testing.T) {
	t.Parallel()
	m := newTxMocks(t) // no store calls expected: gomock fails on any
	h, err := application.NewResolveDeadLetterHandler(m.uow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Abandon(operator(t, access.ScopeOpsWrite), "dl1", "  "); !errors.Is(err, application.ErrInvalidInput) {
		t.Errorf("blank reason: err = %v, want ErrInvalidInput", err)
	}
	if _, err := h.Abandon(operator(t, access.ScopeOpsRead), "dl1", "refunded by hand"); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("ops:read only: err = %v, want ErrForbidden", err)
	}
	if _, err := h.Replay(context.Background(), "dl1"); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("anonymous: err = %v, want ErrForbidden", err)
	}
}

func TestAbandonUnknownDeadLetterChangesNothing(t *testing.T) {
	t.Parallel()
	m := newTxMocks(t)
	m.dl.EXPECT().Get(gomock.Any(), "nope").Return(ports.DeadLetter{}, ports.ErrNotFound)
	h, err := application.NewResolveDeadLetterHandler(m.uow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Abandon(operator(t, access.ScopeOpsWrite), "nope", "duplicate"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestListDeadLettersChecksScopeAndLimit(t *testing.T) {
	t.Parallel()
	store := mocks.NewMockDeadLetters(gomock.NewController(t))
	store.EXPECT().List(gomock.Any(), ports.DeadLetterOpen, 10).Return([]ports.DeadLetter{{ID: "a"}}, nil)
	h, err := application.NewDeadLettersHandler(store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.List(context.Background(), ports.DeadLetterOpen, 10); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("anonymous list: %v", err)
	}
	if _, err := h.List(operator(t, access.ScopeOpsRead), ports.DeadLetterOpen, 0); !errors.Is(err, application.ErrInvalidInput) {
		t.Errorf("limit 0: %v", err)
	}
	got, err := h.List(operator(t, access.ScopeOpsRead), ports.DeadLetterOpen, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("list = %v, %v", got, err)
	}
}
