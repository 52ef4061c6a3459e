package clerk

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	clerksdk "github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwks"
	"github.com/clerk/clerk-sdk-go/v2/jwt"
	"github.com/go-jose/go-jose/v3"
	josejwt "github.com/go-jose/go-jose/v3/jwt"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/womendefiningai/platform/ports"
)

const (
	// jwksMaxAge is how long a fetched key set is trusted before the next
	// verification refetches it (so a key Clerk withdrew stops verifying).
	jwksMaxAge = time.Hour
	// jwksMinRefresh is the least time between two fetches of the key set:
	// tokens with made-up kids cannot make us hammer the Clerk API.
	jwksMinRefresh = 10 * time.Second
	// jwksFetchTimeout bounds one fetch, which runs detached from the caller
	// that triggered it because every waiting caller shares its result.
	jwksFetchTimeout = 10 * time.Second
	// maxTokenLen rejects absurd inputs before any parsing.
	maxTokenLen = 16 << 10
	// verifiedTokens is how many verified tokens are remembered (by their
	// SHA-256, with the session they prove: about 150 bytes each), so a
	// signed-in page's requests pay the signature check once per token,
	// not once per request.
	verifiedTokens = 8192
)

// Verifier verifies Clerk session tokens (JWTs signed with a key from the
// instance's JWKS). It implements ports.SessionVerifier and is safe for
// concurrent use.
type Verifier struct {
	jwks        *jwks.Client
	leeway      time.Duration
	now         func() time.Time
	issuer      string
	parties     map[string]bool // authorized parties (azp)
	maxLifetime time.Duration

	fetchMu sync.Mutex // held while fetching the key set: one fetch at a time

	mu          sync.RWMutex
	keys        map[string]*clerksdk.JSONWebKey // by kid
	fetchedAt   time.Time                       // last successful fetch
	attemptedAt time.Time                       // last fetch, successful or not
	fetchErr    error                           // the last fetch's error

	// verified remembers tokens that passed every check, until their own
	// expiry (plus the leeway the full check allows): within that time the
	// full check would accept them again. A revoked session's token stops
	// when it expires, as without the memory (Clerk tokens are short-lived
	// and revocation reaches them only through expiry).
	verified *lru.Cache[[sha256.Size]byte, ports.Session]
}

var _ ports.SessionVerifier = (*Verifier)(nil)

// NewVerifier returns a Verifier that fetches the signing keys from
// {cfg.APIURL}/jwks with cfg.SecretKey and caches them, and accepts only
// tokens of cfg.Issuer presented by one of cfg.AuthorizedParties.
func NewVerifier(cfg Config) (*Verifier, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg, err = cfg.verifierDefaults(); err != nil {
		return nil, err
	}
	parties := make(map[string]bool, len(cfg.AuthorizedParties))
	for _, p := range cfg.AuthorizedParties {
		parties[p] = true
	}
	verified, err := lru.New[[sha256.Size]byte, ports.Session](verifiedTokens)
	if err != nil {
		return nil, fmt.Errorf("clerk verifier: %w", err)
	}
	return &Verifier{
		verified:    verified,
		jwks:        jwks.NewClient(cfg.clientConfig()),
		leeway:      cfg.Leeway,
		now:         cfg.Clock,
		issuer:      strings.TrimSuffix(cfg.Issuer, "/"),
		parties:     parties,
		maxLifetime: cfg.MaxTokenLifetime,
	}, nil
}

// sessionStatus is the sts claim of Clerk's version 2 session tokens:
// "active", or "pending" while the user still has a task to finish (such
// as choosing an organization) and is not yet signed in. Version 1 tokens
// carry none.
type sessionStatus struct {
	Status *string `json:"sts"`
}

// UnconfiguredVerifier returns the Verifier of a server without a Clerk
// key: every bearer token is refused as invalid (401), and the error also
// wraps ports.ErrNotConfigured; requests without a token stay anonymous.
func UnconfiguredVerifier() *Verifier { return &Verifier{} }

