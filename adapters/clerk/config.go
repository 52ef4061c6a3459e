// Package clerk adapts Clerk, the identity provider: it verifies session
// tokens (ports.SessionVerifier), looks users up (ports.IdentityDirectory) and
// verifies and decodes user webhooks delivered through Svix.
package clerk

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	clerksdk "github.com/clerk/clerk-sdk-go/v2"

	"github.com/womendefiningai/platform/internal/breaker"
	"github.com/womendefiningai/platform/ports"
)

// DefaultAPIURL is the Clerk backend API.
const DefaultAPIURL = clerksdk.APIURL

// DefaultLeeway is the clock skew tolerated on exp, nbf and iat.
const DefaultLeeway = 5 * time.Second

// defaultHTTPTimeout bounds one call to the Clerk API when Config.HTTPClient
// is nil.
const defaultHTTPTimeout = 5 * time.Second

// Config configures a Verifier or a Directory.
type Config struct {
	// SecretKey is the instance's secret key (sk_...). Required.
	SecretKey string
	// APIURL is the backend API base URL, default DefaultAPIURL. Paths such
	// as /jwks and /users/{id} are appended to it.
	APIURL string
	// Leeway is the clock skew tolerated on token times, default
	// DefaultLeeway. Verifier only.
	Leeway time.Duration
	// Clock is the source of time for token checks and the key cache; nil
	// means time.Now. Verifier only.
	Clock func() time.Time
	// HTTPClient calls the Clerk API; nil means a client with a 5 s timeout.
	HTTPClient *http.Client

	// Issuer is the instance's Frontend API URL (https://clerk.example.com),
	// the exact iss of its session tokens. Required by NewVerifier.
	Issuer string
	// AuthorizedParties are the origins (scheme://host[:port]) of the
	// frontends allowed to present session tokens: a token's azp must be
	// one of them. At least one is required by NewVerifier.
	AuthorizedParties []string
	// MaxTokenLifetime bounds exp minus iat, default DefaultMaxTokenLifetime.
	// Verifier only.
	MaxTokenLifetime time.Duration
}

// DefaultMaxTokenLifetime is the longest lifetime (exp minus iat) a session
// token may claim. Clerk's session tokens live 60 s; a longer one comes from
// a misconfigured template or a forger with a stolen key.
const DefaultMaxTokenLifetime = 24 * time.Hour

// verifierDefaults validates what only a Verifier needs. Its errors name
// the setting, never a secret.
func (c Config) verifierDefaults() (Config, error) {
	if !validIssuer(c.Issuer) {
		return c, errors.New("clerk: config: issuer must be the instance's Frontend API URL (https://clerk.<domain> or https://<name>.clerk.accounts.dev)")
	}
	if u, err := url.Parse(c.Issuer); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return c, errors.New("clerk: config: issuer must be an https URL without a path")
	}
	if len(c.AuthorizedParties) == 0 {
		return c, errors.New("clerk: config: no authorized parties (the origins of the frontends allowed to present tokens)")
	}
	for _, p := range c.AuthorizedParties {
		if err := CheckOrigin(p); err != nil {
			return c, fmt.Errorf("clerk: config: authorized party %q: %w", p, err)
		}
	}
	if c.MaxTokenLifetime < 0 {
		return c, fmt.Errorf("clerk: config: negative max token lifetime %s", c.MaxTokenLifetime)
	}
	if c.MaxTokenLifetime == 0 {
		c.MaxTokenLifetime = DefaultMaxTokenLifetime
	}
	return c, nil
}

// CheckOrigin returns nil when s is a web origin as browsers send it in the
// Origin header, and so as Clerk writes it in azp: scheme://host[:port],
// http or https, without a path, query, fragment or user.
func CheckOrigin(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("scheme must be http or https")
	case u.Host == "" || u.User != nil:
		return errors.New("must name a host, without a user")
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#"):
		return errors.New("must be an origin, without a path, query or fragment (no trailing slash)")
	case s != strings.ToLower(u.Scheme)+"://"+strings.ToLower(u.Host):
		return errors.New("must be written in lower case")
	}
	return nil
}

// withDefaults validates c and fills in its defaults. Its errors never
// quote the secret key.
func (c Config) withDefaults() (Config, error) {
	if c.SecretKey == "" {
		return c, errors.New("clerk: config: secret key is empty")
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	u, err := url.Parse(c.APIURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return c, errors.New("clerk: config: API URL is not an http(s) URL")
	}
	if c.Leeway < 0 {
		return c, fmt.Errorf("clerk: config: negative leeway %s", c.Leeway)
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: defaultHTTPTimeout}
	}
	return c, nil
}

// clientConfig is the per-adapter SDK configuration. Every adapter builds its
// own backend from it: clerk-sdk-go's package-level backend (SetBackend) is
// shared by the whole process.
func (c Config) clientConfig() *clerksdk.ClientConfig {
	return &clerksdk.ClientConfig{BackendConfig: clerksdk.BackendConfig{
		HTTPClient: c.HTTPClient,
		URL:        clerksdk.String(c.APIURL),
		Key:        clerksdk.String(c.SecretKey),
	}}
}

// describe turns an error from the SDK into one that carries no vendor type:
// the status and error codes of an API answer, or the transport error.
func describe(err error) error {
	var apiErr *clerksdk.APIErrorResponse
	if errors.As(err, &apiErr) {
		codes := make([]string, 0, len(apiErr.Errors))
		for _, e := range apiErr.Errors {
			codes = append(codes, e.Code)
		}
		out := fmt.Errorf("answered %d %v", apiErr.HTTPStatusCode, codes)
		if breaker.StatusTransient(apiErr.HTTPStatusCode) {
			return ports.Transient("clerk", out, 0)
		}
		return out
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		// stdlib: keeps context.DeadlineExceeded and friends matchable;
		// timeouts and refused connections are transient.
		return breaker.NetworkTransient("clerk", err)
	}
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &syntaxErr) || errors.As(err, &typeErr) {
		return fmt.Errorf("decode answer: %w", err)
	}
	// The SDK returns a non-Clerk error body as errors.New(body).
	return fmt.Errorf("unexpected answer: %s", clip(err.Error(), 200))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}
