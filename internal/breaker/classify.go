package breaker

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// StatusTransient reports whether an HTTP answer with this status may
// succeed later: 5xx, 429 (rate limit) and 408 (request timeout).
func StatusTransient(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// RetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// It is 0 when absent, malformed or in the past, and at most a day.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(secs, 0), 86400)) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return min(max(d, 0), 24*time.Hour)
}

// NetworkTransient marks err as a transient failure of provider when it is
// a network failure: a timeout, a refused or reset connection, a connection
// closed mid-answer. An error that already has a class keeps it (an open
// breaker's error is transient already), and a cancellation by the caller
// is never transient.
func NetworkTransient(provider string, err error) error {
	if err == nil || ports.IsPermanent(err) || ports.IsTransient(err) || errors.Is(err, context.Canceled) {
		return err
	}
	var nerr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &nerr) && nerr.Timeout(),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF):
		return ports.Transient(provider, err, 0)
	}
	var operr *net.OpError
	if errors.As(err, &operr) { // DNS, unreachable host or network
		return ports.Transient(provider, err, 0)
	}
	return err
}