// Configured reports whether the Verifier has a key set to check against.
func (v *Verifier) Configured() bool { return v.jwks != nil }

// Verify checks token and returns the session it proves. A token that is
// malformed, forged, expired, not yet valid, from another issuer than the
// configured one, presented by a party not on the list, of a pending
// session, claiming a lifetime over the limit, signed by an unknown key or
// without a subject gives an error wrapping ports.ErrInvalidToken. When the key set cannot be fetched and no cached key
// fits, the error does not wrap it: the token may be fine and Clerk down.
func (v *Verifier) Verify(ctx context.Context, token string) (ports.Session, error) {
	if !v.Configured() {
		return ports.Session{}, fmt.Errorf("%w: sign-in is not configured on this server (CLERK_SECRET_KEY): %w", ports.ErrInvalidToken, ports.ErrNotConfigured)
	}
	if len(token) > maxTokenLen || strings.Count(token, ".") != 2 {
		return ports.Session{}, invalid("malformed")
	}
	sum := sha256.Sum256([]byte(token))
	if s, ok := v.verified.Get(sum); ok {
		if v.now().Before(s.ExpiresAt.Add(v.leeway)) {
			return s, nil
		}
		v.verified.Remove(sum)
	}
	s, err := v.verify(ctx, token)
	if err == nil {
		v.verified.Add(sum, s)
	}
	return s, err
}

// verify is the full check of token: its key, signature, times, issuer,
// party and session status.
func (v *Verifier) verify(ctx context.Context, token string) (ports.Session, error) {
	unverified, err := jwt.Decode(ctx, &jwt.DecodeParams{Token: token})
	if err != nil {
		return ports.Session{}, invalid("malformed")
	}
	if unverified.KeyID == "" {
		return ports.Session{}, invalid("no key id")
	}
	// Checked again, after the signature, by jwt.Verify. Checking it first
	// spares foreign tokens a key lookup.
	if unverified.Issuer != v.issuer {
		return ports.Session{}, invalid("wrong issuer")
	}
	key, err := v.key(ctx, unverified.KeyID)
	if err != nil {
		return ports.Session{}, err
	}
	claims, err := jwt.Verify(ctx, &jwt.VerifyParams{
		Token:                   token,
		JWK:                     key,
		Clock:                   clock(v.now),
		Leeway:                  v.leeway,
		CustomClaimsConstructor: func(context.Context) any { return &sessionStatus{} },
	})
	if err != nil {
		return ports.Session{}, invalid(rejection(err))
	}
	if reason := v.refuse(claims); reason != "" {
		return ports.Session{}, invalid(reason)
	}
	return ports.Session{
		UserID:    claims.Subject,
		SessionID: claims.SessionID,
		ExpiresAt: time.Unix(*claims.Expiry, 0).UTC(),
	}, nil
}

// refuse names why verified claims still do not make a session, or returns
// "". The signature and the times against the clock were checked already.
func (v *Verifier) refuse(claims *clerksdk.SessionClaims) string {
	switch {
	case claims.Issuer != v.issuer: // checked before the signature too
		return "wrong issuer"
	case claims.Subject == "":
		return "no subject"
	case claims.AuthorizedParty == "":
		// Clerk leaves azp out when the browser sent no Origin; such a
		// token cannot be tied to one of our frontends.
		return "no authorized party"
	case !v.parties[claims.AuthorizedParty]:
		return "unauthorized party"
	}
	if st, ok := claims.Custom.(*sessionStatus); !ok || (st.Status != nil && *st.Status != "active") {
		return "session not active" // "pending", or a status we do not know
	}
	return v.lifetime(claims.RegisteredClaims)
}

// lifetime checks that the token's times are those of a session token:
// exp and iat present, exp after iat by at most the maximum lifetime, and
// nbf (when present) not after exp.
func (v *Verifier) lifetime(c clerksdk.RegisteredClaims) string {
	switch {
	case c.Expiry == nil:
		// go-jose accepts a token without exp; a session never lacks one.
		return "no expiry"
	case c.IssuedAt == nil || *c.IssuedAt < 0:
		return "no issue time"
	case *c.Expiry <= *c.IssuedAt:
		return "expires before it was issued"
	case *c.Expiry-*c.IssuedAt > int64(v.maxLifetime/time.Second): // in seconds: cannot overflow
		return "lifetime too long"
	case c.NotBefore != nil && *c.NotBefore >= *c.Expiry:
		return "never valid"
	}
	return ""
}

