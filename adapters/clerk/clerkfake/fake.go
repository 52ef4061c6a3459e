// Package clerkfake is an in-process stand-in for the Clerk backend API, for
// tests of any package: it serves the JWKS and the users endpoint behind the
// secret key, mints session tokens signed with its published keys, and signs
// webhook deliveries the way Svix does.
package clerkfake

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"
	josejwt "github.com/go-jose/go-jose/v3/jwt"

	"github.com/womendefiningai/platform/ports"
)

// DefaultIssuer is the issuer of minted tokens unless WithIssuer says
// otherwise. It passes clerk-sdk-go's rule (starts with "https://clerk.").
const DefaultIssuer = "https://clerk.example.test"

// DefaultAuthorizedParty is the azp of minted tokens unless
// WithAuthorizedParty says otherwise: the origin of a local frontend.
const DefaultAuthorizedParty = "http://localhost:3000"

// DefaultTokenTTL is how long a minted token lives unless WithExpiry says
// otherwise. Real Clerk session tokens live 60 s; the fake is generous so that
// slow end-to-end tests do not flake.
const DefaultTokenTTL = 5 * time.Minute

// apiPrefix is where the fake mounts the API, like https://api.clerk.com/v1.
const apiPrefix = "/v1"

type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
}

// Owner is what the stand-in needs from whoever runs it: a *testing.T or
// *testing.B in tests, or a long-running owner outside them (`wdai dev`),
// where Fatal reports a misuse of the stand-in and Cleanup runs at its end.
type Owner interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Server is a fake Clerk backend API. It is safe for concurrent use.
type Server struct {
	tb        Owner
	srv       *httptest.Server
	secretKey string

	mu          sync.Mutex
	keys        []signingKey // published in /jwks; the last one signs
	foreign     *rsa.PrivateKey
	users       map[string]ports.IdentityUser
	userLookups int
	jwksFetches int
	down        bool
}

// New starts a fake Clerk API with one signing key and no users. It is closed
// when the test ends.
func New(tb Owner) *Server {
	tb.Helper()
	s := &Server{
		tb:        tb,
		secretKey: "sk_test_" + randomHex(tb, 16),
		users:     make(map[string]ports.IdentityUser),
		foreign:   newRSAKey(tb),
	}
	s.keys = []signingKey{{kid: "ins_" + randomHex(tb, 8), priv: newRSAKey(tb)}}

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"/jwks", s.authorized(s.serveJWKS))
	mux.HandleFunc("GET "+apiPrefix+"/users/{id}", s.authorized(s.serveUser))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "resource_not_found", "not found")
	})
	s.srv = httptest.NewServer(mux)
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL to configure as the Clerk API URL (it ends in /v1, like
// the real https://api.clerk.com/v1).
func (s *Server) URL() string { return s.srv.URL + apiPrefix }

// SecretKey is the secret key the fake expects as "Authorization: Bearer".
func (s *Server) SecretKey() string { return s.secretKey }

// KeyID is the kid of the key that currently signs minted tokens.
func (s *Server) KeyID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[len(s.keys)-1].kid
}

// RotateKey publishes a new signing key, which signs tokens minted from now
// on, and returns its kid. Older keys stay published.
func (s *Server) RotateKey() string {
	s.tb.Helper()
	k := signingKey{kid: "ins_" + randomHex(s.tb, 8), priv: newRSAKey(s.tb)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, k)
	return k.kid
}

// AddUser makes u known to GET /users/{u.ID}, replacing any user with that id.
func (s *Server) AddUser(u ports.IdentityUser) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// RemoveUser makes GET /users/{id} answer 404, as for a deleted user.
func (s *Server) RemoveUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, id)
}

// SetDown makes every endpoint answer 503 (down) or serve again (!down),
// for testing what callers do while Clerk is unreachable.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// UserLookups counts requests to /users/{id}, whatever their answer.
func (s *Server) UserLookups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userLookups
}

// JWKSFetches counts requests to /jwks, whatever their answer.
func (s *Server) JWKSFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jwksFetches
}

type tokenOptions struct {
	issuedAt  time.Time
	expiry    *time.Time
	notBefore *time.Time
	issuer    string
	kid       *string
	foreign   bool
	sessionID string
	azp       string
	status    string
	noIAT     bool
}

// TokenOption changes one aspect of a minted token.
type TokenOption func(*tokenOptions)

// WithIssuedAt sets iat; nbf and exp default to it and it plus DefaultTokenTTL.
// Use it with a verifier whose clock is fixed.
func WithIssuedAt(t time.Time) TokenOption { return func(o *tokenOptions) { o.issuedAt = t } }

// WithExpiry sets exp.
func WithExpiry(t time.Time) TokenOption { return func(o *tokenOptions) { o.expiry = &t } }

// WithNotBefore sets nbf.
func WithNotBefore(t time.Time) TokenOption { return func(o *tokenOptions) { o.notBefore = &t } }

// WithIssuer sets iss (default DefaultIssuer).
func WithIssuer(iss string) TokenOption { return func(o *tokenOptions) { o.issuer = iss } }

