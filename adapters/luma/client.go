// Package luma implements ports.EventPlatform on Luma's public API (the
// current /v1/events/* family) with net/http: Luma has no maintained Go SDK,
// so this is a thin, typed client for the four calls the application needs:
// create an event, get one, list its guests by approval status (a page at a
// time, by cursor) and update a guest's status.
//
// The API key travels only in the x-luma-api-key header. Errors name what
// was being done ("luma: list guests: ...") and never carry the key, a
// guest's email or a whole body. A 429 is a *ports.TransientError with the
// Retry-After Luma sent; a 5xx, a timeout or a broken connection is
// transient too; other answers are permanent.
//
// Luma allows 200 requests per minute per calendar. A Client never sends
// more than Config.RateLimit requests in any window of Config.RateWindow
// (200 a minute by default): a sliding window delays the request that would
// exceed it. With Config.Shared, every replica also spends from one shared
// allowance per API key, shaped so that all of them together stay within
// the same limit in any window (see sharedRate).
//
// lumafake is an httptest stand-in that enforces the same contract.
package luma

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/womendefiningai/platform/internal/breaker"
	"github.com/womendefiningai/platform/ports"
)

// Defaults for Config.
const (
	DefaultAPIURL     = "https://public-api.luma.com"
	DefaultTimeout    = 30 * time.Second
	DefaultRateLimit  = 200
	DefaultRateWindow = time.Minute
	// Provider names Luma in transient errors and for its circuit breaker.
	Provider = "luma"
	// KeyHeader carries the API key.
	KeyHeader = "x-luma-api-key"
)

// maxResponse bounds how much of a response body is read.
const maxResponse = 8 << 20

// Config configures a Client. With APIKey empty, New returns an
// unconfigured client.
type Config struct {
	APIKey string
	// APIURL overrides DefaultAPIURL (for tests: lumafake.Server.URL).
	APIURL string
	// HTTPClient makes the requests; nil means one with DefaultTimeout.
	HTTPClient *http.Client
	// RateLimit requests at most in any RateWindow (200 a minute).
	RateLimit  int
	RateWindow time.Duration
	// Shared, if set, is the allowance every replica spends from (a
	// PostgreSQL rate limiter), keyed by a hash of the API key.
	Shared ports.RateLimiter
}

// Client is the Luma events platform. It is safe for concurrent use.
type Client struct {
	configured bool
	base       string
	key        string
	http       *http.Client
	limit      *window
	shared     ports.RateLimiter
	sharedKey  string
	sharedRate ports.Rate
}

var _ ports.EventPlatform = (*Client)(nil)

// New returns a client for cfg. Without an API key it returns an
// unconfigured client whose every call returns ports.ErrNotConfigured. A
// malformed APIURL or a negative limit is a configuration error.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" {
		return &Client{}, nil
	}
	base := DefaultAPIURL
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return nil, errors.New("luma: config: APIURL is not an http(s) URL")
		}
		base = strings.TrimRight(cfg.APIURL, "/")
	}
	if cfg.RateLimit < 0 || cfg.RateWindow < 0 {
		return nil, errors.New("luma: config: RateLimit and RateWindow must not be negative")
	}
	limit, per := cfg.RateLimit, cfg.RateWindow
	if limit == 0 {
		limit = DefaultRateLimit
	}
	if per == 0 {
		per = DefaultRateWindow
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	sum := sha256.Sum256([]byte(cfg.APIKey))
	return &Client{configured: true, base: base, key: cfg.APIKey, http: hc, limit: newWindow(limit, per),
		shared: cfg.Shared, sharedKey: "luma:" + hex.EncodeToString(sum[:8]), sharedRate: sharedRate(limit, per)}, nil
}