// key returns the cached key kid, fetching the key set when the cache is
// older than jwksMaxAge or lacks kid, at most once per jwksMinRefresh.
func (v *Verifier) key(ctx context.Context, kid string) (*clerksdk.JSONWebKey, error) {
	if k, ok, fresh := v.cached(kid, v.now()); ok && fresh {
		return k, nil
	}

	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	now := v.now()
	// Another caller may have fetched while this one waited.
	k, ok, fresh := v.cached(kid, now)
	v.mu.RLock()
	throttled := !v.attemptedAt.IsZero() && now.Sub(v.attemptedAt) < jwksMinRefresh
	lastErr := v.fetchErr
	v.mu.RUnlock()
	switch {
	case ok && (fresh || throttled):
		return k, nil
	case throttled && lastErr != nil:
		return nil, fmt.Errorf("clerk: verify session: fetch jwks: %w", lastErr)
	case throttled:
		return nil, invalid("unknown key id")
	}

	fetchCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jwksFetchTimeout)
	defer cancel()
	set, err := v.jwks.Get(fetchCtx, &jwks.GetParams{})
	v.mu.Lock()
	v.attemptedAt = now
	v.fetchErr = nil
	if err != nil {
		v.fetchErr = describe(err)
		err = v.fetchErr
	} else {
		v.keys = indexKeys(set)
		v.fetchedAt = now
	}
	k, ok = v.keys[kid]
	v.mu.Unlock()

	switch {
	case ok:
		// After a failed fetch this is a stale key: still Clerk's key as far
		// as we know, and better than locking everyone out while Clerk is
		// unreachable.
		return k, nil
	case err != nil:
		return nil, fmt.Errorf("clerk: verify session: fetch jwks: %w", err)
	default:
		return nil, invalid("unknown key id")
	}
}

// cached returns the cached key kid, whether there is one, and whether the
// cache is younger than jwksMaxAge at now.
func (v *Verifier) cached(kid string, now time.Time) (*clerksdk.JSONWebKey, bool, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	k, ok := v.keys[kid]
	fresh := !v.fetchedAt.IsZero() && now.Sub(v.fetchedAt) < jwksMaxAge
	return k, ok, fresh
}

func indexKeys(set *clerksdk.JSONWebKeySet) map[string]*clerksdk.JSONWebKey {
	keys := make(map[string]*clerksdk.JSONWebKey)
	if set == nil {
		return keys
	}
	for _, k := range set.Keys {
		if k != nil && k.KeyID != "" && k.Key != nil {
			keys[k.KeyID] = k
		}
	}
	return keys
}

// validIssuer is clerk-sdk-go's rule for instances without a proxy or a
// satellite domain. jwt.Verify applies it too, so a configured issuer must
// pass it.
func validIssuer(iss string) bool {
	return strings.HasPrefix(iss, "https://clerk.") || strings.Contains(iss, ".clerk.accounts")
}

// rejection names why jwt.Verify refused a token, without echoing anything
// from the token.
func rejection(err error) string {
	switch {
	case errors.Is(err, josejwt.ErrExpired):
		return "expired"
	case errors.Is(err, josejwt.ErrNotValidYet):
		return "not yet valid"
	case errors.Is(err, josejwt.ErrIssuedInTheFuture):
		return "issued in the future"
	case errors.Is(err, jose.ErrCryptoFailure):
		return "bad signature"
	default:
		return "rejected"
	}
}

func invalid(reason string) error {
	return fmt.Errorf("clerk: %w: %s", ports.ErrInvalidToken, reason)
}

// clock adapts a time function to clerk-sdk-go's Clock.
type clock func() time.Time

func (c clock) Now() time.Time { return c() }
