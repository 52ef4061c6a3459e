// Package slack implements ports.ChatDirectory on Slack's Web API with
// github.com/slack-go/slack. It only reads: users.list (Tier 2, cursor
// pages of up to 1,000 accounts, deleted ones included) and
// users.lookupByEmail (Tier 3). The bot token needs the users:read and
// users:read.email scopes, nothing more.
//
// Each account's state is mapped for the port: deleted → deleted, a guest
// (is_restricted or is_ultra_restricted) → restricted, anyone else → active.
// Bots and Slackbot are marked as bots, which no person owns.
//
// A users.list page is refused, before slack-go decodes it, when it holds
// more accounts than the limit asked for, and any answer past
// MaxResponseBytes is refused after reading that much. Both are permanent:
// Slack's contract is broken, another attempt would fetch the same answer,
// and the run's dead letter tells an operator (the next scheduled run
// starts afresh). The Luma client refuses a guest page the same way.
//
// Errors name what was being done and never carry the token or an address.
// A 429 (*slack.RateLimitedError) becomes a *ports.TransientError with the
// Retry-After wait; 5xx answers, Slack's own internal errors and failed
// connections are transient too; an answer that retrying cannot change
// (invalid_auth, missing_scope, ...) is marked permanent.
//
// slackfake serves a workspace on slack-go's slacktest server, with the
// users.list handler slacktest lacks.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/womendefiningai/platform/domain/chatstatus"
	"github.com/womendefiningai/platform/internal/breaker"
	"github.com/womendefiningai/platform/ports"
)

// ProviderName names Slack in transient errors and its circuit breaker.
const ProviderName = "slack"

// DefaultAPIURL is Slack's Web API root.
const DefaultAPIURL = "https://slack.com/api/"

// DefaultTimeout bounds one request when Config.HTTPClient is nil.
const DefaultTimeout = 30 * time.Second

// Config configures a Directory. With Token empty, New returns an
// unconfigured directory.
type Config struct {
	// Token is the bot token (xoxb-...). It is a secret: it only travels in
	// requests to APIURL.
	Token string
	// APIURL overrides the API root, for tests (slacktest's GetAPIURL()).
	// Empty means DefaultAPIURL. A missing trailing slash is added.
	APIURL string
	// HTTPClient makes the requests (a copy of it, whose answers are capped
	// at MaxResponseBytes); nil means a client with DefaultTimeout.
	HTTPClient *http.Client
}

// Directory is Slack's user directory. It is safe for concurrent use.
type Directory struct {
	api *slack.Client // nil: not configured
}

var _ ports.ChatDirectory = (*Directory)(nil)

// New returns a directory for cfg: unconfigured (every call returns
// ports.ErrNotConfigured) without a token; an APIURL that is not an
// http(s) URL is a configuration error.
func New(cfg Config) (*Directory, error) {
	if cfg.Token == "" {
		return &Directory{}, nil
	}
	root := cfg.APIURL
	if root == "" {
		root = DefaultAPIURL
	}
	if !strings.HasPrefix(root, "http://") && !strings.HasPrefix(root, "https://") {
		return nil, errors.New("slack: config: APIURL must be an http(s) URL")
	}
	if !strings.HasSuffix(root, "/") {
		root += "/" // slack-go joins the method name without a separator
	}
	client := &http.Client{Timeout: DefaultTimeout}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		client = &c
	}
	client.Transport = limitedBody{base: client.Transport, max: MaxResponseBytes}
	return &Directory{api: slack.New(cfg.Token, slack.OptionAPIURL(root), slack.OptionHTTPClient(client))}, nil
}

// MaxResponseBytes bounds one answer. A users.list page of 1,000 accounts
// whose owners filled in every profile field is about 2.7 MiB
// (TestARealisticPageFitsTheCapWithHeadroom); the cap is over four times
// that. Past it the call fails (permanently) instead of reading on.
const MaxResponseBytes = 12 << 20

// limitedBody fails a response body read past max bytes. An answer to a
// request whose context carries a page limit (pageLimitKey) is read whole
// (within max) and its accounts counted before anything decodes it, so a
// page of more accounts than asked for costs the bytes read and no more:
// decoding 100,000 accounts into slack-go's users took over 450 MiB.
type limitedBody struct {
	base http.RoundTripper
	max  int64
}

// pageLimitKey is the context key of a users.list call's limit.
type pageLimitKey struct{}

// tooManyError is a page that holds more accounts than the limit asked for.
type tooManyError struct{ got, limit int }

func (e tooManyError) Error() string {
	return fmt.Sprintf("%d accounts in one page, more than the %d asked for", e.got, e.limit)
}

func (t limitedBody) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedReader{rc: resp.Body, left: t.max}
	limit, ok := req.Context().Value(pageLimitKey{}).(int)
	if !ok || resp.StatusCode != http.StatusOK {
		return resp, nil
	}
	raw, err := readAll(resp.Body, resp.ContentLength, t.max)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if n := countMembers(raw); n > limit {
		return nil, tooManyError{got: n, limit: limit}
	}
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(raw)), int64(len(raw))
	return resp, nil
}

