package graph

import (
	"context"
	"strings"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/graph/model"
)

// newChatLoader batches the chat links of a page of people into one query.
func newChatLoader(app *application.App) *dataloadgen.Loader[string, *application.ChatLinkView] {
	return dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]*application.ChatLinkView, error) {
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
	}, dataloadgen.WithWait(time.Millisecond))
}

func mapChatLink(v application.ChatLinkView) *model.SlackLink {
	out := &model.SlackLink{Status: model.SlackStatus(strings.ToUpper(v.Status)), SyncedAt: v.SyncedAt}
	if v.UserID != "" {
		out.UserID = &v.UserID
	}
	return out
}
