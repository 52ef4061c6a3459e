package application

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/agentkey"
	"github.com/womendefiningai/platform/domain/usertext"
	"github.com/womendefiningai/platform/ports"
)

// DefaultAgentRatePerMinute is a key's request allowance when none is given.
const DefaultAgentRatePerMinute = 60

// maxAgentRatePerMinute bounds what a key may be given.
const maxAgentRatePerMinute = 1_000_000

// AgentKeyView is a key as operators see it: never its secret or hash.
type AgentKeyView struct {
	Prefix         string
	Name           string
	Scopes         []access.Scope
	AllowMutations bool
	RatePerMinute  int
	ExpiresAt      *time.Time
	CreatedBy      string
	CreatedAt      time.Time
	RevokedAt      *time.Time
	LastUsedAt     *time.Time
}

func agentKeyView(k ports.AgentKey) AgentKeyView {
	scopes, _ := access.ParseScopes(k.Scopes) // written by CreateAgentKey from parsed scopes
	return AgentKeyView{Prefix: k.Prefix, Name: k.Name, Scopes: scopes, AllowMutations: k.AllowMutations, RatePerMinute: k.RatePerMinute,
		ExpiresAt: k.ExpiresAt, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt}
}

// CreateAgentKeyInput describes a new key. RatePerMinute 0 means
// DefaultAgentRatePerMinute; a zero ExpiresIn means it does not expire.
type CreateAgentKeyInput struct {
	Name           string
	Scopes         []access.Scope
	AllowMutations bool
	RatePerMinute  int
	ExpiresIn      time.Duration
}

// CreatedAgentKey is a new key: Plaintext is shown once and never kept.
type CreatedAgentKey struct {
	Plaintext string
	Key       AgentKeyView
}

// AgentKeys are the operator's use cases for agent keys (ops:read to list,
// ops:write to create and revoke; each change is audited with the key's
// prefix and never its secret).
type AgentKeys struct {
	uow   ports.UnitOfWork[ports.AgentKeyTx]
	store ports.AgentKeys
}

// NewAgentKeys refuses nil dependencies.
func NewAgentKeys(uow ports.UnitOfWork[ports.AgentKeyTx], store ports.AgentKeys) (AgentKeys, error) {
	if anyNil(uow, store) {
		return AgentKeys{}, nilDependency("agent keys")
	}
	return AgentKeys{uow: uow, store: store}, nil
}

// Create makes a key and returns its plaintext, once.
func (h AgentKeys) Create(ctx context.Context, in CreateAgentKeyInput) (CreatedAgentKey, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeOpsWrite); err != nil {
		return CreatedAgentKey{}, err
	}
	name := strings.TrimSpace(in.Name)
	if err := usertext.Check(name, 100); err != nil || name == "" {
		return CreatedAgentKey{}, invalid("a key needs a name of 1 to 100 characters without control characters")
	}
	if len(in.Scopes) == 0 {
		return CreatedAgentKey{}, invalid("a key needs at least one scope")
	}
	if _, err := access.NewAgent("check", in.Scopes); err != nil {
		return CreatedAgentKey{}, invalid("%v", err)
	}
	rate := in.RatePerMinute
	if rate == 0 {
		rate = DefaultAgentRatePerMinute
	}
	if rate < 1 || rate > maxAgentRatePerMinute {
		return CreatedAgentKey{}, invalid("the rate limit must be 1 to %d per minute", maxAgentRatePerMinute)
	}
	if in.ExpiresIn < 0 {
		return CreatedAgentKey{}, invalid("the expiry must be in the future")
	}
	key, err := agentkey.Generate()
	if err != nil {
		return CreatedAgentKey{}, fmt.Errorf("generate agent key: %w", err)
	}
	names := make([]string, 0, len(in.Scopes))
	for _, s := range in.Scopes {
		names = append(names, s.String())
	}
	rec := ports.AgentKey{Prefix: key.ID, SecretHash: key.Hash(), Name: name, Scopes: names, AllowMutations: in.AllowMutations,
		RatePerMinute: rate, CreatedBy: p.String()}
	if in.ExpiresIn > 0 {
		at := time.Now().Add(in.ExpiresIn).UTC()
		rec.ExpiresAt = &at
	}
	var out ports.AgentKey
	err = h.uow.Do(ctx, func(ctx context.Context, tx ports.AgentKeyTx) error {
		if out, err = tx.AgentKeys().Create(ctx, rec); err != nil {
			return err
		}
		return tx.Audit().Record(ctx, actor(p, ports.AuditEntry{Action: "agent_key.create", SubjectKind: "agent_key", SubjectID: key.ID,
			Outcome: ports.OutcomeSuccess, Details: map[string]any{"name": name, "scopes": names, "allow_mutations": in.AllowMutations,
				"rate_per_minute": rate}}))
	})
	if errors.Is(err, ports.ErrAgentKeyNameTaken) {
		return CreatedAgentKey{}, invalid("an active key is already named %q", name)
	}
	if err != nil {
		return CreatedAgentKey{}, err
	}
	return CreatedAgentKey{Plaintext: key.String(), Key: agentKeyView(out)}, nil
}

