package application_test

import (
	"context"
	"time"
)

// inlineUoW runs fn on a fixed transaction scope (a set of mocks), as the
// real unit of work would run it in a transaction. Its error, if set, is
// what a failed commit returns after fn succeeded.
type inlineUoW[S any] struct {
	s         S
	commitErr error
	calls     *int
}

func newInlineUoW[S any](s S) inlineUoW[S] { return inlineUoW[S]{s: s, calls: new(int)} }

func (u inlineUoW[S]) Do(ctx context.Context, fn func(ctx context.Context, s S) error) error {
	*u.calls++
	if err := fn(ctx, u.s); err != nil {
		return err
	}
	return u.commitErr
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }
