package ports

import (
	"errors"
	"fmt"
	"time"
)

// Error classes. A handler's error decides how the worker retries it:
//
//   - Permanent (see Permanent): retrying cannot help; dead-lettered at once.
//   - Transient (this file): the provider is down, slow or rate limiting
//     (5xx, 429, timeouts, refused connections, an open circuit breaker).
//     The message is re-delivered later with exponential back-off, honouring
//     RetryAfter, and is not dead-lettered before the retry budget (24 h by
//     default) is spent.
//   - Anything else: a few quick retries, then the dead letters.
//
// Provider adapters classify their errors; use cases pass them on wrapped.

// ErrTransient matches every transient error with errors.Is.
var ErrTransient = errors.New("transient provider failure")

// TransientError is a failure of a provider that retrying later can fix.
type TransientError struct {
	// Provider names the provider, as its adapter and circuit breaker do.
	Provider string
	// RetryAfter is the wait the provider asked for (Retry-After), or the
	// time until its circuit breaker lets a call through; 0 if unknown.
	RetryAfter time.Duration
	// CircuitOpen is true when the call was not made at all because the
	// provider's circuit breaker is open.
	CircuitOpen bool
	Err         error
}

func (e *TransientError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%s: transient failure", e.Provider)
	}
	return e.Err.Error()
}

func (e *TransientError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrTransient) true.
func (e *TransientError) Is(target error) bool { return target == ErrTransient }

// Transient marks err as a transient failure of provider, with the wait the
// provider asked for (0: none). Transient(_, nil, _) is nil. A permanent
// error stays permanent.
func Transient(provider string, err error, retryAfter time.Duration) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return &TransientError{Provider: provider, RetryAfter: max(retryAfter, 0), Err: err}
}

// AsTransient returns the transient error in err's chain. A permanent mark
// outside it wins: a permanent error is never transient.
func AsTransient(err error) (*TransientError, bool) {
	var t *TransientError
	if IsPermanent(err) || !errors.As(err, &t) {
		return nil, false
	}
	return t, true
}

// IsTransient reports whether err is (or wraps) a transient failure, and is
// not marked permanent.
func IsTransient(err error) bool {
	_, ok := AsTransient(err)
	return ok
}
