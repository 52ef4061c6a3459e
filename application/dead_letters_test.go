package application_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// deadLetterTx is a DeadLetterTx of mocks run by an inline unit of work.
type deadLetterTx struct {
	uow   inlineUoW[ports.DeadLetterTx]
	tx    *mocks.MockDeadLetterTx
	dl    *mocks.MockDeadLetters
	runs  *mocks.MockJobRuns
	audit *mocks.MockAuditLog
}

func newDeadLetterTx(t *testing.T) deadLetterTx {
	t.Helper()
	ctrl := gomock.NewController(t)
	m := deadLetterTx{tx: mocks.NewMockDeadLetterTx(ctrl), dl: mocks.NewMockDeadLetters(ctrl), runs: mocks.NewMockJobRuns(ctrl), audit: mocks.NewMockAuditLog(ctrl)}
	m.uow = newInlineUoW[ports.DeadLetterTx](m.tx)
	m.tx.EXPECT().DeadLetters().Return(m.dl).AnyTimes()
	m.tx.EXPECT().JobRuns().Return(m.runs).AnyTimes()
	m.tx.EXPECT().Audit().Return(m.audit).AnyTimes()
	return m
}

func opsCtx(t *testing.T, scopes ...access.Scope) context.Context {
	t.Helper()
	return asAgent(t, "ops-bot", scopes...)
}

func TestListDeadLetters(t *testing.T) {
	t.Parallel()
	boom := errors.New("db down")
	letters := []ports.DeadLetter{{ID: "dl2"}, {ID: "dl1"}}
	tests := []struct {
		name    string
		ctx     func(t *testing.T) context.Context
		in      application.ListDeadLettersInput
		listed  bool
		listErr error
		wantErr error
	}{
		{"an operator lists open ones", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsRead) },
			application.ListDeadLettersInput{Status: ports.DeadLetterOpen, Limit: 10}, true, nil, nil},
		{"the largest listing, all statuses", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsRead) },
			application.ListDeadLettersInput{Limit: application.MaxDeadLetterPage}, true, nil, nil},
		{"limit 0", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsRead) },
			application.ListDeadLettersInput{Limit: 0}, false, nil, application.ErrInvalidInput},
		{"limit too large", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsRead) },
			application.ListDeadLettersInput{Limit: application.MaxDeadLetterPage + 1}, false, nil, application.ErrInvalidInput},
		{"anonymous", func(*testing.T) context.Context { return context.Background() },
			application.ListDeadLettersInput{Limit: 10}, false, nil, access.ErrForbidden},
		{"a member", func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) },
			application.ListDeadLettersInput{Limit: 10}, false, nil, access.ErrForbidden},
		{"write alone does not read", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsWrite) },
			application.ListDeadLettersInput{Limit: 10}, false, nil, access.ErrForbidden},
		{"the store fails", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsRead) },
			application.ListDeadLettersInput{Limit: 10}, true, boom, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := mocks.NewMockDeadLetters(gomock.NewController(t))
			if tt.listed {
				var out []ports.DeadLetter
				if tt.listErr == nil {
					out = letters
				}
				store.EXPECT().List(gomock.Any(), tt.in.Status, tt.in.Limit).Return(out, tt.listErr)
			}
			h, err := application.NewListDeadLetters(store)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(tt.ctx(t), tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !reflect.DeepEqual(got, letters) {
				t.Fatalf("listed %+v, want %+v", got, letters)
			}
		})
	}
}

func TestGetDeadLetter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ctx     func(t *testing.T) context.Context
		stored  error // nil: found; asked only when allowed
		wantErr error
	}{
		{"an operator reads one", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsRead) }, nil, nil},
		{"unknown id", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsRead) }, ports.ErrNotFound, application.ErrNotFound},
		{"a leader may not", func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleLeader) }, nil, access.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := mocks.NewMockDeadLetters(gomock.NewController(t))
			if !errors.Is(tt.wantErr, access.ErrForbidden) {
				store.EXPECT().Get(gomock.Any(), "dl1").Return(ports.DeadLetter{ID: "dl1", Topic: ports.TopicJobRun}, tt.stored)
			}
			h, err := application.NewGetDeadLetter(store)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(tt.ctx(t), "dl1")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && got.ID != "dl1" {
				t.Fatalf("dead letter = %+v", got)
			}
		})
	}
}

func jobDeadLetter() ports.DeadLetter {
	return ports.DeadLetter{ID: "dl1", MessageID: "run-7", Topic: ports.TopicJobRun, Handler: "job_runner", Payload: []byte(`{"run_id":"run-7"}`),
		Attempts: 4, Status: ports.DeadLetterOpen}
}

