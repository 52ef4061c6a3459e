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
		return fmt.Errorf("answered %d %v", apiErr.HTTPStatusCode, codes)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return err // stdlib: keeps context.DeadlineExceeded and friends matchable
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
