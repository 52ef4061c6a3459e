package application

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// CreateAgentKey makes an agent key (ops:write), audited with the key's
// prefix and never its secret.
type CreateAgentKey struct {
	uow ports.UnitOfWork[ports.AgentKeyTx]
}

// NewCreateAgentKey refuses a nil unit of work.
func NewCreateAgentKey(uow ports.UnitOfWork[ports.AgentKeyTx]) (CreateAgentKey, error) {
	if anyNil(uow) {
		return CreateAgentKey{}, nilDependency("create agent key")
	}
	return CreateAgentKey{uow: uow}, nil
}

// Handle makes the key and returns its plaintext, once.
func (h CreateAgentKey) Handle(ctx context.Context, in CreateAgentKeyInput) (CreatedAgentKey, error) {
	p := PrincipalFrom(ctx)
	if err := access.Authorize(p, access.ScopeOpsWrite); err != nil {
		return CreatedAgentKey{}, err
	}
	name := usertext.Trim(in.Name)
	if err := usertext.Check(name, 100); err != nil || usertext.Blank(name) {
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

// ListAgentKeys shows operators (ops:read) every key, newest first.
type ListAgentKeys struct {
	store ports.AgentKeys
}

// NewListAgentKeys refuses a nil store.
func NewListAgentKeys(store ports.AgentKeys) (ListAgentKeys, error) {
	if anyNil(store) {
		return ListAgentKeys{}, nilDependency("list agent keys")
	}
	return ListAgentKeys{store: store}, nil
}

// Handle returns every key, newest first.
func (h ListAgentKeys) Handle(ctx context.Context) ([]AgentKeyView, error) {
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

// RevokeAgentKey ends a key now (ops:write), audited; its next request is
// 401.
type RevokeAgentKey struct {
	uow ports.UnitOfWork[ports.AgentKeyTx]
}

// NewRevokeAgentKey refuses a nil unit of work.
func NewRevokeAgentKey(uow ports.UnitOfWork[ports.AgentKeyTx]) (RevokeAgentKey, error) {
	if anyNil(uow) {
		return RevokeAgentKey{}, nilDependency("revoke agent key")
	}
	return RevokeAgentKey{uow: uow}, nil
}

// Handle revokes the key with that prefix. An unknown or already revoked
// prefix is ErrNotFound.
func (h RevokeAgentKey) Handle(ctx context.Context, prefix string) (AgentKeyView, error) {
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
