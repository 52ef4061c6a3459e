package devauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/internal/devauth"
	"github.com/womendefiningai/platform/ports"
)

type refuseAll struct{ calls int }

func (r *refuseAll) Configured() bool { return true }
func (r *refuseAll) Verify(context.Context, string) (ports.Session, error) {
	r.calls++
	return ports.Session{}, ports.ErrInvalidToken
}

// A minted token verifies to its user; a tampered, expired, foreign-secret
// or secret-less token is an invalid token; any other token goes to the next
// verifier.
func TestMintAndVerify(t *testing.T) {
	dir := t.TempDir()
	next := &refuseAll{}
	v, err := devauth.NewVerifier(dir, next)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), devauth.Prefix+"e30.AAAA"); !errors.Is(err, ports.ErrInvalidToken) {
		t.Errorf("token before any secret exists: %v", err)
	}
	secret, err := devauth.LoadSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := devauth.LoadSecret(dir)
	if err != nil || string(again) != string(secret) {
		t.Fatalf("second LoadSecret gave another secret (%v)", err)
	}
	uid := devauth.UserID("Ada@Example.com")
	if uid != devauth.UserID(" ada@example.com") {
		t.Errorf("UserID depends on case or spaces")
	}
	tok, err := devauth.Mint(secret, uid, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := v.Verify(t.Context(), tok)
	if err != nil || s.UserID != uid || s.SessionID == "" {
		t.Fatalf("Verify = %+v, %v", s, err)
	}
	expired, _ := devauth.Mint(secret, uid, time.Now().Add(-2*time.Hour), time.Hour)
	other, _ := devauth.Mint([]byte(strings.Repeat("k", 32)), uid, time.Now(), time.Hour)
	for name, bad := range map[string]string{
		"tampered": tok[:len(tok)-3] + "AAA",
		"expired":  expired,
		"foreign":  other,
		"too long": devauth.Prefix + strings.Repeat("a", 3000),
	} {
		if _, err := v.Verify(t.Context(), bad); !errors.Is(err, ports.ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		}
	}
	if next.calls != 0 {
		t.Fatalf("development tokens reached the next verifier")
	}
	if _, err := v.Verify(t.Context(), "eyJ.clerk.token"); !errors.Is(err, ports.ErrInvalidToken) || next.calls != 1 {
		t.Errorf("a non-development token did not go to the next verifier (calls %d)", next.calls)
	}
}
