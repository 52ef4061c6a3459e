package stripefake

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// StripeMockKey is a key stripe-mock accepts (any sk_test_ key will do).
const StripeMockKey = "sk_test_123"

const stripeMockStartTimeout = 30 * time.Second

// StartStripeMock starts Stripe's stripe-mock on free loopback ports and
// returns its HTTP root (no /v1), for the adapter's API URL. It is stopped
// at the test's cleanup. The binary is $STRIPE_MOCK_BIN, else stripe-mock
// on PATH, else <module root>/bin/stripe-mock; without one the test fails:
// run `make tools`.
//
// stripe-mock validates request parameters against Stripe's OpenAPI spec
// and answers canned objects of a newer API version than 2023-10-16: use it
// for request shapes, and Server for state.
func StartStripeMock(tb testing.TB) string {
	tb.Helper()
	return startStripeMock(tb)
}

// catalogFixtures are stripe-mock's own fixtures (v0.203.0) for the
// balance, a price, its product and a checkout session, with the price's
// lookup key set to wdai_tier_community and the product named Community.
//
//go:embed stripemock_catalog.json
var catalogFixtures []byte

// StripeMockCatalogPriceID is the id of the one price
// StartStripeMockCatalog serves ($20 a month, lookup key
// wdai_tier_community).
const StripeMockCatalogPriceID = "price_1PgafmB7WZ01zgkW6dKueIc5"

// StartStripeMockCatalog starts stripe-mock serving a catalogue whose one
// active price names the community tier. It serves only the balance,
// prices, products and checkout sessions.
func StartStripeMockCatalog(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "fixtures.json")
	if err := os.WriteFile(path, catalogFixtures, 0o600); err != nil {
		tb.Fatal(err)
	}
	return startStripeMock(tb, "-fixtures", path)
}

func startStripeMock(tb testing.TB, extra ...string) string {
	tb.Helper()
	bin, tried := findStripeMock()
	if bin == "" {
		tb.Fatalf("stripefake: no stripe-mock binary (tried %s): run `make tools`", strings.Join(tried, ", "))
	}
	out := &listenWatcher{found: make(chan string, 1)}
	// Port 0: the system picks free ports and stripe-mock prints them, so
	// nothing can take them between choosing and binding.
	// Not cancelled with the test's context, which ends before the cleanups
	// run: the process lives until the cleanup below kills it, so cleanups
	// registered after this call can still use it.
	procCtx := context.WithoutCancel(tb.Context())
	args := append([]string{"-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0"}, extra...)
	cmd := exec.CommandContext(procCtx, bin, args...) //nolint:gosec // running the test peer named by $STRIPE_MOCK_BIN is the point
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("stripefake: start %s: %v (run `make tools`)", bin, err)
	}
	exited := make(chan struct{})
	var waitErr error // set before exited is closed
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	deadline := time.NewTimer(stripeMockStartTimeout)
	defer deadline.Stop()
	var addr string
	select {
	case addr = <-out.found:
	case <-exited:
		tb.Fatalf("stripefake: stripe-mock exited (%v) before listening; output:\n%s", waitErr, out.String())
	case <-deadline.C:
		tb.Fatalf("stripefake: stripe-mock did not listen within %s; output:\n%s", stripeMockStartTimeout, out.String())
	}
	root := "http://" + addr
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if err := ping(tb.Context(), client, root); err == nil {
			return root
		}
		select {
		case <-exited:
			tb.Fatalf("stripefake: stripe-mock exited (%v); output:\n%s", waitErr, out.String())
		case <-deadline.C:
			tb.Fatalf("stripefake: stripe-mock at %s did not answer within %s; output:\n%s", root, stripeMockStartTimeout, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func ping(ctx context.Context, client *http.Client, root string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, root+"/v1/balance", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+StripeMockKey)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v1/balance: %s", resp.Status)
	}
	return nil
}

// findStripeMock returns the binary to run, or "" and the places tried.
func findStripeMock() (string, []string) {
	var tried []string
	if p := os.Getenv("STRIPE_MOCK_BIN"); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		tried = append(tried, "$STRIPE_MOCK_BIN="+p)
	}
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p, nil
	}
	tried = append(tried, "PATH")
	if root, err := moduleRoot(); err == nil {
		p := filepath.Join(root, "bin", "stripe-mock")
		if isExecutable(p) {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", tried
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p) //nolint:gosec // a test helper looking for a binary where the developer put it
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// moduleRoot is the nearest directory at or above the working directory
// (a test's package directory) that holds a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// listenWatcher collects stripe-mock's output and reports the address of
// its "Listening for HTTP at address: ..." line.
type listenWatcher struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	found chan string
	sent  bool
}

const listenPrefix = "Listening for HTTP at address: "

func (w *listenWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() < 1<<16 {
		w.buf.Write(p)
	}
	if !w.sent {
		for line := range strings.Lines(w.buf.String()) {
			if addr, ok := strings.CutPrefix(line, listenPrefix); ok && strings.HasSuffix(line, "\n") {
				w.found <- strings.TrimSpace(addr)
				w.sent = true
				break
			}
		}
	}
	return len(p), nil
}

func (w *listenWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
