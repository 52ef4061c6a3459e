package application_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/agentkey"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

func storedKey(t *testing.T) (agentkey.Key, ports.AgentKey) {
	t.Helper()
	k, err := agentkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k, ports.AgentKey{Prefix: k.ID, SecretHash: k.Hash(), Name: "bot", Scopes: []string{"members:read", "billing:read"},
		RatePerMinute: 60, CreatedBy: "system:cli:test", CreatedAt: time.Now()}
}

// TestAuthenticateAgentRefusesEveryBadKey: malformed, unknown, wrong
// secret, revoked and expired keys are all the one ErrInvalidAgentKey; a
// good key becomes an agent principal with the stored scopes.
func TestAuthenticateAgentRefusesEveryBadKey(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	store := mocks.NewMockAgentKeys(ctrl)
	good, rec := storedKey(t)
	revokedKey, revoked := storedKey(t)
	past := time.Now().Add(-time.Minute)
	revoked.RevokedAt = &past
	expiredKey, expired := storedKey(t)
	expired.ExpiresAt = &past
	unknown, _ := storedKey(t)
	recent := time.Now()
	rec.LastUsedAt = &recent // no touch for a key used a moment ago
	store.EXPECT().Get(gomock.Any(), good.ID).Return(rec, nil).AnyTimes()
	store.EXPECT().Get(gomock.Any(), revokedKey.ID).Return(revoked, nil)
	store.EXPECT().Get(gomock.Any(), expiredKey.ID).Return(expired, nil)
	store.EXPECT().Get(gomock.Any(), unknown.ID).Return(ports.AgentKey{}, ports.ErrNotFound)
	auth, err := application.NewAuthenticateAgent(store)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	wrong := agentkey.Key{ID: good.ID, Secret: unknown.Secret}
	for name, token := range map[string]string{"malformed": "wdai_x", "unknown": unknown.String(), "wrong secret": wrong.String(),
		"revoked": revokedKey.String(), "expired": expiredKey.String()} {
		if _, err := auth.Handle(ctx, token); !errors.Is(err, application.ErrInvalidAgentKey) {
			t.Errorf("%s: %v, want ErrInvalidAgentKey", name, err)
		}
	}
	cred, err := auth.Handle(ctx, good.String())
	if err != nil {
		t.Fatal(err)
	}
	if cred.Principal.Kind() != access.KindAgent || cred.Principal.ID() != good.ID || !cred.Principal.Has(access.ScopeBillingRead) ||
		cred.Principal.Has(access.ScopeMembersReadPII) || cred.RatePerMinute != 60 || cred.AllowMutations {
		t.Fatalf("credential %+v (%v)", cred, cred.Principal.Scopes())
	}
}

// TestAuthenticateAgentWritesLastUsedAtMostOnceAMinute: a key last used
// long ago is touched on its first request, and not on the next hundred
// (the stored time is stale in this fake; the process remembers).
func TestAuthenticateAgentWritesLastUsedAtMostOnceAMinute(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	store := mocks.NewMockAgentKeys(ctrl)
	key, rec := storedKey(t)
	long := time.Now().Add(-time.Hour)
	rec.LastUsedAt = &long
	store.EXPECT().Get(gomock.Any(), key.ID).Return(rec, nil).Times(101)
	store.EXPECT().Touch(gomock.Any(), []string{key.ID}, gomock.Any()).Return(nil).Times(1)
	auth, err := application.NewAuthenticateAgent(store)
	if err != nil {
		t.Fatal(err)
	}
	for range 101 {
		if _, err := auth.Handle(context.Background(), key.String()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCreateAgentKeyStoresOnlyTheHashAndAudits: creating needs ops:write;
// bad input changes nothing; the stored record and the audit entry carry
// the prefix and the hash, never the secret, and the plaintext is returned
// once.
func TestCreateAgentKeyStoresOnlyTheHashAndAudits(t *testing.T) {
	t.Parallel()
	ctrl := gomock.NewController(t)
	store := mocks.NewMockAgentKeys(ctrl)
	audit := mocks.NewMockAuditLog(ctrl)
	tx := mocks.NewMockAgentKeyTx(ctrl)
	tx.EXPECT().AgentKeys().Return(store).AnyTimes()
	tx.EXPECT().Audit().Return(audit).AnyTimes()
	var stored ports.AgentKey
	var entry ports.AuditEntry
	store.EXPECT().Create(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, k ports.AgentKey) (ports.AgentKey, error) {
		stored = k
		return k, nil
	}).Times(1)
	audit.EXPECT().Record(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, e ports.AuditEntry) error {
		entry = e
		return nil
	}).Times(1)
	keys, err := application.NewCreateAgentKey(newInlineUoW[ports.AgentKeyTx](tx))
	if err != nil {
		t.Fatal(err)
	}
	member, _ := access.NewUser("p1", access.RoleMember, false)
	operator, _ := access.NewSystem("cli:test")
	good := application.CreateAgentKeyInput{Name: "finance", Scopes: access.PresetFinance.Scopes(), ExpiresIn: time.Hour}
	if _, err := keys.Handle(application.WithPrincipal(context.Background(), member), good); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("a member creates a key: %v", err)
	}
	opCtx := application.WithPrincipal(context.Background(), operator)
	for name, in := range map[string]application.CreateAgentKeyInput{
		"no name": {Scopes: good.Scopes}, "no scope": {Name: "x"}, "control character": {Name: "a\x00b", Scopes: good.Scopes},
		"only invisible characters": {Name: "\u200D\u3164", Scopes: good.Scopes},
		"rate":                      {Name: "x", Scopes: good.Scopes, RatePerMinute: -1}, "past expiry": {Name: "x", Scopes: good.Scopes, ExpiresIn: -time.Second},
	} {
		if _, err := keys.Handle(opCtx, in); !errors.Is(err, application.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
	created, err := keys.Handle(opCtx, good)
	if err != nil {
		t.Fatal(err)
	}
	k, err := agentkey.Parse(created.Plaintext)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Prefix != k.ID || !k.Matches(stored.SecretHash) || stored.RatePerMinute != application.DefaultAgentRatePerMinute ||
		stored.ExpiresAt == nil || stored.CreatedBy != "system:cli:test" {
		t.Fatalf("stored %+v", stored)
	}
	if entry.Action != "agent_key.create" || entry.SubjectID != k.ID || strings.Contains(strings.Join([]string{entry.ActorID, entry.SubjectID}, " "), k.Secret) {
		t.Fatalf("audit %+v", entry)
	}
	for _, v := range entry.Details {
		if s, ok := v.(string); ok && strings.Contains(s, k.Secret) {
			t.Fatalf("the secret is in the audit details: %+v", entry.Details)
		}
	}
}
