package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/womendefiningai/platform/adapters/httpapi"
	"github.com/womendefiningai/platform/ports"
)

const cronSecret = "s3cret-cron-token-0123456789"

// jobsFake records the enqueues the handler asks for.
type jobsFake struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (f *jobsFake) enqueue(_ context.Context, job string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, job)
	if f.err != nil {
		return "", f.err
	}
	return fmt.Sprintf("run-%d", len(f.calls)), nil
}

func (f *jobsFake) enqueued() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// lockedBuffer collects logs written by the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func isKnownJob(job string) bool { return job == "luma_approval" || job == "slack_sync" }

// jobsServer mounts the handler the way cmd/wdai does: on the root handler's
// mux and middleware chain.
func jobsServer(t *testing.T, secret string, f *jobsFake, logs *lockedBuffer) *httptest.Server {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	h, err := httpapi.NewHandler(httpapi.Config{
		GraphQL:  http.NotFoundHandler(),
		Registry: prometheus.NewRegistry(),
		Routes: map[string]http.Handler{
			"/jobs/{name}": httpapi.JobsHandler(secret, f.enqueue, isKnownJob, httpapi.WithJobsLogger(logger)),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, srv *httptest.Server, method, path, auth string) (*http.Response, map[string]string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", method, path, err)
	}
	return resp, body
}

func TestJobsHandlerRefusesMissingOrWrongSecretWithoutEnqueueing(t *testing.T) {
	t.Parallel()
	f := &jobsFake{}
	srv := jobsServer(t, cronSecret, f, nil)
	for _, auth := range []string{
		"",
		"Bearer wrong",
		"Bearer " + cronSecret + "x",
		"Bearer " + cronSecret[:len(cronSecret)-1],
		"Bearer",
		"Bearer ",
		cronSecret,
		"Basic " + cronSecret,
		"Token " + cronSecret,
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			for _, path := range []string{"/jobs/luma_approval", "/jobs/no_such_job"} {
				resp, _ := call(t, srv, method, path, auth)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s %s with %q: status %d, want 401", method, path, auth, resp.StatusCode)
				}
				if wa := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Bearer") {
					t.Errorf("%s %s with %q: WWW-Authenticate %q, want Bearer", method, path, auth, wa)
				}
			}
		}
	}
	if got := f.enqueued(); len(got) != 0 {
		t.Fatalf("enqueued %v without a valid secret", got)
	}
}

func TestJobsHandlerWithoutAConfiguredSecretAuthenticatesNobody(t *testing.T) {
	t.Parallel()
	f := &jobsFake{}
	srv := jobsServer(t, "", f, nil)
	for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer anything"} {
		resp, _ := call(t, srv, http.MethodPost, "/jobs/slack_sync", auth)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("with %q: status %d, WWW-Authenticate %q; want 401 Bearer", auth, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	if got := f.enqueued(); len(got) != 0 {
		t.Fatalf("enqueued %v with no secret configured", got)
	}
}

func TestJobsHandlerEnqueuesAKnownJobAndAnswers202WithTheRunID(t *testing.T) {
	t.Parallel()
	f := &jobsFake{}
	srv := jobsServer(t, cronSecret, f, nil)
	tests := []struct{ method, job, auth, runID string }{
		{http.MethodPost, "luma_approval", "Bearer " + cronSecret, "run-1"},
		{http.MethodGet, "slack_sync", "Bearer " + cronSecret, "run-2"},
		{http.MethodPost, "slack_sync", "bearer " + cronSecret, "run-3"}, // the scheme is case-insensitive
	}
	for _, tc := range tests {
		resp, body := call(t, srv, tc.method, "/jobs/"+tc.job, tc.auth)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("%s /jobs/%s: status %d, want 202", tc.method, tc.job, resp.StatusCode)
		}
		if body["run_id"] != tc.runID || body["job"] != tc.job {
			t.Fatalf("%s /jobs/%s: body %v, want run_id %s and job %s", tc.method, tc.job, body, tc.runID, tc.job)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
	}
	if got := strings.Join(f.enqueued(), ","); got != "luma_approval,slack_sync,slack_sync" {
		t.Fatalf("enqueued %s", got)
	}
}

func TestJobsHandlerAnswers404ForAnUnknownJobAfterAuth(t *testing.T) {
	t.Parallel()
	f := &jobsFake{}
	srv := jobsServer(t, cronSecret, f, nil)
	for _, path := range []string{"/jobs/mailchimp_resync", "/jobs/LUMA_APPROVAL", "/jobs/luma_approval%20"} {
		resp, body := call(t, srv, http.MethodPost, path, "Bearer "+cronSecret)
		if resp.StatusCode != http.StatusNotFound || body["error"] != "unknown job" {
			t.Errorf("POST %s: status %d, body %v; want 404 unknown job", path, resp.StatusCode, body)
		}
	}
	if got := f.enqueued(); len(got) != 0 {
		t.Fatalf("enqueued %v for unknown jobs", got)
	}
}

func TestJobsHandlerAnswers405ForOtherMethods(t *testing.T) {
	t.Parallel()
	f := &jobsFake{}
	srv := jobsServer(t, cronSecret, f, nil)
	for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
		resp, _ := call(t, srv, method, "/jobs/slack_sync", "Bearer "+cronSecret)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" {
			t.Errorf("%s: status %d, Allow %q; want 405 with GET, POST", method, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if got := f.enqueued(); len(got) != 0 {
		t.Fatalf("enqueued %v for other methods", got)
	}
}

func TestJobsHandlerMapsEnqueueErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		status int
		logged bool
	}{
		{"slot taken", fmt.Errorf("enqueue: %w", ports.ErrSlotTaken), http.StatusConflict, false},
		{"store down", errors.New("postgres: begin: connection refused"), http.StatusInternalServerError, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logs := &lockedBuffer{}
			srv := jobsServer(t, cronSecret, &jobsFake{err: tc.err}, logs)
			resp, body := call(t, srv, http.MethodPost, "/jobs/slack_sync", "Bearer "+cronSecret)
			if resp.StatusCode != tc.status || body["run_id"] != "" {
				t.Fatalf("status %d, body %v; want %d without a run id", resp.StatusCode, body, tc.status)
			}
			if strings.Contains(body["error"], "connection refused") {
				t.Errorf("the response leaks the internal error: %v", body)
			}
			if got := strings.Contains(logs.String(), "connection refused"); got != tc.logged {
				t.Errorf("error logged = %v, want %v; logs: %s", got, tc.logged, logs)
			}
			if strings.Contains(logs.String(), cronSecret) {
				t.Error("the secret was logged")
			}
		})
	}
}
