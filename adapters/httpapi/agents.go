package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/agentkey"
)

// AgentAuthenticator checks an agent key (the application's
// AuthenticateAgent).
type AgentAuthenticator func(ctx context.Context, token string) (application.AgentCredential, error)

// AuthenticateAgents answers a bearer token shaped like an agent key
// (wdai_...): 401 when the key is malformed, unknown, wrong, expired or
// revoked, and otherwise the request goes on to agent as that agent. Any
// other request goes on to people (the session check).
func AuthenticateAgents(check AgentAuthenticator, logger *slog.Logger, agent, people http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || !agentkey.Looks(token) {
			people.ServeHTTP(w, r)
			return
		}
		cred, err := check(r.Context(), token)
		if err != nil {
			if r.Context().Err() != nil {
				return
			}
			if !errors.Is(err, application.ErrInvalidAgentKey) {
				logger.ErrorContext(r.Context(), "authenticate agent key", "error", err.Error())
				http.Error(w, "authentication is unavailable", http.StatusServiceUnavailable)
				return
			}
			unauthenticated(w, "invalid, expired or revoked agent key")
			return
		}
		agent.ServeHTTP(w, r.WithContext(application.WithAgentCredential(r.Context(), cred)))
	})
}

// AgentKeyRequired answers 401: the route is for agent keys only.
func AgentKeyRequired() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		unauthenticated(w, "this endpoint needs an agent key: Authorization: Bearer wdai_...")
	})
}
