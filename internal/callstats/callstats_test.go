package callstats_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/womendefiningai/platform/internal/callstats"
	"github.com/womendefiningai/platform/ports"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code} }
	for _, tc := range []struct {
		name string
		resp *http.Response
		err  error
		want string
	}{
		{"2xx", resp(200), nil, callstats.Success},
		{"404 is the provider answering", resp(404), nil, callstats.ClientError},
		{"401", resp(401), nil, callstats.Unauthorized},
		{"429", resp(429), nil, callstats.RateLimited},
		{"503", resp(503), nil, callstats.ServerError},
		{"open breaker", nil, &ports.TransientError{Provider: "p", CircuitOpen: true, Err: errors.New("open")}, callstats.CircuitOpen},
		{"deadline", nil, context.DeadlineExceeded, callstats.Timeout},
		{"caller gave up", nil, context.Canceled, callstats.Canceled},
		{"refused", nil, errors.New("connection refused"), callstats.Network},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := callstats.Classify(tc.resp, tc.err); got != tc.want {
				t.Fatalf("Classify = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRecorderCountsDrainsAndRestores(t *testing.T) {
	t.Parallel()
	r := callstats.New("p1", nil, "mailchimp")
	r.Observe("mailchimp", callstats.Success)
	r.Observe("mailchimp", callstats.RateLimited)
	r.Observe("mailchimp", callstats.Canceled) // not the provider's doing: not counted
	r.Waited("mailchimp")
	got := r.Drain()
	if len(got) != 1 || got[0].Calls != 2 || got[0].Failures != 1 || got[0].RateLimited != 2 || got[0].LastErrorClass != callstats.RateLimited {
		t.Fatalf("drained %+v; want 2 calls, 1 failure, 2 rate-limit hits (a 429 and a wait)", got)
	}
	if p := r.Pending(); len(p) != 0 {
		t.Fatalf("pending after drain: %+v", p)
	}
	r.Observe("mailchimp", callstats.Success)
	r.Restore(got) // a sample that could not be written
	if p := r.Pending(); len(p) != 1 || p[0].Calls != 3 || p[0].RateLimited != 2 {
		t.Fatalf("pending after restore %+v; want the drained counts back plus the new call", p)
	}
	if r.ProcessID() != "p1" || len(r.Breakers()) != 0 {
		t.Fatal("process id or breakers wrong")
	}
}
