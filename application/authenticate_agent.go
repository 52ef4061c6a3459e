package application

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/agentkey"
	"github.com/womendefiningai/platform/ports"
)

// AgentCredential is what a valid key grants a request.
type AgentCredential struct {
	Principal      access.Principal
	AllowMutations bool
	RatePerMinute  int
}

// ErrInvalidAgentKey means the key is malformed, unknown, wrong, expired or
// revoked (401; which one is not told).
var ErrInvalidAgentKey = errors.New("invalid, expired or revoked agent key")

// lastUsedResolution is how stale last_used_at may be: it is written at
// most once per key and process in this time, never on every request.
const lastUsedResolution = time.Minute

// AuthenticateAgent checks a bearer key: look-up by prefix, constant-time
// comparison of the secret's hash, expiry and revocation.
type AuthenticateAgent struct {
	store   ports.AgentKeys
	now     func() time.Time
	touched *lastUsedMemo
}

// lastUsedMemo is when this process last wrote last_used_at, per prefix.
type lastUsedMemo struct {
	mu sync.Mutex
	at map[string]time.Time
}

// NewAuthenticateAgent refuses a nil store.
func NewAuthenticateAgent(store ports.AgentKeys) (AuthenticateAgent, error) {
	if anyNil(store) {
		return AuthenticateAgent{}, nilDependency("authenticate agent")
	}
	return AuthenticateAgent{store: store, now: time.Now, touched: &lastUsedMemo{at: map[string]time.Time{}}}, nil
}

// Handle returns the credential of a key, or ErrInvalidAgentKey.
func (h AuthenticateAgent) Handle(ctx context.Context, token string) (AgentCredential, error) {
	key, err := agentkey.Parse(token)
	if err != nil {
		return AgentCredential{}, ErrInvalidAgentKey
	}
	k, err := h.store.Get(ctx, key.ID)
	if errors.Is(err, ports.ErrNotFound) {
		key.Matches(make([]byte, 32)) // the same work as a known prefix
		return AgentCredential{}, ErrInvalidAgentKey
	}
	if err != nil {
		return AgentCredential{}, err
	}
	now := h.now()
	if !key.Matches(k.SecretHash) || k.RevokedAt != nil || (k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)) {
		return AgentCredential{}, ErrInvalidAgentKey
	}
	scopes, err := access.ParseScopes(k.Scopes)
	if err != nil {
		return AgentCredential{}, fmt.Errorf("agent key %s: %w", k.Prefix, err)
	}
	p, err := access.NewAgent(k.Prefix, scopes)
	if err != nil {
		return AgentCredential{}, fmt.Errorf("agent key %s: %w", k.Prefix, err)
	}
	h.touch(ctx, k, now)
	return AgentCredential{Principal: p, AllowMutations: k.AllowMutations, RatePerMinute: k.RatePerMinute}, nil
}

// touch keeps last_used_at within lastUsedResolution of the truth: no write
// when the stored time is recent, or this process wrote it recently.
func (h AuthenticateAgent) touch(ctx context.Context, k ports.AgentKey, now time.Time) {
	if k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < lastUsedResolution {
		return
	}
	m := h.touched
	m.mu.Lock()
	if last, ok := m.at[k.Prefix]; ok && now.Sub(last) < lastUsedResolution {
		m.mu.Unlock()
		return
	}
	if len(m.at) > 10_000 { // bounded: forget and start over
		clear(m.at)
	}
	m.at[k.Prefix] = now
	m.mu.Unlock()
	// A failed write only leaves last_used_at older; the request goes on.
	_ = h.store.Touch(context.WithoutCancel(ctx), []string{k.Prefix}, now.UTC())
}

// AgentCall is one request of an agent, for the audit log. VariablesSHA256
// is the hash of the variables as sent: never their values.
type AgentCall struct {
	KeyPrefix       string
	Operation       string
	DocumentID      string
	Transport       string // graphql or mcp
	Status          int
	Outcome         string
	Reason          string
	Duration        time.Duration
	VariablesSHA256 string
}

// RecordAgentCall appends one entry per agent call to the audit log.
type RecordAgentCall struct{ log ports.AuditLog }

// NewRecordAgentCall refuses a nil log.
func NewRecordAgentCall(log ports.AuditLog) (RecordAgentCall, error) {
	if anyNil(log) {
		return RecordAgentCall{}, nilDependency("record agent call")
	}
	return RecordAgentCall{log: log}, nil
}

// Handle records c.
func (h RecordAgentCall) Handle(ctx context.Context, c AgentCall) error {
	details := map[string]any{"status": c.Status, "duration_ms": float64(c.Duration.Microseconds()) / 1000, "transport": c.Transport}
	if c.DocumentID != "" {
		details["document_id"] = c.DocumentID
	}
	if c.VariablesSHA256 != "" {
		details["variables_sha256"] = c.VariablesSHA256
	}
	if c.Reason != "" {
		details["reason"] = c.Reason
	}
	op := c.Operation
	if op == "" {
		op = "unknown"
	}
	return h.log.Record(ctx, ports.AuditEntry{ActorKind: access.KindAgent.String(), ActorID: c.KeyPrefix, Action: "agent.call",
		SubjectKind: "operation", SubjectID: op, Outcome: c.Outcome, Details: details})
}

type agentCredentialKey struct{}

// WithAgentCredential returns ctx acting as the agent of c (its principal
// and what its key allows).
func WithAgentCredential(ctx context.Context, c AgentCredential) context.Context {
	return context.WithValue(WithPrincipal(ctx, c.Principal), agentCredentialKey{}, c)
}

// AgentCredentialFrom returns the agent credential of ctx, if it acts as one.
func AgentCredentialFrom(ctx context.Context) (AgentCredential, bool) {
	c, ok := ctx.Value(agentCredentialKey{}).(AgentCredential)
	return c, ok
}
