package main

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// p2SignUps is how many sign-ups TestWebhookToEmailListP95 times.
const p2SignUps = 20

// TestWebhookToEmailListP95 (P2 of `make bench`): a sign-up's Stripe events
// arrive at the webhook of the in-process server and worker, one sign-up
// after another; the time from the first event's arrival to the moment the
// list stand-in holds the member (its email-list call) is taken for each.
// The p95 must stay under the 2 s the seed allows (the goal is 300 ms).
// The same run's baseline is the webhook's own answer (arrival to 200 for
// the three events). The log line is what cmd/benchtable reads.
func TestWebhookToEmailListP95(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t, true)
	var arrivalToList, answered []time.Duration
	for i := range p2SignUps {
		email := fmt.Sprintf("p2-%d@example.test", i)
		person := l.newPerson(email)
		events, _ := signUp(l, person, email, fmt.Sprintf("p2_%d", i))
		t0 := time.Now()
		for _, e := range events {
			if code := l.deliver(e); code != http.StatusOK {
				t.Fatalf("sign-up %d: delivery answered %d", i, code)
			}
		}
		answered = append(answered, time.Since(t0))
		for {
			if _, ok := l.mc.Member(email); ok {
				break
			}
			if time.Since(t0) > 10*time.Second {
				t.Fatalf("sign-up %d: no email-list call 10 s after the webhook", i)
			}
			time.Sleep(2 * time.Millisecond)
		}
		arrivalToList = append(arrivalToList, time.Since(t0))
	}
	p95 := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[(len(d)*95+99)/100-1]
	}
	latency, ack := p95(arrivalToList), p95(answered)
	t.Logf("P2: webhook arrival to email-list call p95 %.1f ms over %d sign-ups; webhook answered p95 %.1f ms",
		float64(latency.Microseconds())/1000, p2SignUps, float64(ack.Microseconds())/1000)
	if latency > 2*time.Second {
		t.Errorf("p95 from webhook to the email-list call = %v, want under 2 s", latency)
	}
}
