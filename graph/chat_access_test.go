package graph_test

import (
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/chatstatus"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

func init() {
	protectedCases["Query.slackSummary"] = `{ slackSummary { notFound active inactive deactivated } }`
}

// fakeChat serves the chat workspace queries from a mocked store.
func fakeChat(t *testing.T, app *application.App) {
	t.Helper()
	reads := mocks.NewMockChatStatusReader(gomock.NewController(t))
	reads.EXPECT().Summary(gomock.Any()).Return(map[chatstatus.Status]int{chatstatus.Active: 2}, nil).AnyTimes()
	reads.EXPECT().Links(gomock.Any(), gomock.Any()).Return(map[string]ports.ChatLinkView{}, nil).AnyTimes()
	var err error
	if app.Queries.GetChatSummary, err = application.NewGetChatSummary(reads); err != nil {
		t.Fatal(err)
	}
	if app.Queries.GetChatLinks, err = application.NewGetChatLinks(reads); err != nil {
		t.Fatal(err)
	}
}