func TestReplayDeadLetter(t *testing.T) {
	t.Parallel()
	memberDL := ports.DeadLetter{ID: "dl1", MessageID: "m-42", Topic: ports.TopicMemberChanged, Handler: "email_sync", Payload: []byte(`{"person_id":"p1"}`), Attempts: 5}
	brokenJobDL := ports.DeadLetter{ID: "dl1", MessageID: "m-43", Topic: ports.TopicJobRun, Handler: "job_runner", Payload: []byte(`not json`), Attempts: 1}
	tests := []struct {
		name        string
		dl          ports.DeadLetter
		setStatus   bool  // the job run is moved
		setErr      error // SetStatus's error
		wantDetails map[string]any
	}{
		{"a job message: its run becomes replayed", jobDeadLetter(), true, nil,
			map[string]any{"topic": ports.TopicJobRun, "handler": "job_runner", "message_id": "run-7", "attempts": 4, "job_run_id": "run-7"}},
		{"a job run deleted since: resolved all the same", jobDeadLetter(), true, ports.ErrNotFound,
			map[string]any{"topic": ports.TopicJobRun, "handler": "job_runner", "message_id": "run-7", "attempts": 4, "job_run_id": "run-7"}},
		{"another topic: no job run", memberDL, false, nil,
			map[string]any{"topic": ports.TopicMemberChanged, "handler": "email_sync", "message_id": "m-42", "attempts": 5}},
		{"a job message naming no run: no job run", brokenJobDL, false, nil,
			map[string]any{"topic": ports.TopicJobRun, "handler": "job_runner", "message_id": "m-43", "attempts": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newDeadLetterTx(t)
			replayed := tt.dl
			replayed.Status = ports.DeadLetterReplayed
			calls := []any{
				m.dl.EXPECT().Get(gomock.Any(), "dl1").Return(tt.dl, nil),
				m.dl.EXPECT().Replay(gomock.Any(), "dl1", "agent:ops-bot").Return(nil),
			}
			if tt.setStatus {
				calls = append(calls, m.runs.EXPECT().SetStatus(gomock.Any(), "run-7", ports.JobReplayed).Return(tt.setErr))
			}
			calls = append(calls,
				m.audit.EXPECT().Record(gomock.Any(), ports.AuditEntry{ActorKind: "agent", ActorID: "ops-bot", Action: "dead_letter.replay",
					SubjectKind: "dead_letter", SubjectID: "dl1", Outcome: ports.OutcomeSuccess, Details: tt.wantDetails}).Return(nil),
				m.dl.EXPECT().Get(gomock.Any(), "dl1").Return(replayed, nil),
			)
			gomock.InOrder(calls...)
			h, err := application.NewReplayDeadLetter(m.uow)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(opsCtx(t, access.ScopeOpsWrite), "dl1")
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if got.Status != ports.DeadLetterReplayed {
				t.Fatalf("status = %s, want the dead letter as it is after the replay", got.Status)
			}
		})
	}
}

func TestAbandonDeadLetterRecordsTheReason(t *testing.T) {
	t.Parallel()
	m := newDeadLetterTx(t)
	abandoned := jobDeadLetter()
	abandoned.Status, abandoned.ResolutionNote = ports.DeadLetterAbandoned, "refunded by hand"
	gomock.InOrder(
		m.dl.EXPECT().Get(gomock.Any(), "dl1").Return(jobDeadLetter(), nil),
		m.dl.EXPECT().Abandon(gomock.Any(), "dl1", "user:p9", "refunded by hand").Return(nil),
		m.runs.EXPECT().SetStatus(gomock.Any(), "run-7", ports.JobAbandoned).Return(nil),
		m.audit.EXPECT().Record(gomock.Any(), ports.AuditEntry{ActorKind: "user", ActorID: "p9", Action: "dead_letter.abandon",
			SubjectKind: "dead_letter", SubjectID: "dl1", Outcome: ports.OutcomeSuccess,
			Details: map[string]any{"topic": ports.TopicJobRun, "handler": "job_runner", "message_id": "run-7", "attempts": 4, "job_run_id": "run-7", "reason": "refunded by hand"}}).Return(nil),
		m.dl.EXPECT().Get(gomock.Any(), "dl1").Return(abandoned, nil),
	)
	h, err := application.NewAbandonDeadLetter(m.uow)
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.Handle(asUser(t, "p9", access.RoleAdmin), application.AbandonDeadLetterInput{ID: "dl1", Reason: "  refunded by hand \n"})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if got.Status != ports.DeadLetterAbandoned {
		t.Fatalf("status = %s", got.Status)
	}
}

