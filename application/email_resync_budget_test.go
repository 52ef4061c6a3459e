package application_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// TestResyncPageFitsItsTagCallBudget: a page of 130 never-synced members
// (each needs a tag update) stops after ResyncTagCalls (120) of them: the
// intent names the 120th person's cursor and more to come, the batch
// carries those 120, and their tag updates run ResyncParallel (8) at a time,
// never more.
func TestResyncPageFitsItsTagCallBudget(t *testing.T) {
	t.Parallel()
	f := newResyncFixture(t)
	const n = 130
	people := make([]ports.Person, n)
	cursors := make([]string, n)
	ids := make([]string, n)
	ms := map[string]*membership.Membership{}
	for i := range n {
		people[i] = person(fmt.Sprintf("p%03d", i), fmt.Sprintf("m%03d@example.test", i))
		cursors[i], ids[i] = fmt.Sprintf("c%03d", i), people[i].ID
		ms[people[i].ID] = f.paid(t, people[i].ID, "community")
	}
	f.page("", ports.DirectoryPage{People: people, Cursors: cursors, HasMore: false})
	f.ms.EXPECT().GetMany(gomock.Any(), ids).Return(ms, nil)
	f.list.EXPECT().BatchUpsert(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, subs []ports.Subscriber) ([]ports.SubscriberResult, error) {
		if len(subs) != application.ResyncTagCalls || subs[len(subs)-1].Email != people[application.ResyncTagCalls-1].PrimaryEmail {
			t.Errorf("batch of %d ending at %s, want the first %d people", len(subs), subs[len(subs)-1].Email, application.ResyncTagCalls)
		}
		out := make([]ports.SubscriberResult, len(subs))
		for i, s := range subs {
			out[i] = subscribed(s.Email)
		}
		return out, nil
	})
	var mu sync.Mutex
	inFlight, most, calls := 0, 0, 0
	f.list.EXPECT().SetTags(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(func(context.Context, string, map[string]bool) error {
		mu.Lock()
		inFlight++
		calls++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	}).Times(application.ResyncTagCalls)
	var next string
	var last bool
	counts, err := f.resync(t, nil).Page(context.Background(), "", func(n string, l bool) error {
		next, last = n, l
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if next != cursors[application.ResyncTagCalls-1] || last {
		t.Fatalf("intent: next %q, last %v; want %q and more to come", next, last, cursors[application.ResyncTagCalls-1])
	}
	if counts["people"] != application.ResyncTagCalls || counts["tag_calls"] != application.ResyncTagCalls {
		t.Fatalf("counts %v, want %d people and tag calls", counts, application.ResyncTagCalls)
	}
	if most > application.ResyncParallel || most < 2 {
		t.Fatalf("%d tag updates at once, want between 2 and %d", most, application.ResyncParallel)
	}
	t.Logf("%d tag updates, at most %d at once", calls, most)
}
