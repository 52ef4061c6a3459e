package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/womendefiningai/platform/adapters/httpapi"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// refusingVerifier refuses every token, as a forged or expired one is.
type refusingVerifier struct{}

func (refusingVerifier) Configured() bool { return true }

func (refusingVerifier) Verify(context.Context, string) (ports.Session, error) {
	return ports.Session{}, ports.ErrInvalidToken
}

// Every failed authentication (a forged token, a header that is no Bearer
// token) is handed to the failure hook before the 401: the hook may answer
// instead (the rate limit's 429), and the request never reaches the next
// handler.
func TestFailedAuthenticationGoesThroughTheFailureHook(t *testing.T) {
	t.Parallel()
	var seen, allowed int
	hook := func(w http.ResponseWriter, _ *http.Request) bool {
		seen++
		if seen > 2 {
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		allowed++
		return false
	}
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("a refused request reached the next handler") })
	h := httpapi.Authenticate(refusingVerifier{}, func(context.Context, ports.Session) (access.Principal, error) {
		t.Error("authenticate called for a refused token")
		return access.Anonymous(), nil
	}, slog.New(slog.DiscardHandler), httpapi.OnFailedAuthentication(hook))(next)
	want := []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusTooManyRequests}
	headers := []string{"Bearer forged", "Basic abc", "Bearer forged", "Bearer "}
	for i, code := range want {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/graphql", nil)
		req.Header.Set("Authorization", headers[i])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != code {
			t.Fatalf("request %d (%q): %d, want %d", i+1, headers[i], rec.Code, code)
		}
	}
	if seen != 4 || allowed != 2 {
		t.Fatalf("hook saw %d failures and let %d through, want 4 and 2", seen, allowed)
	}
}

// A 503 (a provider or an integration unavailable, retry later) is logged
// at WARN, not ERROR: an anonymous POST to an unconfigured webhook, or a
// provider outage, must not write an ERROR line per request. A 500 stays
// ERROR.
func TestUnavailableIsWarnAndInternalIsError(t *testing.T) {
	t.Parallel()
	logs := &syncWriter{buf: &bytes.Buffer{}}
	h, err := httpapi.NewHandler(httpapi.Config{
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Registry: prometheus.NewRegistry(),
		GraphQL: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }),
		Routes:  map[string]http.Handler{"/webhooks/clerk": httpapi.NotConfigured("the Clerk webhook (CLERK_WEBHOOK_SECRET)")},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	for _, path := range []string{"/webhooks/clerk", "/webhooks/clerk", "/graphql"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	lines := waitForLogLines(t, logs, 3)
	levels := map[string]int{}
	for _, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		levels[fmt.Sprint(e["status"], " ", e["level"])]++
	}
	if levels["503 WARN"] != 2 || levels["500 ERROR"] != 1 || len(levels) != 2 {
		t.Fatalf("access lines by status and level: %v, want 503 WARN ×2 and 500 ERROR ×1", levels)
	}
}
