package graph

import (
	"context"
	"strings"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/graph/model"
)

// newChatLoader batches the chat links of people into one query.
func newChatLoader(app *application.App) *dataloadgen.Loader[string, *application.ChatLinkView] {
	return dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]*application.ChatLinkView, error) {
		return chatByPerson(ctx, app, ids)
	}, dataloadgen.WithWait(time.Millisecond))
}

// chatByPerson answers every id, nil where there is no link to show.
func chatByPerson(ctx context.Context, app *application.App, ids []string) (map[string]*application.ChatLinkView, error) {
	views, err := app.Queries.GetChatLinks.Handle(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*application.ChatLinkView, len(ids))
	for _, id := range ids {
		out[id] = nil
		if v, ok := views[id]; ok {
			out[id] = &v
		}
	}
	return out, nil
}

// primeChat loads the chat links of a whole directory page in one call
// when the query asks for them, so the cost of a page never depends on the
// loader's batching window.
func primeChat(ctx context.Context, app *application.App, members []application.Member) error {
	l := loadersFrom(ctx)
	if l == nil || len(members) == 0 || !selectsNodeField(ctx, "slack") {
		return nil
	}
	ids := make([]string, 0, len(members))
	for _, m := range members {
		ids = append(ids, m.ID)
	}
	views, err := chatByPerson(ctx, app, ids)
	if err != nil {
		return err
	}
	for id, v := range views {
		l.chatLoader().Prime(id, v)
	}
	return nil
}

func mapChatLink(v application.ChatLinkView) *model.SlackLink {
	out := &model.SlackLink{Status: model.SlackStatus(strings.ToUpper(v.Status)), SyncedAt: v.SyncedAt}
	if v.UserID != "" {
		out.UserID = &v.UserID
	}
	return out
}
