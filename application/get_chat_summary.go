package application

import (
	"context"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/chatstatus"
	"github.com/womendefiningai/platform/ports"
)

// ChatSummary counts the people's chat links by status.
type ChatSummary struct {
	NotFound, Active, Inactive, Deactivated int
}

// GetChatSummary shows operators (ops:read) how many people are in each
// chat status.
type GetChatSummary struct {
	reads ports.ChatStatusReader
}

// NewGetChatSummary refuses a nil store.
func NewGetChatSummary(reads ports.ChatStatusReader) (GetChatSummary, error) {
	if anyNil(reads) {
		return GetChatSummary{}, nilDependency("get chat summary")
	}
	return GetChatSummary{reads: reads}, nil
}

// Handle counts, in one query.
func (h GetChatSummary) Handle(ctx context.Context) (ChatSummary, error) {
	return h.count(ctx, access.ScopeOpsRead)
}

// ForMembers is the same counts for readers of the directory
// (members:read), such as the engagement agent: counts only, no person.
func (h GetChatSummary) ForMembers(ctx context.Context) (ChatSummary, error) {
	return h.count(ctx, access.ScopeMembersRead)
}

func (h GetChatSummary) count(ctx context.Context, scope access.Scope) (ChatSummary, error) {
	if err := access.Authorize(PrincipalFrom(ctx), scope); err != nil {
		return ChatSummary{}, err
	}
	counts, err := h.reads.Summary(ctx)
	if err != nil {
		return ChatSummary{}, err
	}
	return ChatSummary{NotFound: counts[chatstatus.NotFound], Active: counts[chatstatus.Active],
		Inactive: counts[chatstatus.Inactive], Deactivated: counts[chatstatus.Deactivated]}, nil
}
