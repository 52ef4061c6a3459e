package slack_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/slack"
	"github.com/womendefiningai/platform/adapters/slack/slackfake"
	"github.com/womendefiningai/platform/domain/chatstatus"
	"github.com/womendefiningai/platform/ports"
)

func newDirectory(t *testing.T, url, token string) *slack.Directory {
	t.Helper()
	d, err := slack.New(slack.Config{Token: token, APIURL: url})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestListUsersPagesAndMapsStates(t *testing.T) {
	t.Parallel()
	accounts := []slackfake.Account{
		{ID: "U1", Email: " Ada@Example.ORG "},
		{ID: "U2", Email: "guest@example.org", Restricted: true},
		{ID: "U3", Email: "gone@example.org", Deleted: true},
		{ID: "B1", Bot: true},
	}
	for i := range 2496 {
		accounts = append(accounts, slackfake.Account{ID: fmt.Sprintf("U%05d", i), Email: fmt.Sprintf("m%d@example.org", i)})
	}
	fake := slackfake.New(accounts...)
	t.Cleanup(fake.Close)
	d := newDirectory(t, strings.TrimSuffix(fake.URL(), "/"), slackfake.Token) // the slash is added

	var got []ports.ChatUser
	cursor, pages := "", 0
	for {
		page, err := d.ListUsers(t.Context(), cursor, ports.ChatPageMax)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Users...)
		pages++
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if pages != 3 || fake.Calls("users.list") != 3 || len(got) != 2500 {
		t.Fatalf("pages %d, server calls %d, users %d; want 3, 3, 2500", pages, fake.Calls("users.list"), len(got))
	}
	want := []ports.ChatUser{
		{ID: "U1", Email: "ada@example.org", Account: chatstatus.AccountActive},
		{ID: "U2", Email: "guest@example.org", Account: chatstatus.AccountRestricted},
		{ID: "U3", Email: "gone@example.org", Account: chatstatus.AccountDeleted},
		{ID: "B1", Account: chatstatus.AccountActive, Bot: true},
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("user %d = %+v, want %+v", i, got[i], w)
		}
	}
}

func TestLookupByEmail(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(slackfake.Account{ID: "U1", Email: "ada@example.org", Restricted: true})
	t.Cleanup(fake.Close)
	d := newDirectory(t, fake.URL(), slackfake.Token)

	u, err := d.LookupByEmail(t.Context(), "ADA@example.org")
	if err != nil || u.ID != "U1" || u.Account != chatstatus.AccountRestricted {
		t.Fatalf("LookupByEmail = %+v, %v", u, err)
	}
	_, err = d.LookupByEmail(t.Context(), "nobody@example.org")
	if !errors.Is(err, ports.ErrNotFound) || ports.IsTransient(err) || strings.Contains(err.Error(), "nobody") {
		t.Fatalf("missing user: %v; want ErrNotFound without the address", err)
	}
	if fake.Calls("users.lookupByEmail") != 2 {
		t.Errorf("server calls = %d, want 2", fake.Calls("users.lookupByEmail"))
	}
}

func TestRateLimitIsTransientWithItsWait(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(slackfake.Account{ID: "U1", Email: "ada@example.org"})
	t.Cleanup(fake.Close)
	d := newDirectory(t, fake.URL(), slackfake.Token)
	fake.RateLimit("users.list", "", 120)
	fake.RateLimit("users.lookupByEmail", "", 7)

	_, err := d.ListUsers(t.Context(), "", 10)
	te, ok := ports.AsTransient(err)
	if !ok || te.RetryAfter != 120*time.Second || te.Provider != slack.ProviderName {
		t.Fatalf("list error = %v (%+v); want transient, retry after 2m", err, te)
	}
	_, err = d.LookupByEmail(t.Context(), "ada@example.org")
	if te, ok := ports.AsTransient(err); !ok || te.RetryAfter != 7*time.Second {
		t.Fatalf("lookup error = %v; want transient, retry after 7s", err)
	}
	if page, err := d.ListUsers(t.Context(), "", 10); err != nil || len(page.Users) != 1 {
		t.Fatalf("after the wait: %v, %v", page, err)
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	fake := slackfake.New()
	t.Cleanup(fake.Close)
	bad := newDirectory(t, fake.URL(), "xoxb-wrong")
	_, err := bad.ListUsers(t.Context(), "", 10)
	if !ports.IsPermanent(err) || strings.Contains(err.Error(), "xoxb") {
		t.Errorf("bad token: %v; want permanent, without the token", err)
	}
	good := newDirectory(t, fake.URL(), slackfake.Token)
	if _, err := good.ListUsers(t.Context(), "bm90LWEtY3Vyc29y", 10); !ports.IsPermanent(err) {
		t.Errorf("unknown cursor: %v; want permanent", err)
	}
	before := fake.Calls("")
	if _, err := good.ListUsers(t.Context(), "", 1001); !ports.IsPermanent(err) || fake.Calls("") != before {
		t.Errorf("limit 1001: %v, calls %d → %d; want permanent and no call", err, before, fake.Calls(""))
	}

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(down.Close)
	_, err = newDirectory(t, down.URL, slackfake.Token).ListUsers(t.Context(), "", 10)
	if !ports.IsTransient(err) {
		t.Errorf("502: %v; want transient", err)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	if _, err = newDirectory(t, url, slackfake.Token).LookupByEmail(t.Context(), "a@b.c"); !ports.IsTransient(err) {
		t.Errorf("refused connection: %v; want transient", err)
	}
}

func TestUnconfigured(t *testing.T) {
	t.Parallel()
	d, err := slack.New(slack.Config{APIURL: "https://slack.example/api/"})
	if err != nil || d.Configured() {
		t.Fatalf("New without a token = %v, configured %v", err, d.Configured())
	}
	ctx := context.Background()
	if _, err := d.ListUsers(ctx, "", 10); !errors.Is(err, ports.ErrNotConfigured) {
		t.Errorf("ListUsers = %v", err)
	}
	if _, err := d.LookupByEmail(ctx, "a@b.c"); !errors.Is(err, ports.ErrNotConfigured) {
		t.Errorf("LookupByEmail = %v", err)
	}
	if _, err := slack.New(slack.Config{Token: "xoxb-1", APIURL: "slack.example/api"}); err == nil {
		t.Error("an APIURL without a scheme was accepted")
	}
}

// TestAnswersAreBounded: an answer past MaxResponseBytes fails permanently
// after reading at most that much, whatever the server sends.
func TestAnswersAreBounded(t *testing.T) {
	t.Parallel()
	var sent atomic.Int64
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true,"members":[{"id":"U1","profile":{"email":"`))
		chunk := []byte(strings.Repeat("a", 1<<20))
		for range 64 { // 64 MiB, over five times the bound
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(huge.Close)
	_, err := newDirectory(t, huge.URL, slackfake.Token).ListUsers(t.Context(), "", 10)
	if !ports.IsPermanent(err) {
		t.Fatalf("a 64 MiB answer: %v; want a permanent error", err)
	}
	t.Logf("server wrote %d MiB before the client stopped reading (bound %d MiB)", sent.Load()>>20, slack.MaxResponseBytes>>20)
}
