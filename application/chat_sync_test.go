package application_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/chatstatus"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

var chatNow = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// chatFixture wires SyncChatStatus to mocks; links is the stored state the
// mocked Update locks and writes, audits what was recorded.
type chatFixture struct {
	dir    *mocks.MockChatDirectory
	reads  *mocks.MockChatStatusReader
	links  map[string]chatstatus.Link
	marks  map[string]string // the sync that last wrote each link
	audits []ports.AuditEntry
	sync   *application.SyncChatStatus
}

func newChatFixture(t *testing.T, opts application.ChatSyncOptions) *chatFixture {
	t.Helper()
	ctrl := gomock.NewController(t)
	f := &chatFixture{dir: mocks.NewMockChatDirectory(ctrl), reads: mocks.NewMockChatStatusReader(ctrl), links: map[string]chatstatus.Link{}, marks: map[string]string{}}
	store := mocks.NewMockChatStatuses(ctrl)
	audit := mocks.NewMockAuditLog(ctrl)
	tx := mocks.NewMockChatStatusTx(ctrl)
	tx.EXPECT().ChatStatuses().Return(store).AnyTimes()
	tx.EXPECT().Audit().Return(audit).AnyTimes()
	audit.EXPECT().Record(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, e ports.AuditEntry) error {
		f.audits = append(f.audits, e)
		return nil
	}).AnyTimes()
	store.EXPECT().Update(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(
		func(_ context.Context, sync string, ids []string, fn func(map[string]*chatstatus.Link, map[string]bool) error) error {
			locked, written := map[string]*chatstatus.Link{}, map[string]bool{}
			for _, id := range ids {
				l := f.links[id]
				locked[id] = &l
				written[id] = f.marks[id] == sync
			}
			if err := fn(locked, written); err != nil {
				return err
			}
			for id, l := range locked {
				f.links[id], f.marks[id] = *l, sync
			}
			return nil
		}).AnyTimes()
	s, err := application.NewSyncChatStatus(f.dir, f.reads, newInlineUoW[ports.ChatStatusTx](tx), fixedClock{chatNow}, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.sync = &s
	return f
}

// page runs one page and returns its counts and the cursor it began with.
func (f *chatFixture) page(t *testing.T, cursor string) (map[string]any, string, bool, error) {
	t.Helper()
	var next string
	var last, began bool
	counts, err := f.sync.Page(t.Context(), cursor, func(n string, l bool) error {
		if began {
			t.Fatal("a page began twice")
		}
		next, last, began = n, l, true
		return nil
	})
	if err == nil && !began {
		t.Fatal("the page did not begin")
	}
	return counts, next, last, err
}

func TestChatSyncUnconfiguredIsSkipped(t *testing.T) {
	t.Parallel()
	f := newChatFixture(t, application.DefaultChatSync)
	f.dir.EXPECT().Configured().Return(false)
	counts, next, last, err := f.page(t, "")
	if err != nil || !last || next != "" || counts["outcome"] != "skipped" || counts["reason"] != "not configured" {
		t.Fatalf("unconfigured page = %v, %q, %v, %v", counts, next, last, err)
	}
}

func TestChatSyncListThenRest(t *testing.T) {
	t.Parallel()
	f := newChatFixture(t, application.ChatSyncOptions{PageSize: 3, Lookups: 5, MaxWait: time.Second})
	f.links["p-deleted"], _ = chatstatus.FromStore("deactivated", "U9", chatNow.Add(-time.Hour))
	f.links["p-guest"], _ = chatstatus.FromStore("active", "U2", chatNow.Add(-time.Hour))
	f.dir.EXPECT().Configured().Return(true).AnyTimes()
	f.dir.EXPECT().ListUsers(gomock.Any(), "", 3).Return(ports.ChatUserPage{Next: "c2", Users: []ports.ChatUser{
		{ID: "U1", Email: "ada@example.org", Account: chatstatus.AccountActive},
		{ID: "U2", Email: "guest@example.org", Account: chatstatus.AccountRestricted},
		{ID: "B1", Account: chatstatus.AccountActive, Bot: true},
	}}, nil)
	f.reads.EXPECT().MatchVisible(gomock.Any(), []string{"ada@example.org", "guest@example.org"}).
		Return(map[string][]string{"ada@example.org": {"p-ada"}, "guest@example.org": {"p-guest"}}, nil)
	counts, c2, last, err := f.page(t, "")
	if err != nil || last {
		t.Fatalf("list page 1: %v, last %v", err, last)
	}
	if counts["list_calls"] != 1 || counts["active"] != 1 || counts["inactive"] != 1 || counts["changes"] != 2 {
		t.Errorf("list page 1 counts = %v", counts)
	}
	f.dir.EXPECT().ListUsers(gomock.Any(), "c2", 3).Return(ports.ChatUserPage{Users: []ports.ChatUser{
		{ID: "U9", Email: "gone@example.org", Account: chatstatus.AccountActive},
	}}, nil)
	f.reads.EXPECT().MatchVisible(gomock.Any(), []string{"gone@example.org"}).Return(map[string][]string{"gone@example.org": {"p-deleted"}}, nil)
	counts, rest, _, err := f.page(t, c2)
	if err != nil || counts["refused"] != 1 || counts["deactivated"] != 1 || f.links["p-deleted"].Status() != chatstatus.Deactivated {
		t.Fatalf("list page 2 = %v, %v; want the deactivated link kept", counts, err)
	}
	var cur struct{ Sync, Phase string }
	if err := json.Unmarshal([]byte(rest), &cur); err != nil || cur.Phase != "rest" {
		t.Fatalf("cursor after the last list page = %s", rest)
	}
	// The rest leaves out what any run wrote since this one began.
	f.reads.EXPECT().Unmatched(gomock.Any(), cur.Sync, chatNow, "", 3).Return([]ports.ChatMember{{PersonID: "p-new", Emails: []string{"new@example.org"}}}, nil)
	counts, _, last, err = f.page(t, rest)
	if err != nil || !last || counts["not_found"] != 1 || counts["lookups"] != 0 {
		t.Fatalf("rest page = %v, %v, last %v; want not found without a look-up", counts, err, last)
	}
	want := map[string]string{"p-ada": "active", "p-guest": "inactive", "p-deleted": "deactivated", "p-new": "not_found"}
	for id, st := range want {
		if string(f.links[id].Status()) != st {
			t.Errorf("%s = %q, want %q", id, f.links[id].Status(), st)
		}
	}
	if len(f.audits) != 3 {
		t.Fatalf("audits = %+v, want 3 (ada new→active, guest active→inactive, new→not_found)", f.audits)
	}
	for _, a := range f.audits {
		if a.Action != "chat_status.change" || a.SubjectKind != "person" || a.Details["sync"] != cur.Sync || strings.Contains(fmt.Sprint(a.Details), "@") {
			t.Errorf("audit %+v: want a change of a person with the sync id and no address", a)
		}
	}
}

func TestChatSyncLooksUpWithinBudgetWhenAddressesAreHidden(t *testing.T) {
	t.Parallel()
	f := newChatFixture(t, application.ChatSyncOptions{PageSize: 10, Lookups: 2, MaxWait: time.Second})
	f.dir.EXPECT().Configured().Return(true).AnyTimes()
	rest := `{"sync":"s1","phase":"rest","hidden":4,"lookups":0}`
	// A cursor stored before runs kept their start: no bound.
	f.reads.EXPECT().Unmatched(gomock.Any(), "s1", time.Time{}, "", 10).Return([]ports.ChatMember{
		{PersonID: "p1", Emails: []string{"one@example.org"}},
		{PersonID: "p2", Emails: []string{"two@example.org"}},
		{PersonID: "p3", Emails: []string{"three@example.org"}, Cursor: "after-p3"},
	}, nil)
	f.dir.EXPECT().LookupByEmail(gomock.Any(), "one@example.org").Return(ports.ChatUser{ID: "U1", Account: chatstatus.AccountRestricted}, nil)
	f.dir.EXPECT().LookupByEmail(gomock.Any(), "two@example.org").Return(ports.ChatUser{}, fmt.Errorf("x: %w", ports.ErrNotFound))
	counts, next, last, err := f.page(t, rest)
	if err != nil || !last {
		t.Fatal(err)
	}
	if counts["lookups"] != 2 || counts["lookups_deferred"] != 1 || counts["inactive"] != 1 || counts["not_found"] != 1 {
		t.Errorf("counts = %v", counts)
	}
	if _, ok := f.links["p3"]; ok {
		t.Error("a member past the budget was written")
	}
	if !strings.Contains(next, `"lookups":2`) || !strings.Contains(next, `"at":"after-p3"`) {
		t.Errorf("next cursor %s does not carry the spent budget and the store's cursor", next)
	}
}

func TestChatSyncRateLimits(t *testing.T) {
	t.Parallel()
	f := newChatFixture(t, application.ChatSyncOptions{PageSize: 10, Lookups: 0, MaxWait: time.Second})
	f.dir.EXPECT().Configured().Return(true).AnyTimes()
	short := ports.Transient("chat", errors.New("429"), 20*time.Millisecond)
	long := ports.Transient("chat", errors.New("429"), 120*time.Second)
	gomock.InOrder(
		f.dir.EXPECT().ListUsers(gomock.Any(), "", 10).Return(ports.ChatUserPage{}, short),
		f.dir.EXPECT().ListUsers(gomock.Any(), "", 10).Return(ports.ChatUserPage{}, nil),
		f.dir.EXPECT().ListUsers(gomock.Any(), "c2", 10).Return(ports.ChatUserPage{}, long),
	)
	f.reads.EXPECT().MatchVisible(gomock.Any(), gomock.Any()).Return(nil, nil).AnyTimes()
	counts, _, _, err := f.page(t, "")
	if err != nil || counts["rate_limit_waits"] != 1 {
		t.Fatalf("short wait: %v, %v; want it sat out", counts, err)
	}
	began := false
	_, err = f.sync.Page(t.Context(), `{"sync":"s","phase":"list","at":"c2"}`, func(string, bool) error { began = true; return nil })
	if te, ok := ports.AsTransient(err); !ok || te.RetryAfter != 120*time.Second || began {
		t.Fatalf("long wait: %v, began %v; want the transient error with its wait, before the page begins", err, began)
	}
}

func TestChatSyncRefusesBadCursorsAndOptions(t *testing.T) {
	t.Parallel()
	f := newChatFixture(t, application.DefaultChatSync)
	f.dir.EXPECT().Configured().Return(true).AnyTimes()
	for _, c := range []string{"{", `{"sync":"","phase":"list"}`, `{"sync":"s","phase":"later"}`, strings.Repeat("x", 5000),
		`{"sync":"s","phase":"list","at":"c","pages":1000}`} {
		if _, err := f.sync.Page(t.Context(), c, func(string, bool) error { return nil }); !ports.IsPermanent(err) {
			t.Errorf("cursor %.20q: %v, want a permanent error", c, err)
		}
	}
	for _, o := range []application.ChatSyncOptions{{PageSize: 0}, {PageSize: 1001}, {PageSize: 10, Lookups: -1}} {
		if _, err := application.NewSyncChatStatus(f.dir, f.reads, newInlineUoW[ports.ChatStatusTx](nil), fixedClock{}, o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	if _, err := application.NewSyncChatStatus(nil, f.reads, newInlineUoW[ports.ChatStatusTx](nil), fixedClock{}, application.DefaultChatSync); err == nil {
		t.Error("a nil directory was accepted")
	}
}

// TestChatSyncPersonWithTwoAccounts: a person matched on a later page by a
// second, worse account (deleted) keeps the status of the better one; a
// better one seen later wins.
func TestChatSyncPersonWithTwoAccounts(t *testing.T) {
	t.Parallel()
	f := newChatFixture(t, application.ChatSyncOptions{PageSize: 1, Lookups: 0, MaxWait: time.Second})
	f.dir.EXPECT().Configured().Return(true).AnyTimes()
	pages := []ports.ChatUser{
		{ID: "U1", Email: "ada@example.org", Account: chatstatus.AccountActive},
		{ID: "U2", Email: "ada@work.example", Account: chatstatus.AccountDeleted},
		{ID: "U3", Email: "bea@example.org", Account: chatstatus.AccountRestricted},
		{ID: "U4", Email: "bea@work.example", Account: chatstatus.AccountActive},
	}
	cursor := ""
	for i, u := range pages {
		next := fmt.Sprint("c", i+1)
		if i == len(pages)-1 {
			next = ""
		}
		f.dir.EXPECT().ListUsers(gomock.Any(), gomock.Any(), 1).Return(ports.ChatUserPage{Users: []ports.ChatUser{u}, Next: next}, nil)
		person := "p-ada"
		if i >= 2 {
			person = "p-bea"
		}
		f.reads.EXPECT().MatchVisible(gomock.Any(), []string{u.Email}).Return(map[string][]string{u.Email: {person}}, nil)
		_, c, _, err := f.page(t, cursor)
		if err != nil {
			t.Fatal(err)
		}
		cursor = c
	}
	if f.links["p-ada"].Status() != chatstatus.Active || f.links["p-ada"].UserID() != "U1" {
		t.Errorf("ada = %s %s, want active with U1 (the deleted second account ignored)", f.links["p-ada"].Status(), f.links["p-ada"].UserID())
	}
	if f.links["p-bea"].Status() != chatstatus.Active || f.links["p-bea"].UserID() != "U4" {
		t.Errorf("bea = %s %s, want active with U4 (the better account seen later)", f.links["p-bea"].Status(), f.links["p-bea"].UserID())
	}
	if len(f.audits) != 4 { // ada new→active; bea new→active→inactive, inactive→active
		t.Errorf("audits = %d, want 4", len(f.audits))
	}
}
