package httpapi_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncWriter lets the server goroutines and the test share a log buffer.
type syncWriter struct {
	mu  sync.Mutex
	buf *bytes.Buffer
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitForLogLines waits (briefly) for the access log, which is written
// after the response has gone out, and returns the lines seen.
func waitForLogLines(t *testing.T, w *syncWriter, n int) []string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		lines := strings.Split(strings.TrimSpace(w.String()), "\n")
		if len(lines) >= n || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}