// WithKeyID sets the kid header, for example to one the fake does not
// publish; "" leaves the header out. The token is still signed with the
// current key.
func WithKeyID(kid string) TokenOption { return func(o *tokenOptions) { o.kid = &kid } }

// WithForeignKey signs with a key the fake never publishes, under the current
// kid: a forged token.
func WithForeignKey() TokenOption { return func(o *tokenOptions) { o.foreign = true } }

// WithSessionID sets the sid claim (default "sess_" plus random hex).
func WithSessionID(sid string) TokenOption { return func(o *tokenOptions) { o.sessionID = sid } }

// WithAuthorizedParty sets azp (default DefaultAuthorizedParty); "" leaves
// it out, as Clerk does when the browser sent no Origin.
func WithAuthorizedParty(azp string) TokenOption { return func(o *tokenOptions) { o.azp = azp } }

// WithSessionStatus sets sts, the session status of Clerk's version 2
// tokens ("active" or "pending"); by default it is left out.
func WithSessionStatus(sts string) TokenOption { return func(o *tokenOptions) { o.status = sts } }

// WithoutIssuedAt leaves iat out.
func WithoutIssuedAt() TokenOption { return func(o *tokenOptions) { o.noIAT = true } }

type sessionClaims struct {
	josejwt.Claims
	SessionID       string `json:"sid,omitempty"`
	AuthorizedParty string `json:"azp,omitempty"`
	Status          string `json:"sts,omitempty"`
}

// MintToken returns a Clerk-like RS256 session token for userID ("" leaves
// sub out), valid now for DefaultTokenTTL unless options say otherwise.
func (s *Server) MintToken(userID string, opts ...TokenOption) string {
	s.tb.Helper()
	o := tokenOptions{issuedAt: time.Now(), issuer: DefaultIssuer, sessionID: "sess_" + randomHex(s.tb, 8), azp: DefaultAuthorizedParty}
	for _, opt := range opts {
		opt(&o)
	}
	exp, nbf := o.issuedAt.Add(DefaultTokenTTL), o.issuedAt
	if o.expiry != nil {
		exp = *o.expiry
	}
	if o.notBefore != nil {
		nbf = *o.notBefore
	}

	s.mu.Lock()
	current := s.keys[len(s.keys)-1]
	foreign := s.foreign
	s.mu.Unlock()
	kid, priv := current.kid, current.priv
	if o.kid != nil {
		kid = *o.kid
	}
	if o.foreign {
		priv = foreign
	}

	signerOpts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		signerOpts = signerOpts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: priv}, signerOpts)
	if err != nil {
		s.tb.Fatalf("clerkfake: new signer: %v", err)
	}
	claims := sessionClaims{
		Claims: josejwt.Claims{
			Issuer:    o.issuer,
			Subject:   userID,
			IssuedAt:  josejwt.NewNumericDate(o.issuedAt),
			NotBefore: josejwt.NewNumericDate(nbf),
			Expiry:    josejwt.NewNumericDate(exp),
		},
		SessionID:       o.sessionID,
		AuthorizedParty: o.azp,
		Status:          o.status,
	}
	if o.noIAT {
		claims.IssuedAt = nil
	}
	token, err := josejwt.Signed(signer).Claims(claims).CompactSerialize()
	if err != nil {
		s.tb.Fatalf("clerkfake: sign token: %v", err)
	}
	return token
}

func (s *Server) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		down := s.down
		s.mu.Unlock()
		if down {
			s.count(r)
			writeError(w, http.StatusServiceUnavailable, "service_unavailable", "Service unavailable")
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+s.secretKey {
			s.count(r)
			writeError(w, http.StatusUnauthorized, "authentication_invalid", "Unauthorized request")
			return
		}
		next(w, r)
	}
}

func (s *Server) count(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.PathValue("id") != "" {
		s.userLookups++
	} else {
		s.jwksFetches++
	}
}

func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	s.count(r)
	s.mu.Lock()
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(s.keys))}
	for _, k := range s.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: string(jose.RS256), Use: "sig"})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, set)
}

func (s *Server) serveUser(w http.ResponseWriter, r *http.Request) {
	s.count(r)
	s.mu.Lock()
	u, ok := s.users[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "resource_not_found", "not found")
		return
	}
	writeJSON(w, http.StatusOK, wireUserFrom(u))
}

type apiError struct {
	Code        string `json:"code"`
	Message     string `json:"message"`
	LongMessage string `json:"long_message"`
}

// writeError answers the way the Clerk API does: {"errors":[...]}.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{
		"errors":         []apiError{{Code: code, Message: msg, LongMessage: msg}},
		"clerk_trace_id": "fake",
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newRSAKey(tb Owner) *rsa.PrivateKey {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("clerkfake: generate RSA key: %v", err)
	}
	return k
}

func randomHex(tb Owner, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("clerkfake: random: %v", err)
	}
	return hex.EncodeToString(b)
}

// mustMarshal is for values that always marshal (plain structs and maps).
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("clerkfake: marshal: %v", err))
	}
	return b
}
