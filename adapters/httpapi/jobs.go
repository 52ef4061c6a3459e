package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/womendefiningai/platform/ports"
)

// JobsOption tunes JobsHandler.
type JobsOption func(*jobsHandler)

// WithJobsLogger logs failed enqueues (an error the caller sees only as a
// 500) to logger.
func WithJobsLogger(logger *slog.Logger) JobsOption {
	return func(h *jobsHandler) { h.logger = logger }
}

// JobsHandler serves GET and POST /jobs/{name}, the trigger an external
// scheduler calls. Mount it on a pattern with a {name} wildcard:
//
//	Routes: map[string]http.Handler{"/jobs/{name}": httpapi.JobsHandler(...)}
//
// The request must carry "Authorization: Bearer <secret>"; anything else,
// and any request while secret is empty, gets 401 with WWW-Authenticate:
// Bearer. After that: 405 for other methods, 404 for a job isKnown rejects,
// 409 when enqueue reports ports.ErrSlotTaken, 500 for other enqueue errors,
// and 202 with {"run_id": ..., "job": ...} once the run is enqueued.
func JobsHandler(secret string, enqueue func(ctx context.Context, job string) (runID string, err error), isKnown func(job string) bool, opts ...JobsOption) http.Handler {
	h := &jobsHandler{enqueue: enqueue, isKnown: isKnown, logger: slog.New(slog.DiscardHandler)}
	if secret != "" {
		sum := sha256.Sum256([]byte(secret))
		h.secretSum = sum[:]
	}
	for _, o := range opts {
		o(h)
	}
	return h
}

type jobsHandler struct {
	secretSum []byte // nil: no secret configured, nothing authenticates
	enqueue   func(ctx context.Context, job string) (string, error)
	isKnown   func(job string) bool
	logger    *slog.Logger
}

func (h *jobsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="jobs"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		return
	}
	job := r.PathValue("name")
	if job == "" || h.isKnown == nil || !h.isKnown(job) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown job"})
		return
	}
	if h.enqueue == nil {
		h.logger.ErrorContext(r.Context(), "jobs: no enqueue function", "job", job)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	runID, err := h.enqueue(r.Context(), job)
	switch {
	case errors.Is(err, ports.ErrSlotTaken):
		writeJSON(w, http.StatusConflict, map[string]string{"error": "this job's slot already has a run", "job": job})
	case err != nil:
		h.logger.ErrorContext(r.Context(), "jobs: enqueue failed", "job", job, "request_id", RequestID(r.Context()), "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	default:
		writeJSON(w, http.StatusAccepted, map[string]string{"run_id": runID, "job": job})
	}
}

// authorized compares the bearer token with the secret in constant time.
// Both are hashed first, so that neither the comparison's time nor its
// early exit on a length mismatch tells anything about the secret.
func (h *jobsHandler) authorized(r *http.Request) bool {
	if h.secretSum == nil {
		return false
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return false
	}
	sum := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(sum[:], h.secretSum) == 1
}
