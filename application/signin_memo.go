package application

import (
	"context"
	"sync"

	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/ports"
)

// signInMemo holds the person (and membership) Authenticate read for this
// request, so the request's own `me { membership }` answers from that read
// instead of reading the same rows again a millisecond later.
type signInMemo struct {
	mu             sync.Mutex
	person         ports.Person
	membership     *membership.Summary
	membershipRead bool
	hasAccess      bool
	ok             bool
}

type signInMemoKey struct{}

// WithSignInMemo returns ctx with room for the person Authenticate reads;
// the HTTP edge calls it once per request, before authenticating. Without
// it, every read goes to the store.
func WithSignInMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, signInMemoKey{}, &signInMemo{})
}

func rememberSignedIn(ctx context.Context, p ports.SignedInPerson) {
	if m, ok := ctx.Value(signInMemoKey{}).(*signInMemo); ok {
		m.mu.Lock()
		m.person, m.membership, m.membershipRead, m.hasAccess, m.ok = p.Person, p.Membership, p.MembershipRead, p.HasAccess, true
		m.mu.Unlock()
	}
}

// signedInPerson returns the person this request's authentication read,
// when it is the person id.
func signedInPerson(ctx context.Context, id string) (ports.Person, bool) {
	m, ok := ctx.Value(signInMemoKey{}).(*signInMemo)
	if !ok {
		return ports.Person{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.person, m.ok && m.person.ID == id
}

// signedInMembership returns the membership (nil: none) this request's
// authentication read along with the person id, and whether the person
// had access then, when it read them.
func signedInMembership(ctx context.Context, id string) (ms *membership.Summary, hasAccess, ok bool) {
	m, found := ctx.Value(signInMemoKey{}).(*signInMemo)
	if !found {
		return nil, false, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.membership, m.hasAccess, m.ok && m.person.ID == id && m.membershipRead
}
