package graph_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// fakeStart is a year ahead: an event may start at most five years ahead.
var fakeStart = time.Now().AddDate(1, 0, 0).UTC().Truncate(time.Hour)

var createEventOp = `mutation { createEvent(input: {idempotencyKey: "k1", name: "AI night", startAt: "` + fakeStart.Format(time.RFC3339) + `",
	endAt: "` + fakeStart.Add(2*time.Hour).Format(time.RFC3339) + `", timeZone: "Europe/Berlin", capacity: 40}) { id url creatorKind rsvps { approved } } }`

var fakeEvent = ports.Event{ID: "e1", PlatformID: "evt-1", URL: "https://lu.ma/evt-1", Name: "AI night", Created: true,
	StartAt: fakeStart, EndAt: fakeStart.Add(2 * time.Hour),
	TimeZone: "Europe/Berlin", Capacity: 40, CreatorKind: "user", CreatorID: "p1",
	RSVPs: ports.RSVPCounts{Approved: 3, Declined: 1, LeftPending: 2, DecidedAt: time.Date(2099, 2, 1, 9, 0, 0, 0, time.UTC)}}

// fakeEvents sets the event and audit use cases of app on mocks: the
// platform creates, the reservation is new, reads return fakeEvent.
func fakeEvents(t *testing.T, app *application.App) {
	t.Helper()
	ctrl := gomock.NewController(t)
	platform := mocks.NewMockEventPlatform(ctrl)
	platform.EXPECT().Configured().Return(true).AnyTimes()
	platform.EXPECT().CreateEvent(gomock.Any(), gomock.Any()).Return(ports.PlatformEvent{ID: "evt-1", URL: fakeEvent.URL}, nil).AnyTimes()
	res := mocks.NewMockEventReservations(ctrl)
	res.EXPECT().Reserve(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, d ports.EventDraft, _ time.Duration) (ports.Reservation, error) {
		e := fakeEvent
		e.CreatorKind, e.CreatorID, e.Created, e.URL, e.PlatformID = d.CreatorKind, d.CreatorID, false, "", ""
		return ports.Reservation{Held: true, Event: e}, nil
	}).AnyTimes()
	store := mocks.NewMockEventStore(ctrl)
	store.EXPECT().Complete(gomock.Any(), gomock.Any(), gomock.Any()).Return(true, nil).AnyTimes()
	audit := mocks.NewMockAuditLog(ctrl)
	audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	tx := mocks.NewMockEventTx(ctrl)
	tx.EXPECT().Events().Return(store).AnyTimes()
	tx.EXPECT().Audit().Return(audit).AnyTimes()
	reader := mocks.NewMockEventReader(ctrl)
	reader.EXPECT().List(gomock.Any(), gomock.Any()).Return(ports.EventPage{Events: []ports.Event{fakeEvent}, Cursors: []string{"c1"}}, nil).AnyTimes()
	reader.EXPECT().Get(gomock.Any(), "e1").Return(fakeEvent, nil).AnyTimes()
	logs := mocks.NewMockAuditReader(ctrl)
	logs.EXPECT().List(gomock.Any(), gomock.Any()).Return(ports.AuditPage{Records: []ports.AuditRecord{{ID: "9", AuditEntry: ports.AuditEntry{
		ActorKind: "system", ActorID: "rsvp-approval", Action: "rsvp.approve", SubjectKind: "rsvp", SubjectID: "e1/g1",
		Outcome: ports.OutcomeSuccess, Details: map[string]any{"reason": "active_member"}, At: fakeEvent.StartAt}}}}, nil).AnyTimes()
	c, q := &app.Commands, &app.Queries
	c.CreateEvent = built(application.NewCreateEvent(inline[ports.EventTx]{tx}, res, platform, ports.SystemClock{}, mocks.NewMockAlerter(ctrl)))
	q.ListEvents = built(application.NewListEvents(reader, ports.SystemClock{}))
	q.GetEvent = built(application.NewGetEvent(reader))
	q.ListAuditLog = built(application.NewListAuditLog(logs))
}

