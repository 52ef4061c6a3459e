package main_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/internal/pgembed"
)

// pgProxy forwards loopback TCP to a PostgreSQL whose port changes when it
// restarts, so the binary keeps one DATABASE_URL across the restart. While
// the server is down the proxy closes each connection at once, as a closed
// port would refuse it.
type pgProxy struct {
	ln     net.Listener
	target atomic.Value // string, "" while down
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, conns: map[net.Conn]struct{}{}}
	p.target.Store(target)
	t.Cleanup(func() { _ = ln.Close(); p.dropAll() })
	go p.serve()
	return p
}

func (p *pgProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *pgProxy) forward(c net.Conn) {
	target, _ := p.target.Load().(string)
	if target == "" {
		_ = c.Close()
		return
	}
	up, err := (&net.Dialer{Timeout: 2 * time.Second}).Dial("tcp", target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	_, _ = c.Close(), up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func (p *pgProxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

// url is the cluster's URL with the proxy's address in place of its own.
func (p *pgProxy) url(c *pgembed.Cluster, database string) string {
	return strings.Replace(c.URL(database), fmt.Sprintf("127.0.0.1:%d", c.Port()), p.ln.Addr().String(), 1)
}

// TestChaosR4PostgresRestart: a private PostgreSQL is stopped and started
// again while webhooks arrive. The server recovers without being touched,
// every failed request is answered 503 quickly (none hangs, none is a 500),
// and every acknowledged event is kept and applied.
func TestChaosR4PostgresRestart(t *testing.T) {
	scale := chaosScale(t)
	logs := newChaosLogs(t)
	n := atScale(scale, 800, 4000)
	dir, err := os.MkdirTemp("", "wdai-chaos-pg-")
	if err != nil {
		t.Fatal(err)
	}
	// The postgres system user (when we are root) must reach the folder.
	if err := os.Chmod(dir, 0o755); err != nil { //nolint:gosec // holds only the 0700 data folder
		t.Fatal(err)
	}
	ctx := context.Background()
	startPG := func() *pgembed.Cluster {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		c, err := pgembed.Start(sctx, pgembed.Options{Dir: filepath.Join(dir, "pg"), DieWithParent: true})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cluster := startPG()
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = cluster.Stop(cctx)
		_ = cluster.Remove(cctx)
		_ = os.RemoveAll(dir)
	})
	proxy := newPGProxy(t, fmt.Sprintf("127.0.0.1:%d", cluster.Port()))
	dbURL := proxy.url(cluster, "postgres")

	st := stripefake.New(t)
	srv := logs.start(t, chaosEnv(dbURL, st, nil), "serve")
	srv.waitReady(t, 90*time.Second) // development migrates the new database first
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	events, who := chaosSignUps(t, pool, st, "pgrestart", n/4, rand.New(rand.NewPCG(18, 4)))

	const hang = 10 * time.Second
	client := &http.Client{Timeout: hang, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	acked := make([]atomic.Bool, len(events))
	var next, ackedN, got503, wrong, hangs atomic.Int64
	var slowestFailure atomic.Int64
	restartAt := int64(n / 3)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(events) {
					return
				}
				// As a sender does, each event is retried until it is
				// acknowledged (for at most a minute).
				for giveUp := time.Now().Add(time.Minute); time.Now().Before(giveUp); time.Sleep(50 * time.Millisecond) {
					code, took := events[i].post(t.Context(), client, srv.addr)
					switch {
					case code == http.StatusOK:
						acked[i].Store(true)
						ackedN.Add(1)
					case code == http.StatusServiceUnavailable:
						got503.Add(1)
					case code == 0 && took >= hang:
						hangs.Add(1)
					default:
						wrong.Add(1)
						t.Logf("event %d answered %d after %s", i, code, took)
					}
					if code == http.StatusOK {
						break
					}
					for {
						old := slowestFailure.Load()
						if int64(took) <= old || slowestFailure.CompareAndSwap(old, int64(took)) {
							break
						}
					}
				}
			}
		})
	}
	for ackedN.Load() < restartAt {
		time.Sleep(2 * time.Millisecond)
	}
	// The restart: PostgreSQL stops (fast shutdown, every session ends),
	// stays down a while, and comes back on a new port behind the proxy.
	proxy.target.Store("")
	down := time.Now()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	if err := cluster.Stop(sctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	proxy.dropAll()
	time.Sleep(3 * time.Second)
	cluster = startPG()
	proxy.target.Store(fmt.Sprintf("127.0.0.1:%d", cluster.Port()))
	back := time.Now()
	wg.Wait()

	// Unattended recovery: the same process answers ready again.
	recovered := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := httpGet(t, "http://"+srv.addr+"/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				recovered = true
				break
			}
		}
	}
	readyAfter := time.Since(back)
	ackedIDs := ackedIDsOf(events, acked)
	pool.Reset()
	storedAcked := chaosCount(t, pool, `SELECT count(*) FROM billing_inbox WHERE event_id = ANY($1)`, ackedIDs)
	// The provider redelivers what was refused.
	redelivered, bad := redeliver(t, events, acked, client, srv.addr)
	drained := waitDrained(t, pool, atScaleDuration(scale, 3*time.Minute, 6*time.Minute))
	done, active := applied(t, pool, idsOf(events), who)
	lost := len(ackedIDs) - storedAcked
	exited := false
	select {
	case err := <-srv.done:
		exited = true
		t.Logf("wdai exited during the restart: %v", err)
	default:
	}
	figure := fmt.Sprintf("PostgreSQL down %s after %d of %d events acknowledged: ready again %s after it came back, same process (%v); %d acknowledged lost; failures: %d answered 503, %d other, %d hung (>%s), slowest failure %s; %d redelivered (%d not 200); %d/%d applied, %d/%d members active",
		back.Sub(down).Round(100*time.Millisecond), restartAt, n, readyAfter.Round(100*time.Millisecond), !exited, lost, got503.Load(), wrong.Load(), hangs.Load(), hang,
		time.Duration(slowestFailure.Load()).Round(time.Millisecond), redelivered, bad, done, n, active, len(who))
	chaosResult(t, "R4", figure, recovered && !exited && drained && lost == 0 && wrong.Load() == 0 && hangs.Load() == 0 && bad == 0 && done == n && active == len(who))
	if !exited {
		srv.stop(t, syscall.SIGTERM)
	}
}
