// Package mailchimp implements ports.EmailList on the Mailchimp Marketing
// API v3 with net/http: Mailchimp has no maintained Go SDK, so this is a thin,
// typed client for the five calls the application needs.
//
// Consent belongs to Mailchimp. The client never sends a member's `status`:
// new members get `status_if_new`, existing members keep theirs, so an
// unsubscribed or cleaned address is never subscribed again. A "compliance
// state" answer is reported as pending, not as an error.
//
// Errors name what was being done ("mailchimp: upsert member: ...") and never
// carry the API key or a whole email address. Those retrying cannot fix are
// marked with ports.Permanent; see Error.Retryable for the classification.
//
// At most Config.MaxConns (10, Mailchimp's per-user limit) requests are in
// flight across one Client: a semaphore bounds them and the transport's
// MaxConnsPerHost bounds the connections. The limit is per process: replicas
// sharing one API key share Mailchimp's 10, so size MaxConns for them.
//
// mailchimpfake is an httptest stand-in that enforces the same contract.
package mailchimp

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // Mailchimp names members by the MD5 of their address; not a security use
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/womendefiningai/platform/internal/breaker"
	"github.com/womendefiningai/platform/ports"
)

// Defaults for Config.
const (
	// DefaultTimeout bounds one request when Config.HTTPClient is nil.
	DefaultTimeout = 30 * time.Second
	// MaxConnsLimit is Mailchimp's limit of simultaneous connections per
	// user, the default and the maximum of Config.MaxConns.
	MaxConnsLimit = 10
)

// maxBatch is how many members one POST /lists/{list} may carry.
const maxBatch = 500

// basicUser is the Basic-auth user name; Mailchimp accepts any.
const basicUser = "wdai"

// maxResponse bounds how much of a response body is read.
const maxResponse = 64 << 20

// dataCentre matches the suffix of an API key: "us6" in "abc123-us6".
var dataCentre = regexp.MustCompile(`^[a-z]{2,}[0-9]+$`)

// Config configures a Client. With APIKey or ListID empty, New returns an
// unconfigured client (see New).
type Config struct {
	// APIKey is "<key>-<dc>", for example "abc123-us6". It is a secret: it
	// only ever travels in the Authorization header.
	APIKey string
	// ListID is the audience (list) id.
	ListID string
	// APIURL overrides the API root, for tests (mailchimpfake.Server.URL).
	// Empty means https://<dc>.api.mailchimp.com/3.0 from the key's suffix.
	APIURL string
	// HTTPClient makes the requests. Nil means a client with DefaultTimeout
	// and a transport limited to MaxConns connections. A given client is
	// copied: when its Transport is nil or an *http.Transport, the copy uses
	// a clone limited to MaxConns connections; any other RoundTripper is used
	// as is (the semaphore still bounds requests). Its Timeout is kept.
	HTTPClient *http.Client
	// MaxConns bounds the requests in flight across the client: 1 to 10,
	// 0 means 10.
	MaxConns int
}

// Client is the Mailchimp email list. It is safe for concurrent use.
type Client struct {
	configured bool
	base       string // API root without a trailing slash
	key        string
	list       string
	http       *http.Client
	sem        chan struct{}
}

var _ ports.EmailList = (*Client)(nil)

// New returns a client for cfg.
//
// With cfg.APIKey or cfg.ListID empty it returns an unconfigured client and
// no error: its every method returns ports.ErrNotConfigured, so
// callers record "skipped: not configured". A key without a data-centre
// suffix and no APIURL, a malformed APIURL or a MaxConns outside 0..10 are
// configuration errors.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" || cfg.ListID == "" {
		return &Client{}, nil
	}
	if cfg.MaxConns < 0 || cfg.MaxConns > MaxConnsLimit {
		return nil, fmt.Errorf("mailchimp: config: MaxConns must be 0..%d, got %d", MaxConnsLimit, cfg.MaxConns)
	}
	maxConns := cfg.MaxConns
	if maxConns == 0 {
		maxConns = MaxConnsLimit
	}
	base, err := apiRoot(cfg)
	if err != nil {
		return nil, err
	}
	return &Client{
		configured: true,
		base:       base,
		key:        cfg.APIKey,
		list:       cfg.ListID,
		http:       httpClient(cfg.HTTPClient, maxConns),
		sem:        make(chan struct{}, maxConns),
	}, nil
}