func TestCreateEventOverGraphQL(t *testing.T) {
	t.Parallel()
	c := client.New(graph.NewHandler(fakeApp(t), graph.Options{}))
	leader, _ := access.NewUser("p1", access.RoleLeader, true)
	member, _ := access.NewUser("p2", access.RoleMember, true)

	var resp map[string]map[string]any
	if err := c.Post(createEventOp, &resp, as(leader)); err != nil {
		t.Fatalf("leader: %v", err)
	}
	if ev := resp["createEvent"]; ev["id"] != "e1" || ev["url"] != fakeEvent.URL || ev["creatorKind"] != "user" {
		t.Errorf("created %v", ev)
	}
	err := c.Post(createEventOp, &resp, as(member))
	if err == nil || !strings.Contains(err.Error(), graph.CodeForbidden) {
		t.Errorf("member: %v, want FORBIDDEN", err)
	}

	bad := `mutation { createEvent(input: {idempotencyKey: "k2", name: "", startAt: "2001-01-01T00:00:00Z",
		endAt: "2000-01-01T00:00:00Z", timeZone: "Mars/Base", capacity: 0}) { id } }`
	var raw json.RawMessage
	err = c.Post(bad, &raw, as(leader))
	var errs client.RawJsonError
	if err == nil {
		t.Fatal("invalid input was accepted")
	}
	if !asRaw(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	var list []struct {
		Extensions map[string]any `json:"extensions"`
		Path       []any          `json:"path"`
	}
	if err := json.Unmarshal(errs.RawMessage, &list); err != nil {
		t.Fatal(err)
	}
	fields := map[string]bool{}
	for _, e := range list {
		if e.Extensions["code"] != graph.CodeBadUserInput || len(e.Path) != 1 || e.Path[0] != "createEvent" {
			t.Errorf("error %+v", e)
		}
		f, _ := e.Extensions["field"].(string)
		fields[f] = true
	}
	for _, f := range []string{"input.name", "input.startAt", "input.endAt", "input.timeZone", "input.capacity"} {
		if !fields[f] {
			t.Errorf("no error for %s in %v", f, fields)
		}
	}
}

func asRaw(err error, out *client.RawJsonError) bool {
	r, ok := err.(client.RawJsonError) //nolint:errorlint // the client returns it unwrapped
	if ok {
		*out = r
	}
	return ok
}

func TestEventsAndAuditLogOverGraphQL(t *testing.T) {
	t.Parallel()
	c := client.New(graph.NewHandler(fakeApp(t), graph.Options{}))
	member, _ := access.NewUser("p2", access.RoleMember, true)
	leader, _ := access.NewUser("p1", access.RoleLeader, true)
	var resp struct {
		Events struct {
			Edges []struct {
				Cursor string
				Node   struct {
					ID    string
					Rsvps struct {
						Approved, Declined, LeftPending int
						LastDecidedAt                   string
					}
				}
			}
			PageInfo struct{ EndCursor string }
		}
	}
	c.MustPost(`{ events(when: UPCOMING) { edges { cursor node { id rsvps { approved declined leftPending lastDecidedAt } } } pageInfo { endCursor } } }`, &resp, as(member))
	if len(resp.Events.Edges) != 1 {
		t.Fatalf("events %+v", resp)
	}
	r := resp.Events.Edges[0].Node.Rsvps
	if r.Approved != 3 || r.Declined != 1 || r.LeftPending != 2 || r.LastDecidedAt != "2099-02-01T09:00:00Z" || resp.Events.PageInfo.EndCursor != "c1" {
		t.Errorf("counts %+v", resp.Events)
	}
	var raw json.RawMessage
	if err := c.Post(`{ auditLog { edges { node { id } } } }`, &raw, as(member)); err == nil || !strings.Contains(err.Error(), graph.CodeForbidden) {
		t.Errorf("member reads the audit log: %v", err)
	}
	var logs struct {
		AuditLog struct {
			Edges []struct {
				Node struct{ Action, Details string }
			}
		}
	}
	c.MustPost(`{ auditLog(filter: {action: "rsvp."}) { edges { node { action details } } } }`, &logs, as(leader))
	if len(logs.AuditLog.Edges) != 1 || logs.AuditLog.Edges[0].Node.Details != `{"reason":"active_member"}` {
		t.Errorf("audit log %+v", logs)
	}
}