func TestResolveDeadLetterRefusals(t *testing.T) {
	t.Parallel()
	boom := errors.New("db down")
	replay := func(ctx context.Context, m deadLetterTx) error {
		h, err := application.NewReplayDeadLetter(m.uow)
		if err != nil {
			return err
		}
		_, err = h.Handle(ctx, "dl1")
		return err
	}
	abandon := func(reason string) func(ctx context.Context, m deadLetterTx) error {
		return func(ctx context.Context, m deadLetterTx) error {
			h, err := application.NewAbandonDeadLetter(m.uow)
			if err != nil {
				return err
			}
			_, err = h.Handle(ctx, application.AbandonDeadLetterInput{ID: "dl1", Reason: reason})
			return err
		}
	}
	tests := []struct {
		name    string
		ctx     func(t *testing.T) context.Context
		do      func(ctx context.Context, m deadLetterTx) error
		setup   func(m deadLetterTx)
		wantErr error
		wantTx  bool
	}{
		{"abandon needs a reason", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsWrite) }, abandon("  "), nil, application.ErrInvalidInput, false},
		{"a reason with a NUL is refused", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsWrite) }, abandon("dup\x00licate"), nil, application.ErrInvalidInput, false},
		{"a reason over 500 characters is refused", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsWrite) }, abandon(strings.Repeat("é", 501)), nil, application.ErrInvalidInput, false},
		{"abandon needs ops:write", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsRead) }, abandon("duplicate"), nil, access.ErrForbidden, false},
		{"anonymous may not replay", func(*testing.T) context.Context { return context.Background() }, replay, nil, access.ErrForbidden, false},
		{"a member may not replay", func(t *testing.T) context.Context { return asUser(t, "p1", access.RoleMember) }, replay, nil, access.ErrForbidden, false},
		{"unknown dead letter: nothing changes", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsWrite) }, abandon("duplicate"),
			func(m deadLetterTx) {
				m.dl.EXPECT().Get(gomock.Any(), "dl1").Return(ports.DeadLetter{}, ports.ErrNotFound)
			}, application.ErrNotFound, true},
		{"already resolved: nothing audited", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsWrite) }, replay,
			func(m deadLetterTx) {
				m.dl.EXPECT().Get(gomock.Any(), "dl1").Return(jobDeadLetter(), nil)
				m.dl.EXPECT().Replay(gomock.Any(), "dl1", "agent:ops-bot").Return(ports.ErrDeadLetterResolved)
			}, application.ErrDeadLetterResolved, true},
		{"the job run cannot be moved", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsWrite) }, replay,
			func(m deadLetterTx) {
				m.dl.EXPECT().Get(gomock.Any(), "dl1").Return(jobDeadLetter(), nil)
				m.dl.EXPECT().Replay(gomock.Any(), "dl1", "agent:ops-bot").Return(nil)
				m.runs.EXPECT().SetStatus(gomock.Any(), "run-7", ports.JobReplayed).Return(boom)
			}, boom, true},
		{"the audit fails", func(t *testing.T) context.Context { return opsCtx(t, access.ScopeOpsWrite) }, abandon("duplicate"),
			func(m deadLetterTx) {
				m.dl.EXPECT().Get(gomock.Any(), "dl1").Return(jobDeadLetter(), nil)
				m.dl.EXPECT().Abandon(gomock.Any(), "dl1", "agent:ops-bot", "duplicate").Return(nil)
				m.runs.EXPECT().SetStatus(gomock.Any(), "run-7", ports.JobAbandoned).Return(nil)
				m.audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(boom)
			}, boom, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newDeadLetterTx(t)
			if tt.setup != nil {
				tt.setup(m)
			}
			if err := tt.do(tt.ctx(t), m); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if opened := *m.uow.calls > 0; opened != tt.wantTx {
				t.Fatalf("transaction opened = %t, want %t", opened, tt.wantTx)
			}
		})
	}
}

func TestDeadLetterUseCasesRefuseNilDependencies(t *testing.T) {
	t.Parallel()
	if _, err := application.NewListDeadLetters(nil); err == nil {
		t.Error("NewListDeadLetters(nil) succeeded")
	}
	if _, err := application.NewGetDeadLetter(nil); err == nil {
		t.Error("NewGetDeadLetter(nil) succeeded")
	}
	if _, err := application.NewReplayDeadLetter(nil); err == nil {
		t.Error("NewReplayDeadLetter(nil) succeeded")
	}
	if _, err := application.NewAbandonDeadLetter(nil); err == nil {
		t.Error("NewAbandonDeadLetter(nil) succeeded")
	}
}