// List returns every key, newest first.
func (h AgentKeys) List(ctx context.Context) ([]AgentKeyView, error) {
	if err := access.Authorize(PrincipalFrom(ctx), access.ScopeOpsRead); err != nil {
		return nil, err
	}
	keys, err := h.store.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]AgentKeyView, 0, len(keys))
	for _, k := range keys {
		out = append(out, agentKeyView(k))
	}
	return out, nil
}

// Revoke ends a key now; its next request is 401. An unknown or already
// revoked prefix is ErrNotFound.
func (h AgentKeys) Revoke(ctx context.Context, prefix string) (AgentKeyView, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeOpsWrite); err != nil {
		return AgentKeyView{}, err
	}
	prefix = strings.TrimPrefix(strings.TrimSpace(prefix), agentkey.Prefix)
	var out ports.AgentKey
	err := h.uow.Do(ctx, func(ctx context.Context, tx ports.AgentKeyTx) error {
		var err error
		if out, err = tx.AgentKeys().Revoke(ctx, prefix, p.String()); err != nil {
			return err
		}
		return tx.Audit().Record(ctx, actor(p, ports.AuditEntry{Action: "agent_key.revoke", SubjectKind: "agent_key", SubjectID: prefix,
			Outcome: ports.OutcomeSuccess, Details: map[string]any{"name": out.Name}}))
	})
	if err != nil {
		return AgentKeyView{}, err
	}
	return agentKeyView(out), nil
}

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
	store ports.AgentKeys
	now   func() time.Time
	mu    sync.Mutex
	// touched is when this process last wrote last_used_at per prefix.
	touched map[string]time.Time
}

// NewAuthenticateAgent refuses a nil store.
func NewAuthenticateAgent(store ports.AgentKeys) (*AuthenticateAgent, error) {
	if anyNil(store) {
		return nil, nilDependency("authenticate agent")
	}
	return &AuthenticateAgent{store: store, now: time.Now, touched: map[string]time.Time{}}, nil
}

// Handle returns the credential of a key, or ErrInvalidAgentKey.
func (h *AuthenticateAgent) Handle(ctx context.Context, token string) (AgentCredential, error) {
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
func (h *AuthenticateAgent) touch(ctx context.Context, k ports.AgentKey, now time.Time) {
	if k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < lastUsedResolution {
		return
	}
	h.mu.Lock()
	if last, ok := h.touched[k.Prefix]; ok && now.Sub(last) < lastUsedResolution {
		h.mu.Unlock()
		return
	}
	if len(h.touched) > 10_000 { // bounded: forget and start over
		clear(h.touched)
	}
	h.touched[k.Prefix] = now
	h.mu.Unlock()
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
