package application_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/chatstatus"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

func agentWith(t *testing.T, scopes ...access.Scope) context.Context {
	t.Helper()
	p, err := access.NewAgent("agent-1", scopes)
	if err != nil {
		t.Fatal(err)
	}
	return application.WithPrincipal(t.Context(), p)
}

func TestGetChatLinksRedactsTheUserID(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	const me, other = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	stored := map[string]ports.ChatLinkView{
		me:    {PersonID: me, Status: chatstatus.Active, UserID: "U1", SyncedAt: at},
		other: {PersonID: other, Status: chatstatus.Inactive, UserID: "U2", SyncedAt: at},
	}
	// Without an active membership a member holds no members:read.
	user, err := access.NewUser(me, access.RoleMember, false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		ctx   context.Context
		asks  []string // what reaches the store
		users map[string]string
	}{
		{"anonymous sees nothing", t.Context(), nil, map[string]string{}},
		{"members:read sees statuses, not ids", agentWith(t, access.ScopeMembersRead), []string{me, other}, map[string]string{me: "", other: ""}},
		{"with pii, ids too", agentWith(t, access.ScopeMembersRead, access.ScopeMembersReadPII), []string{me, other}, map[string]string{me: "U1", other: "U2"}},
		{"a person without members:read sees only their own, in full", application.WithPrincipal(t.Context(), user), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reads := mocks.NewMockChatStatusReader(gomock.NewController(t))
			if tc.asks != nil {
				reads.EXPECT().Links(gomock.Any(), tc.asks).Return(stored, nil)
			} else if tc.users == nil {
				reads.EXPECT().Links(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, ids []string) (map[string]ports.ChatLinkView, error) {
					out := map[string]ports.ChatLinkView{}
					for _, id := range ids {
						out[id] = stored[id]
					}
					return out, nil
				})
				tc.users = map[string]string{me: "U1"}
			}
			h, err := application.NewGetChatLinks(reads)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Handle(tc.ctx, []string{me, other})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.users) {
				t.Fatalf("links = %+v, want %v", got, tc.users)
			}
			for id, u := range tc.users {
				if got[id].UserID != u || got[id].Status != string(stored[id].Status) || !got[id].SyncedAt.Equal(at) {
					t.Errorf("%s = %+v, want user %q", id, got[id], u)
				}
			}
		})
	}
}

func TestGetChatSummaryNeedsOpsRead(t *testing.T) {
	t.Parallel()
	reads := mocks.NewMockChatStatusReader(gomock.NewController(t))
	h, err := application.NewGetChatSummary(reads)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(agentWith(t, access.ScopeMembersRead)); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("members:read: %v, want forbidden", err)
	}
	reads.EXPECT().Summary(gomock.Any()).Return(map[chatstatus.Status]int{chatstatus.Active: 7, chatstatus.Deactivated: 1}, nil)
	got, err := h.Handle(agentWith(t, access.ScopeOpsRead))
	if err != nil || got != (application.ChatSummary{Active: 7, Deactivated: 1}) {
		t.Fatalf("summary = %+v, %v", got, err)
	}
}
