package graph_test

import (
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

func init() {
	protectedCases["Query.integrationHealth"] = `{ integrationHealth { services { name state breaker } jobs { job lastSummary } webhooks { successRate } measures { measure level } } }`
}

// fakeHealth wires the health view over mocks for fakeApp.
func fakeHealth(t *testing.T, app *application.App) {
	t.Helper()
	ctrl := gomock.NewController(t)
	read := mocks.NewMockHealthReadModel(ctrl)
	read.EXPECT().Snapshot(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(ports.HealthSnapshot{
		Jobs: []ports.JobHealth{{Job: "luma_approval", Outcomes: map[ports.JobStatus]int64{ports.JobCompleted: 2},
			LastStatus: ports.JobCompleted, LastSummary: map[string]any{"approved": float64(28)}, LastAt: time.Now()}},
	}, nil).AnyTimes()
	local := mocks.NewMockLocalCalls(ctrl)
	local.EXPECT().ProcessID().Return("p1").AnyTimes()
	local.EXPECT().Pending().Return(nil).AnyTimes()
	local.EXPECT().Breakers().Return(map[string]string{}).AnyTimes()
	h, err := application.NewGetIntegrationHealth(read, local, ports.SystemClock{}, application.HealthSettings{
		Services: []application.Service{{Name: "mailchimp", Configured: true}}, Windows: application.DefaultHealthWindows,
		Thresholds: application.DefaultAlertThresholds()})
	if err != nil {
		t.Fatal(err)
	}
	app.Queries.GetIntegrationHealth = h
}
