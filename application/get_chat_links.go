package application

import (
	"context"
	"strings"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// ChatLinkView is a person's chat workspace status as a caller may see it:
// UserID is "" when the caller may not see the person's ids at other
// services.
type ChatLinkView struct {
	Status   string // not_found, active, inactive or deactivated
	UserID   string
	SyncedAt time.Time
}

// GetChatLinks returns the chat status of people, in one query for all,
// for a dataloader. Their own record, or members:read, shows it; the user
// id follows the usual redaction of external ids (members:read:pii).
type GetChatLinks struct {
	reads ports.ChatStatusReader
}

// NewGetChatLinks refuses a nil store.
func NewGetChatLinks(reads ports.ChatStatusReader) (GetChatLinks, error) {
	if anyNil(reads) {
		return GetChatLinks{}, nilDependency("get chat links")
	}
	return GetChatLinks{reads: reads}, nil
}

// Handle returns the links by person id; people never synced, or not the
// caller's to see, are absent.
func (h GetChatLinks) Handle(ctx context.Context, personIDs []string) (map[string]ChatLinkView, error) {
	p := PrincipalFrom(ctx)
	ids := make([]string, 0, len(personIDs))
	for _, id := range personIDs {
		own := p.Kind() == access.KindUser && !p.IsAnonymous() && p.ID() == strings.TrimSpace(id)
		if own || p.Has(access.ScopeMembersRead) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return map[string]ChatLinkView{}, nil
	}
	links, err := h.reads.Links(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ChatLinkView, len(links))
	for id, l := range links {
		v := ChatLinkView{Status: string(l.Status), UserID: l.UserID, SyncedAt: l.SyncedAt}
		if access.RedactionFor(p, id).Hides(access.FieldExternalIDs) {
			v.UserID = ""
		}
		out[id] = v
	}
	return out, nil
}
