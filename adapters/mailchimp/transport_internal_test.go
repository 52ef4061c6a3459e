package mailchimp

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/mailchimp/mailchimpfake"
	"github.com/womendefiningai/platform/ports"
)

// TestTransportAloneLimitsConnections takes the semaphore out of the way:
// the transport's MaxConnsPerHost must still keep Mailchimp's limit.
func TestTransportAloneLimitsConnections(t *testing.T) {
	t.Parallel()
	const key = "0123456789abcdef0123456789abcdef-us6"
	fake := mailchimpfake.New(t, key, "L1")
	fake.SetDelay(100 * time.Millisecond)
	for name, given := range map[string]*http.Client{
		"default client":      nil,
		"given, no transport": {Timeout: 5 * time.Second},
		"given transport":     {Transport: &http.Transport{MaxConnsPerHost: 0}},
	} {
		c, err := New(Config{APIKey: key, ListID: "L1", APIURL: fake.URL(), HTTPClient: given})
		if err != nil {
			t.Fatal(err)
		}
		tr, ok := c.http.Transport.(*http.Transport)
		if !ok || tr.MaxConnsPerHost != MaxConnsLimit {
			t.Fatalf("%s: transport %T with MaxConnsPerHost %d, want %d", name, c.http.Transport, tr.MaxConnsPerHost, MaxConnsLimit)
		}
		if given != nil && given.Transport != nil && given.Transport.(*http.Transport).MaxConnsPerHost != 0 {
			t.Errorf("%s: the caller's transport was changed", name)
		}
		if given == nil && c.http.Timeout != DefaultTimeout {
			t.Errorf("%s: timeout %v, want %v", name, c.http.Timeout, DefaultTimeout)
		}
	}

	c, err := New(Config{APIKey: key, ListID: "L1", APIURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	c.sem = make(chan struct{}, 100) // no semaphore to speak of
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			if _, err := c.Upsert(context.Background(), ports.Subscriber{Email: fmt.Sprintf("t%d@example.org", i)}, ""); err != nil {
				t.Errorf("Upsert: %v", err)
			}
		})
	}
	wg.Wait()
	if got := fake.MaxInFlight(); got > MaxConnsLimit || got < 2 {
		t.Errorf("max in flight = %d, want 2..%d", got, MaxConnsLimit)
	}
	fake.AssertNoViolations(t)
}
