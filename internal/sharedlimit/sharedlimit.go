// Package sharedlimit holds a provider's HTTP calls to its published limits
// across every replica: a number of simultaneous connections (a semaphore
// kept in PostgreSQL) or a number of requests per period (the shared rate
// limiter). A call over the limit waits for its turn until its context
// ends; it is never dropped.
package sharedlimit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// Semaphore hands out a slot; the returned func gives it back.
type Semaphore interface {
	Acquire(ctx context.Context) (release func(), err error)
}

// Connections wraps base so that each call holds a slot of sem from before
// it is sent until its answer's body is closed.
func Connections(base http.RoundTripper, sem Semaphore) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return connections{base: base, sem: sem}
}

type connections struct {
	base http.RoundTripper
	sem  Semaphore
}

func (c connections) RoundTrip(req *http.Request) (*http.Response, error) {
	release, err := c.sem.Acquire(req.Context())
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		release()
		return nil, err //nolint:wrapcheck // a RoundTripper returns its transport's error as is
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

type releasingBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err //nolint:wrapcheck // the body's own error
}

// Rate is one allowance of a shared rate limiter: a key and its rate.
type Rate struct {
	Key  string
	Rate ports.Rate
}

// Requests wraps base so that each call first spends one unit of the
// allowance pick chooses for it, waiting (as the limiter says) while none
// is left. waited, if set, is told each time a call has to wait.
func Requests(base http.RoundTripper, limiter ports.RateLimiter, pick func(*http.Request) Rate, waited func()) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return requests{base: base, limiter: limiter, pick: pick, waited: waited}
}

// Deferring wraps base like Requests, except that a call over the
// allowance is neither sent nor kept waiting: it gets a made-up 429 answer
// with the wait as Retry-After, the provider's own way of saying "later",
// so that the caller defers the work as it does for the provider's 429.
func Deferring(base http.RoundTripper, limiter ports.RateLimiter, pick func(*http.Request) Rate) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return requests{base: base, limiter: limiter, pick: pick, deferOver: true}
}

type requests struct {
	base      http.RoundTripper
	limiter   ports.RateLimiter
	pick      func(*http.Request) Rate
	waited    func()
	deferOver bool
}

// maxWait bounds one sleep, so that a wrong answer cannot stall a call.
const maxWait = 5 * time.Second

func (r requests) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.deferOver {
		rate := r.pick(req)
		d, err := r.limiter.Take(req.Context(), rate.Key, 1, rate.Rate)
		if err != nil {
			return nil, fmt.Errorf("shared limit %s: %w", rate.Key, err)
		}
		if !d.Allowed {
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return tooManyRequests(req, d.RetryAfter), nil
		}
		return r.base.RoundTrip(req) //nolint:wrapcheck // a RoundTripper returns its transport's error as is
	}
	if err := r.take(req.Context(), r.pick(req)); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	return r.base.RoundTrip(req) //nolint:wrapcheck // a RoundTripper returns its transport's error as is
}

func (r requests) take(ctx context.Context, rate Rate) error {
	for waited := false; ; {
		d, err := r.limiter.Take(ctx, rate.Key, 1, rate.Rate)
		if err != nil {
			return fmt.Errorf("shared limit %s: %w", rate.Key, err)
		}
		if d.Allowed {
			return nil
		}
		if !waited && r.waited != nil {
			r.waited()
		}
		waited = true
		t := time.NewTimer(min(max(d.RetryAfter, time.Millisecond), maxWait))
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(fmt.Errorf("waiting for the shared limit %s", rate.Key), ctx.Err())
		case <-t.C:
		}
	}
}

// tooManyRequests is a 429 answer made up for req, asking for wait.
func tooManyRequests(req *http.Request, wait time.Duration) *http.Response {
	secs := int((wait + time.Second - 1) / time.Second)
	body := `{"ok":false,"error":"ratelimited"}`
	return &http.Response{
		Status: "429 Too Many Requests", StatusCode: http.StatusTooManyRequests, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Retry-After": {strconv.Itoa(max(secs, 1))}, "Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
