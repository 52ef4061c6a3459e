package main_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// embeddedDataDir reads where the embedded cluster really lives from the
// "embedded postgres ready" log line (as root it is relocated under the
// system temp dir, where the postgres account can reach it).
func embeddedDataDir(t *testing.T, output string) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		var entry map[string]any
		if json.Unmarshal(sc.Bytes(), &entry) == nil && entry["msg"] == "embedded postgres ready" {
			if dir, _ := entry["data_dir"].(string); dir != "" {
				return dir
			}
		}
	}
	t.Fatalf("no embedded postgres data_dir in output:\n%s", output)
	return ""
}

// postgresProcessesFor lists live processes whose command line names dataDir.
func postgresProcessesFor(dataDir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.Contains(string(cmdline), dataDir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func assertNoPostgres(t *testing.T, dataDir string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids := postgresProcessesFor(dataDir)
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres processes still running for %s: %v", dataDir, pids)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("postmaster.pid left behind in %s (stat: %v)", dataDir, err)
	}
}

// TestEmbeddedPostgresLifecycle is the `make run` acceptance: with no
// environment, wdai starts its own cluster, answers GraphQL from it (no tier
// is offered: the seeded tiers have no price until `wdai tiers sync`), leaves no
// PostgreSQL behind on Ctrl-C, reuses the cluster on the next start, and
// starts cleanly after being killed with SIGKILL.
func TestEmbeddedPostgresLifecycle(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WDAI_DATA_DIR": t.TempDir()}
	var dataDir string
	t.Cleanup(func() {
		if dataDir != "" && strings.HasPrefix(dataDir, os.TempDir()) {
			_ = os.RemoveAll(filepath.Dir(dataDir))
		}
	})

	// First start: initdb, migrate, serve.
	first := start(t, env, "serve")
	first.waitReady(t, 60*time.Second)
	if got := strings.Join(queryTiers(t, first.addr), ","); got != "" {
		t.Fatalf("tiers = %s, want none (no tier has a price)", got)
	}
	dataDir = embeddedDataDir(t, first.output())
	version, err := os.Stat(filepath.Join(dataDir, "PG_VERSION"))
	if err != nil {
		t.Fatalf("no cluster in %s: %v", dataDir, err)
	}
	first.stop(t, syscall.SIGINT)
	assertNoPostgres(t, dataDir)

	// Second start reuses the same cluster rather than initialising anew.
	second := start(t, env, "serve")
	second.waitReady(t, 60*time.Second)
	if got := embeddedDataDir(t, second.output()); got != dataDir {
		t.Fatalf("second start used %s, want %s", got, dataDir)
	}
	again, err := os.Stat(filepath.Join(dataDir, "PG_VERSION"))
	if err != nil || !again.ModTime().Equal(version.ModTime()) {
		t.Fatalf("cluster was re-initialised (PG_VERSION %v -> %v, %v)", version.ModTime(), again, err)
	}
	if strings.Contains(second.output(), `"migrated"`) {
		t.Errorf("second start migrated again; schema should already be at head")
	}

	// kill -9: wdai dies without stopping PostgreSQL.
	second.kill(t)

	// The next start recovers from the orphaned server and stale pid file.
	third := start(t, env, "serve")
	third.waitReady(t, 60*time.Second)
	if got := strings.Join(queryTiers(t, third.addr), ","); got != "" {
		t.Fatalf("tiers after kill -9 = %s, want none", got)
	}
	third.stop(t, syscall.SIGINT)
	assertNoPostgres(t, dataDir)
}