// Configured reports whether the client has a key and a list; when it has
// not, every call returns ports.ErrNotConfigured.
func (c *Client) Configured() bool { return c.configured }

// apiRoot returns the API root for cfg, without a trailing slash.
func apiRoot(cfg Config) (string, error) {
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return "", errors.New("mailchimp: config: APIURL is not an http(s) URL")
		}
		return strings.TrimRight(cfg.APIURL, "/"), nil
	}
	i := strings.LastIndexByte(cfg.APIKey, '-')
	if i < 0 || !dataCentre.MatchString(cfg.APIKey[i+1:]) {
		return "", errors.New(`mailchimp: config: the API key has no data-centre suffix (like "-us6") and no APIURL is set`)
	}
	return "https://" + cfg.APIKey[i+1:] + ".api.mailchimp.com/3.0", nil
}

// httpClient returns the client to use: a copy of given (or a new one) whose
// transport opens at most maxConns connections per host.
func httpClient(given *http.Client, maxConns int) *http.Client {
	var hc http.Client
	if given != nil {
		hc = *given
	} else {
		hc.Timeout = DefaultTimeout
	}
	var t *http.Transport
	switch rt := hc.Transport.(type) {
	case nil:
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			t = dt.Clone()
		} else {
			t = &http.Transport{Proxy: http.ProxyFromEnvironment}
		}
	case *http.Transport:
		t = rt.Clone()
	default:
		return &hc // a custom RoundTripper: the semaphore alone bounds requests
	}
	t.MaxConnsPerHost = maxConns
	t.MaxIdleConnsPerHost = maxConns
	hc.Transport = t
	return &hc
}

// subscriberHash is Mailchimp's member id: the MD5 of the lowercased address.
func subscriberHash(email string) string {
	sum := md5.Sum([]byte(normalizeEmail(email))) //nolint:gosec // Mailchimp's member id, not a security use
	return hex.EncodeToString(sum[:])
}

// normalizeEmail is the form Mailchimp hashes: trimmed and lowercased.
func normalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// memberPath is the path of one member of the list.
func (c *Client) memberPath(hash string) string {
	return "/lists/" + url.PathEscape(c.list) + "/members/" + hash
}

// do sends one request with in as its JSON body (nil: none) and decodes a
// 2xx answer into out (nil: discarded). A non-2xx answer is an *Error;
// transport failures are returned without the URL. Classification and
// wrapping are left to the caller (fail).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return ports.Permanent(fmt.Errorf("encode request: %w", err))
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return ports.Permanent(errors.New("cannot build the request"))
	}
	req.SetBasicAuth(basicUser, c.key)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("waiting for a connection slot: %w", ctx.Err())
	}
	defer func() { <-c.sem }()

	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error quotes the URL, which names the list and member: keep
		// the method and the cause (timeouts stay detectable through it).
		var uerr *url.Error
		if errors.As(err, &uerr) {
			return fmt.Errorf("%s: %w", method, uerr.Err)
		}
		return fmt.Errorf("%s: %w", method, err)
	}
	defer func() { _ = resp.Body.Close() }()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.apiError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	return nil
}

// fail wraps err with what was being done and classifies it: permanent
// unless retrying can help (see Error.Retryable), transient for a retryable
// answer (with its Retry-After) and for network failures and timeouts.
func (c *Client) fail(op string, err error) error {
	wrapped := fmt.Errorf("mailchimp: %s: %w", op, err)
	var apiErr *Error
	if errors.As(err, &apiErr) {
		if !apiErr.Retryable() {
			return ports.Permanent(wrapped)
		}
		return ports.Transient(providerName, wrapped, apiErr.retryAfter)
	}
	return breaker.NetworkTransient(providerName, wrapped)
}

// providerName names Mailchimp in transient errors and its circuit breaker.
const providerName = "mailchimp"

// invalid is a permanent error for an argument no request could fix.
func invalid(op, what string) error {
	return ports.Permanent(fmt.Errorf("mailchimp: %s: %s", op, what))
}
