package main

// Slack's tiers held on our side (the shared rate limiter wired by
// limitProviders): the chat sync's calls, wired as wdai wires them, against
// slackfake and a real PostgreSQL.

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/slack/slackfake"
	"github.com/womendefiningai/platform/ports"
)

// callsWithin drives the run for window and returns the calls of method
// the server saw and how long the drive took.
func callsWithin(t *testing.T, h *chatHarness, count func() int, window time.Duration) (int, time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), window)
	defer cancel()
	began := time.Now()
	_, err := h.drive(ctx, h.enqueue(t).ID)
	return count(), time.Since(began), err
}

// pacedWorkspace serves the accounts and seeds members, with extra
// variables for wdai.
func pacedWorkspace(t *testing.T, accounts []slackfake.Account, members int, extra ...string) (*slackfake.Server, *chatHarness) {
	t.Helper()
	fake := slackfake.New(accounts...)
	t.Cleanup(fake.Close)
	h := newChatHarness(t, fake, extra...)
	h.seedMembers(t, members)
	return fake, h
}

// allowance is the most calls a tier of perMinute lets through in elapsed:
// two minutes of it at once (Slack allows bursts), then its rate.
func allowance(perMinute int, elapsed time.Duration) int {
	return 2*perMinute + int(elapsed*time.Duration(perMinute)/time.Minute) + 1
}

// checkPaced drives a run for window and checks that the server saw at
// least the tier's burst of method, at most its allowance, and that the run
// was deferred (a transient error), never failed.
func checkPaced(t *testing.T, h *chatHarness, fake *slackfake.Server, method string, perMinute int, window time.Duration) {
	t.Helper()
	calls, elapsed, err := callsWithin(t, h, func() int { return fake.Calls(method) }, window)
	limit := allowance(perMinute, elapsed)
	t.Logf("paced: %d %s calls in %v (%d a minute allows %d); ended with %v", calls, method, elapsed.Round(time.Millisecond), perMinute, limit, err)
	if calls > limit || calls < 2*perMinute {
		t.Errorf("%s calls = %d in %v; want between the burst of %d and %d", method, calls, elapsed, 2*perMinute, limit)
	}
	if !ports.IsTransient(err) {
		t.Errorf("the run ended with %v; want a transient deferral, never a failure", err)
	}
}

// TestChatSyncIsPacedToSlacksTiers: a users.list whose cursor never ends
// (the review's case: 1,000 calls in about 30 s) gets no more users.list
// calls than Tier 2 allows (20 a minute, 40 at once), and the run is
// deferred with the limiter's wait, not failed. The control, with the tier
// raised out of reach, shows the same drive calling far more often. Look-ups
// keep to Tier 3 the same way (set to 10 a minute here, so that one run's
// budget of 40 reaches it).
func TestChatSyncIsPacedToSlacksTiers(t *testing.T) {
	t.Parallel()
	const window = 5 * time.Second
	t.Run("users.list", func(t *testing.T) {
		t.Parallel()
		fake, h := pacedWorkspace(t, workspace(10), 10)
		fake.Endless()
		checkPaced(t, h, fake, "users.list", 20, window)
	})
	t.Run("users.list control", func(t *testing.T) {
		t.Parallel()
		fake, h := pacedWorkspace(t, workspace(10), 10, "SLACK_TIER2_PER_MINUTE", strconv.Itoa(10_000))
		fake.Endless()
		calls, elapsed, _ := callsWithin(t, h, func() int { return fake.Calls("users.list") }, window)
		t.Logf("control (tier 2 out of reach): %d users.list calls in %v", calls, elapsed.Round(time.Millisecond))
		if calls <= allowance(20, elapsed) {
			t.Errorf("control: %d calls in %v; the check above could not tell pacing from none", calls, elapsed)
		}
	})
	t.Run("users.lookupByEmail", func(t *testing.T) {
		t.Parallel()
		accounts := workspace(50)
		for i := range accounts {
			accounts[i].HideEmail = true
		}
		fake, h := pacedWorkspace(t, accounts, 50, "SLACK_TIER3_PER_MINUTE", "10")
		checkPaced(t, h, fake, "users.lookupByEmail", 10, window)
	})
}
