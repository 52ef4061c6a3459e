package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// TestJourneyIsSentOnceUnderConcurrentSyncs: 200 randomized runs. In each,
// one new member's activation message is delivered two to four times at
// once (a redelivery, a replay), beside one to three other syncs of the same
// person, in a random order with random pauses, each retried like the
// router retries. The list stand-in counts the welcome journey triggered
// exactly once per member.
func TestJourneyIsSentOnceUnderConcurrentSyncs(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, true)
	const runs = 200
	ids := seedMembers(t, l, "journey", runs)
	emails := map[string]string{}
	rows, err := l.pool.Query(context.Background(), `SELECT id::text, primary_email FROM people WHERE id = ANY($1)`, ids)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, email string
		if err := rows.Scan(&id, &email); err != nil {
			t.Fatal(err)
		}
		emails[id] = email
	}
	rows.Close()
	l.mc.SetDelay(time.Millisecond)
	ctx := context.Background()
	for run, person := range ids {
		rng := rand.New(rand.NewPCG(uint64(run), 12))
		var syncs []application.SyncMemberEmailInput
		activation := application.SyncMemberEmailInput{MessageID: fmt.Sprintf("msg-activated-%d", run), PersonID: person,
			Reason: ports.ReasonSubscriptionSync, Events: []string{membership.NameActivated}}
		for range 2 + rng.IntN(3) {
			syncs = append(syncs, activation)
		}
		for i := range 1 + rng.IntN(3) {
			syncs = append(syncs, application.SyncMemberEmailInput{MessageID: fmt.Sprintf("msg-other-%d-%d", run, i), PersonID: person,
				Reason: ports.ReasonSubscriptionSync, Events: []string{membership.NameTierChanged}})
		}
		rng.Shuffle(len(syncs), func(i, j int) { syncs[i], syncs[j] = syncs[j], syncs[i] })
		var wg sync.WaitGroup
		for _, in := range syncs {
			pause := time.Duration(rng.IntN(3000)) * time.Microsecond
			wg.Go(func() {
				time.Sleep(pause)
				for attempt := 0; ; attempt++ {
					err := l.sys.app.Commands.SyncMemberEmail.Handle(ctx, in)
					if err == nil {
						return
					}
					if attempt == 9 || ports.IsPermanent(err) {
						t.Errorf("run %d: sync %s failed: %v", run, in.MessageID, err)
						return
					}
					time.Sleep(time.Millisecond)
				}
			})
		}
		wg.Wait()
		if n := l.triggers("j_welcome", emails[person]); n != 1 {
			t.Fatalf("run %d (%d syncs): welcome journey triggered %d times, want exactly 1", run, len(syncs), n)
		}
	}
	l.mc.AssertNoViolations(t)
}
