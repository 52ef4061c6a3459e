package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// Authenticator turns a verified session into a principal (the
// application's AuthenticateHandler).
type Authenticator func(ctx context.Context, s ports.Session) (access.Principal, error)

// AuthOption configures Authenticate.
type AuthOption func(*authOptions)

type authOptions struct {
	onFailure func(http.ResponseWriter, *http.Request) bool
}

// OnFailedAuthentication runs hook for every request whose credentials are
// refused (a forged or expired token, a header that is no Bearer token),
// before the 401. When the hook answered the request itself (the client
// address's rate limit: 429), it returns true and no 401 is written. So
// guessing tokens costs a client the same allowance as anonymous requests.
func OnFailedAuthentication(hook func(http.ResponseWriter, *http.Request) bool) AuthOption {
	return func(o *authOptions) { o.onFailure = hook }
}

// Authenticate answers an invalid bearer token with 401 before any GraphQL
// runs; a request without one goes on as anonymous; a valid one goes on as
// the session's person.
func Authenticate(verifier ports.SessionVerifier, authenticate Authenticator, logger *slog.Logger, opts ...AuthOption) func(http.Handler) http.Handler {
	var o authOptions
	for _, opt := range opts {
		opt(&o)
	}
	unauthenticated := func(w http.ResponseWriter, r *http.Request, msg string) {
		if o.onFailure != nil && o.onFailure(w, r) {
			return
		}
		unauthenticated(w, msg)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			header := r.Header.Get("Authorization")
			if header == "" {
				next.ServeHTTP(w, r.WithContext(application.WithPrincipal(r.Context(), access.Anonymous())))
				return
			}
			token, ok := strings.CutPrefix(header, "Bearer ")
			if !ok || strings.TrimSpace(token) == "" {
				unauthenticated(w, r, "the Authorization header must be a Bearer token")
				return
			}
			session, err := verifier.Verify(r.Context(), strings.TrimSpace(token))
			if err != nil {
				if r.Context().Err() != nil {
					return // the client hung up; nobody reads an answer
				}
				if !errors.Is(err, ports.ErrInvalidToken) {
					logger.ErrorContext(r.Context(), "verify session", "error", err.Error())
					http.Error(w, "authentication is unavailable", http.StatusServiceUnavailable)
					return
				}
				unauthenticated(w, r, "invalid or expired session token")
				return
			}
			ctx := application.WithSignInMemo(r.Context())
			p, err := authenticate(ctx, session)
			switch {
			case errors.Is(err, application.ErrAccountErased), errors.Is(err, ports.ErrNotFound):
				unauthenticated(w, r, "this account was deleted")
				return
			case err != nil:
				logger.ErrorContext(r.Context(), "authenticate session", "error", err.Error())
				http.Error(w, "authentication is unavailable", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r.WithContext(application.WithPrincipal(ctx, p)))
		})
	}
}

// unauthenticated answers 401 with WWW-Authenticate and a GraphQL error body.
func unauthenticated(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	writeJSON(w, http.StatusUnauthorized, map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]string{"code": "UNAUTHENTICATED"}}},
	})
}