// readAll reads a body of size bytes (-1: unknown), which the body's cap
// holds to at most most bytes: into a buffer of that size when it is known.
func readAll(body io.Reader, size, most int64) ([]byte, error) {
	if size <= 0 || size > most {
		return io.ReadAll(body) //nolint:wrapcheck // the capped reader's own error, classified by the caller
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(body, buf); err != nil {
		return nil, err //nolint:wrapcheck // as above
	}
	return buf, nil
}

// countMembers counts the accounts of a users.list answer without keeping
// any (each decodes into an empty struct); 0 for an answer that is not
// JSON, which slack-go then reports.
func countMembers(raw []byte) int {
	var probe struct {
		Members []struct{} `json:"members"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return 0
	}
	return len(probe.Members)
}

// errTooLarge is returned by a body read past MaxResponseBytes.
var errTooLarge = fmt.Errorf("answer larger than %d bytes", MaxResponseBytes)

type cappedReader struct {
	rc   io.ReadCloser
	left int64
}

func (r *cappedReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.rc.Read(p)
	r.left -= int64(n)
	return n, err
}

func (r *cappedReader) Close() error { return r.rc.Close() }

// Configured reports whether a token was given.
func (d *Directory) Configured() bool { return d.api != nil }

// ListUsers returns one users.list page from cursor.
func (d *Directory) ListUsers(ctx context.Context, cursor string, limit int) (ports.ChatUserPage, error) {
	if d.api == nil {
		return ports.ChatUserPage{}, ports.ErrNotConfigured
	}
	if limit < 1 || limit > ports.ChatPageMax {
		return ports.ChatUserPage{}, ports.Permanent(fmt.Errorf("slack: list users: limit %d is outside 1..%d", limit, ports.ChatPageMax))
	}
	p := d.api.GetUsersPaginated(slack.GetUsersOptionLimit(limit), slack.GetUsersOptionCursor(cursor))
	p, err := p.Next(context.WithValue(ctx, pageLimitKey{}, limit))
	if err != nil {
		return ports.ChatUserPage{}, classify("list users", err)
	}
	page := ports.ChatUserPage{Users: make([]ports.ChatUser, 0, len(p.Users)), Next: p.Cursor}
	for i := range p.Users {
		page.Users = append(page.Users, user(&p.Users[i]))
	}
	return page, nil
}

// LookupByEmail asks users.lookupByEmail for the account with email.
func (d *Directory) LookupByEmail(ctx context.Context, email string) (ports.ChatUser, error) {
	if d.api == nil {
		return ports.ChatUser{}, ports.ErrNotConfigured
	}
	u, err := d.api.GetUserByEmailContext(ctx, email)
	if err != nil {
		return ports.ChatUser{}, classify("look up by email", err)
	}
	return user(u), nil
}

// user maps a Slack account onto the port.
func user(u *slack.User) ports.ChatUser {
	acc := chatstatus.AccountActive
	switch {
	case u.Deleted:
		acc = chatstatus.AccountDeleted
	case u.IsRestricted || u.IsUltraRestricted:
		acc = chatstatus.AccountRestricted
	}
	return ports.ChatUser{
		ID:      u.ID,
		Email:   strings.ToLower(strings.TrimSpace(u.Profile.Email)),
		Account: acc,
		Bot:     u.IsBot || u.ID == "USLACKBOT",
	}
}

// Slack's error codes: the answer names no such account, or the call can
// never succeed as configured.
var (
	notFound  = map[string]bool{"users_not_found": true, "user_not_found": true}
	permanent = map[string]bool{
		"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
		"token_expired": true, "no_permission": true, "missing_scope": true, "not_allowed_token_type": true,
		"invalid_cursor": true, "invalid_arguments": true, "invalid_arg_name": true, "team_access_not_granted": true,
	}
)

// classify turns a slack-go error into the port's classes. No address or
// token is in any of them: slack-go's errors carry neither.
func classify(doing string, err error) error {
	if errors.Is(err, errTooLarge) { // not the URL-wrapped text
		return ports.Permanent(fmt.Errorf("slack: %s: %w", doing, errTooLarge))
	}
	var many tooManyError
	if errors.As(err, &many) {
		return ports.Permanent(fmt.Errorf("slack: %s: %w", doing, many))
	}
	if t, ok := ports.AsTransient(err); ok { // an open circuit breaker
		return ports.Transient(ProviderName, fmt.Errorf("slack: %s: %w", doing, err), t.RetryAfter)
	}
	var rate *slack.RateLimitedError
	if errors.As(err, &rate) {
		return ports.Transient(ProviderName, fmt.Errorf("slack: %s: rate limited: %w", doing, err), rate.RetryAfter)
	}
	var status slack.StatusCodeError
	if errors.As(err, &status) {
		if breaker.StatusTransient(status.Code) {
			return ports.Transient(ProviderName, fmt.Errorf("slack: %s: %w", doing, err), 0)
		}
		return ports.Permanent(fmt.Errorf("slack: %s: %w", doing, err))
	}
	var answer slack.SlackErrorResponse
	if errors.As(err, &answer) {
		switch {
		case notFound[answer.Err]:
			return fmt.Errorf("slack: %s: %w", doing, ports.ErrNotFound)
		case permanent[answer.Err]:
			return ports.Permanent(fmt.Errorf("slack: %s: %s", doing, answer.Err))
		default: // internal_error, fatal_error, service_unavailable, ratelimited, ...
			return ports.Transient(ProviderName, fmt.Errorf("slack: %s: %s", doing, answer.Err), 0)
		}
	}
	return breaker.NetworkTransient(ProviderName, fmt.Errorf("slack: %s: %w", doing, err))
}