// sharedRate shapes a shared allowance (GCRA: a burst of Limit, refilled
// evenly over Period) so that at most limit calls pass in any window of
// per: a burst of a tenth of the limit, refilled at the rest per window.
// For 200 a minute: bursts of 20, then one call every third of a second.
func sharedRate(limit int, per time.Duration) ports.Rate {
	burst := max(limit/10, 1)
	if limit <= burst {
		return ports.Rate{Limit: limit, Period: per}
	}
	return ports.Rate{Limit: burst, Period: per * time.Duration(burst) / time.Duration(limit-burst)}
}

// takeShared waits until the shared allowance grants one call.
func (c *Client) takeShared(ctx context.Context) error {
	for {
		d, err := c.shared.Take(ctx, c.sharedKey, 1, c.sharedRate)
		if err != nil {
			return fmt.Errorf("shared rate limit: %w", err)
		}
		if d.Allowed {
			return nil
		}
		t := time.NewTimer(max(d.RetryAfter, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Configured reports whether the client has an API key.
func (c *Client) Configured() bool { return c.configured }

// NotConfiguredReason says, when unconfigured, which setting turns events on.
func (c *Client) NotConfiguredReason() string {
	if c.Configured() {
		return ""
	}
	return "the events platform (Luma) is off on this server; set LUMA_API_KEY"
}

// Error is a non-2xx answer from Luma. It carries the status only: Luma
// documents no error body, and a body could echo what was sent.
type Error struct {
	Status     int
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
}

// do sends one request, with in as its JSON body (nil: none) and query as
// its query string, and decodes a 2xx answer into out (nil: discarded).
func (c *Client) do(ctx context.Context, op, method, path string, query url.Values, in, out any) error {
	if !c.configured {
		return ports.ErrNotConfigured
	}
	err := c.send(ctx, method, path, query, in, out)
	if err == nil {
		return nil
	}
	wrapped := fmt.Errorf("luma: %s: %w", op, err)
	var apiErr *Error
	switch {
	case errors.As(err, &apiErr) && breaker.StatusTransient(apiErr.Status):
		return ports.Transient(Provider, wrapped, apiErr.RetryAfter)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
		return fmt.Errorf("%w: %w", wrapped, ports.ErrNotFound)
	case errors.As(err, &apiErr):
		return ports.Permanent(wrapped)
	default:
		return breaker.NetworkTransient(Provider, wrapped)
	}
}

func (c *Client) send(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return ports.Permanent(fmt.Errorf("encode request: %w", err))
		}
		body = bytes.NewReader(b)
	}
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return ports.Permanent(errors.New("cannot build the request"))
	}
	req.Header.Set(KeyHeader, c.key)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	done, err := c.limit.wait(ctx)
	if err != nil {
		return notSent{fmt.Errorf("waiting for the rate limit: %w", err)}
	}
	if c.shared != nil {
		if err := c.takeShared(ctx); err != nil {
			done()
			return notSent{fmt.Errorf("waiting for the rate limit: %w", err)}
		}
	}
	defer done()
	resp, err := c.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) { // the URL names the event and guest
			return fmt.Errorf("%s %s: %w", method, path, uerr.Err)
		}
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		return &Error{Status: resp.StatusCode, RetryAfter: breaker.RetryAfter(resp.Header, time.Now())}
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// notSent is an error that stopped a request before it was sent.
type notSent struct{ err error }

func (e notSent) Error() string { return e.err.Error() }
func (e notSent) Unwrap() error { return e.err }

// outcomeUnknown reports whether err leaves open whether Luma acted on the
// request: no answer came back (a timeout, a broken connection) or a
// gateway answered 500, 502 or 504 in Luma's place. A refusal (4xx), a 503,
// an open circuit or a request never sent are certain: nothing happened.
func outcomeUnknown(err error) bool {
	if err == nil || errors.As(err, new(notSent)) {
		return false
	}
	if t, ok := ports.AsTransient(err); ok && t.CircuitOpen {
		return false
	}
	var apiErr *Error
	if errors.As(err, &apiErr) {
		switch apiErr.Status {
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	return true
}

// itoa formats n for a query string.
func itoa(n int) string { return strconv.Itoa(n) }
