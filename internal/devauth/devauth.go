// Package devauth is the development sign-in: session tokens that `wdai dev
// token` mints for any address, signed with HMAC-SHA256 under a random
// secret kept in the data folder. The server accepts them in development
// only (cmd/wdai installs the verifier only when WDAI_ENV=development);
// every other token goes on to the real verifier (Clerk).
//
// A token is "wdaidev_" + base64url(JSON claims) + "." + base64url(MAC).
package devauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// Prefix starts every development token.
const Prefix = "wdaidev_"

// SecretFile is the secret's file in the data folder (mode 0600).
const SecretFile = "dev-token-secret"

// maxTokenBytes bounds what Verify reads before any work.
const maxTokenBytes = 2048

type claims struct {
	Sub string `json:"sub"`
	Sid string `json:"sid"`
	Exp int64  `json:"exp"`
}

// UserID is the identity id of the development person with the address:
// stable, so a second token for the same address is the same person.
func UserID(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "dev_" + hex.EncodeToString(sum[:10])
}

// LoadSecret reads the secret from dataDir, creating it (32 random bytes)
// when missing.
func LoadSecret(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, SecretFile)
	b, err := os.ReadFile(path) //nolint:gosec // the operator's own data folder
	if err == nil {
		s, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(s) < 32 {
			return nil, fmt.Errorf("devauth: %s is not 64 hex digits; delete it to make a new one", path)
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("devauth: %w", err)
	}
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("devauth: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("devauth: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // as above
	if errors.Is(err, fs.ErrExist) {
		return LoadSecret(dataDir) // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("devauth: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(s) + "\n")
	if err := errors.Join(werr, f.Close()); err != nil {
		return nil, fmt.Errorf("devauth: write %s: %w", path, err)
	}
	return s, nil
}

// Mint returns a token for userID valid until now+ttl.
func Mint(secret []byte, userID string, now time.Time, ttl time.Duration) (string, error) {
	sid := make([]byte, 8)
	if _, err := rand.Read(sid); err != nil {
		return "", err
	}
	body, err := json.Marshal(claims{Sub: userID, Sid: "devsess_" + hex.EncodeToString(sid), Exp: now.Add(ttl).Unix()})
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	return Prefix + payload + "." + base64.RawURLEncoding.EncodeToString(mac(secret, payload)), nil
}

func mac(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(Prefix + payload))
	return m.Sum(nil)
}

// Verifier accepts development tokens and hands every other token to next.
// It reads the secret from the data folder when the first development token
// arrives (the server never creates it: `wdai dev token` does).
type Verifier struct {
	dataDir string
	next    ports.SessionVerifier
	now     func() time.Time

	mu     sync.Mutex
	secret []byte
}

// NewVerifier returns a verifier of tokens signed with the secret in
// dataDir, in front of next.
func NewVerifier(dataDir string, next ports.SessionVerifier) (*Verifier, error) {
	if dataDir == "" || next == nil {
		return nil, errors.New("devauth: a data folder and a next verifier are required")
	}
	return &Verifier{dataDir: dataDir, next: next, now: time.Now}, nil
}

func (v *Verifier) loadSecret() ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.secret != nil {
		return v.secret, nil
	}
	path := filepath.Join(v.dataDir, SecretFile)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: no development secret (%s); mint tokens with `wdai dev token`", ports.ErrInvalidToken, path)
	}
	s, err := LoadSecret(v.dataDir)
	if err != nil {
		return nil, err
	}
	v.secret = s
	return s, nil
}

// Configured reports true: development sign-in always works.
func (v *Verifier) Configured() bool { return true }

// Verify checks a development token, or asks the next verifier.
func (v *Verifier) Verify(ctx context.Context, token string) (ports.Session, error) {
	rest, ok := strings.CutPrefix(token, Prefix)
	if !ok {
		return v.next.Verify(ctx, token)
	}
	if len(token) > maxTokenBytes {
		return ports.Session{}, fmt.Errorf("%w: development token too long", ports.ErrInvalidToken)
	}
	secret, err := v.loadSecret()
	if err != nil {
		return ports.Session{}, err
	}
	payload, sig, ok := strings.Cut(rest, ".")
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(got, mac(secret, payload)) {
		return ports.Session{}, fmt.Errorf("%w: development token signature", ports.ErrInvalidToken)
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	var c claims
	if err != nil || json.Unmarshal(body, &c) != nil || c.Sub == "" {
		return ports.Session{}, fmt.Errorf("%w: development token claims", ports.ErrInvalidToken)
	}
	exp := time.Unix(c.Exp, 0)
	if !v.now().Before(exp) {
		return ports.Session{}, fmt.Errorf("%w: development token expired", ports.ErrInvalidToken)
	}
	return ports.Session{UserID: c.Sub, SessionID: c.Sid, ExpiresAt: exp}, nil
}
