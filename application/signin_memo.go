package application

import (
	"context"
	"sync"

	"github.com/womendefiningai/platform/ports"
)

// signInMemo holds the person Authenticate read for this request, so the
// request's own `me` answers from that read instead of reading the same
// row again a millisecond later.
type signInMemo struct {
	mu     sync.Mutex
	person ports.Person
	ok     bool
}

type signInMemoKey struct{}

// WithSignInMemo returns ctx with room for the person Authenticate reads;
// the HTTP edge calls it once per request, before authenticating. Without
// it, every read goes to the store.
func WithSignInMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, signInMemoKey{}, &signInMemo{})
}

func rememberSignedIn(ctx context.Context, p ports.Person) {
	if m, ok := ctx.Value(signInMemoKey{}).(*signInMemo); ok {
		m.mu.Lock()
		m.person, m.ok = p, true
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
