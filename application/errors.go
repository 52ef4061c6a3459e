package application

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/womendefiningai/platform/ports"
)

// ErrInvalidInput marks input a caller must correct (400-class).
var ErrInvalidInput = errors.New("invalid input")

// Errors from ports that callers of the application act on, re-exported so
// that driving adapters depend on application/ alone.
var (
	ErrNotFound           = ports.ErrNotFound
	ErrDeadLetterResolved = ports.ErrDeadLetterResolved
	ErrNotConfigured      = ports.ErrNotConfigured
)

// invalid wraps ErrInvalidInput with what is wrong.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidInput, fmt.Sprintf(format, args...))
}

// malformed is the permanent error for a message body that lacks what its
// use case needs: retrying cannot fix it.
func malformed(topic, what string) error {
	return ports.Permanent(fmt.Errorf("%w: %s message without %s", ErrInvalidInput, topic, what))
}

// nilDependency is the start-up error of a constructor given a nil port.
func nilDependency(useCase string) error {
	return fmt.Errorf("application: %s: nil dependency", useCase)
}

// anyNil reports whether a dependency is missing: a nil interface, or a
// nil pointer, map or func inside one.
func anyNil(deps ...any) bool {
	for _, d := range deps {
		if d == nil {
			return true
		}
		switch v := reflect.ValueOf(d); v.Kind() { //nolint:exhaustive // only kinds that can be nil matter
		case reflect.Pointer, reflect.Map, reflect.Func, reflect.Slice, reflect.Chan, reflect.Interface:
			if v.IsNil() {
				return true
			}
		}
	}
	return false
}

// notConfigured is ErrNotConfigured with the reason port gives, when it
// gives one: an adapter names the setting an operator must provide.
func notConfigured(port any) error {
	if r, ok := port.(interface{ NotConfiguredReason() string }); ok && r.NotConfiguredReason() != "" {
		return fmt.Errorf("%w: %s", ErrNotConfigured, r.NotConfiguredReason())
	}
	return ErrNotConfigured
}
