package pgembed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// helperEnv makes the test binary act as a program that starts a cluster
// and then waits to be killed (see TestOrphanedServer).
const helperEnv = "PGEMBED_TEST_HELPER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(helperMain(dir))
	}
	os.Exit(m.Run())
}

func helperMain(dir string) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("READY %d\n", c.cmd.Process.Pid)
	time.Sleep(2 * time.Minute) // the test kills us with SIGKILL long before
	return 0
}

func requireBinaries(t *testing.T) {
	t.Helper()
	if _, err := findBinaries(t.Context(), ""); err != nil {
		t.Skipf("no PostgreSQL binaries: %v", err)
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// start starts a cluster on dir and registers its removal with t.
func start(t *testing.T, dir string) *Cluster {
	t.Helper()
	return startOwned(t, t, dir)
}

// startOwned is start, but the cluster is removed when owner (a parent test
// of t) ends.
func startOwned(t, owner *testing.T, dir string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	begin := time.Now()
	c, err := Start(ctx, Options{Dir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("Start took %v (initdb: %v)", time.Since(begin).Round(time.Millisecond), c.ranInitdb)
	owner.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Remove(ctx); err != nil {
			owner.Errorf("Remove: %v", err)
		}
	})
	return c
}

func stop(t *testing.T, c *Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if pids := processesIn(c.DataDir()); len(pids) > 0 {
		t.Fatalf("postgres processes still running in %s after Stop: %v", c.DataDir(), pids)
	}
	if _, err := os.Stat(filepath.Join(c.DataDir(), "postmaster.pid")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("postmaster.pid still there after Stop (err=%v)", err)
	}
}

func connect(t *testing.T, c *Cluster) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatalf("connect %s: %v", c.URL("postgres"), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// reachableTempDir returns a fresh folder under os.TempDir() that every
// user can traverse (unlike t.TempDir(), which is 0700).
func reachableTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgembed-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestStartStop(t *testing.T) {
	requireBinaries(t)
	t.Parallel()
	// t.TempDir() is 0700: as root the postgres user cannot reach it, so the
	// cluster must be relocated under os.TempDir().
	dir := filepath.Join(t.TempDir(), "pg")
	c := start(t, dir)

	if os.Geteuid() == 0 {
		wantRoot := relocationRoot(os.TempDir(), dir)
		if c.DataDir() != filepath.Join(wantRoot, "data") {
			t.Fatalf("DataDir = %s, want relocation to %s/data", c.DataDir(), wantRoot)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("requested dir %s was created although the cluster was relocated", dir)
		}
		assertOwnedByPostgres(t, c.DataDir())
	} else if c.DataDir() != dir {
		t.Fatalf("DataDir = %s, want %s", c.DataDir(), dir)
	}
	if !strings.HasPrefix(c.URL("x"), "postgres://postgres:"+c.Password()+"@127.0.0.1:") || len(c.Password()) != 64 || !strings.HasSuffix(c.URL("x"), "/x?sslmode=disable") ||
		c.Port() == 5432 {
		t.Errorf("URL = %s", c.URL("x"))
	}

	conn := connect(t, c)
	var one int
	var dataDir, user string
	if err := conn.QueryRow(t.Context(), "SELECT 1, current_setting('data_directory'), current_user").Scan(&one, &dataDir, &user); err != nil {
		t.Fatal(err)
	}
	if one != 1 || user != "postgres" || dataDir != c.DataDir() {
		t.Errorf("got %d %q %q, want 1 %q postgres", one, dataDir, user, c.DataDir())
	}
	conn.Close(t.Context())

	// The Unix socket is there, and postgres is not in our process group.
	if _, err := os.Stat(filepath.Join(c.SocketDir(), ".s.PGSQL."+strconv.Itoa(c.Port()))); err != nil {
		t.Errorf("unix socket: %v", err)
	}
	pid := c.cmd.Process.Pid
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid == syscall.Getpgrp() {
		t.Errorf("postgres pgid = %d (err %v); must differ from ours (%d)", pgid, err, syscall.Getpgrp())
	}

	// A second Start on the same folder must not steal a live cluster.
	_, err := Start(t.Context(), Options{Dir: dir})
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Start: err = %v, want ErrInUse", err)
	}
	t.Logf("second Start: %v", err)

	stop(t, c)
	if err := c.Stop(t.Context()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if b, err := os.ReadFile(c.LogFile()); err != nil || !strings.Contains(string(b), "database system is ready to accept connections") {
		t.Errorf("server log %s: err=%v, content:\n%s", c.LogFile(), err, b)
	}

	if err := c.Remove(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{c.DataDir(), c.LogFile(), c.layout.lockFile(), c.layout.relocRoot} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still exists after Remove", p)
		}
	}
}

func assertOwnedByPostgres(t *testing.T, dir string) {
	t.Helper()
	srv, err := lookupServerUser(serverUserName)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != srv.uid || fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: owner %d mode %v, want owner %d mode 0700", dir, st.Uid, fi.Mode().Perm(), srv.uid)
	}
}

func TestReuseInPlace(t *testing.T) {
	requireBinaries(t)
	t.Parallel()
	// A folder every user can traverse: used in place even as root. Its path
	// is too long for a Unix socket inside it, so the socket goes elsewhere.
	dir := filepath.Join(reachableTempDir(t), strings.Repeat("a-long-project-name-", 4), ".data", "postgres")

	c1 := start(t, dir)
	if c1.DataDir() != dir || !c1.ranInitdb {
		t.Fatalf("DataDir = %s (initdb %v), want %s freshly initialised", c1.DataDir(), c1.ranInitdb, dir)
	}
	if os.Geteuid() == 0 {
		assertOwnedByPostgres(t, dir)
	}
	if c1.SocketDir() == c1.DataDir() || !strings.HasPrefix(c1.SocketDir(), filepath.Join(os.TempDir(), "wdai-pgs-")) {
		t.Errorf("SocketDir = %s, want a short folder under %s", c1.SocketDir(), os.TempDir())
	}
	// Connect over the Unix socket this time.
	conn, err := pgx.Connect(t.Context(), fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres", c1.SocketDir(), c1.Port()))
	if err != nil {
		t.Fatalf("connect over the socket: %v", err)
	}
	if _, err := conn.Exec(t.Context(), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')"); err != nil {
		t.Fatal(err)
	}
	conn.Close(t.Context())
	stop(t, c1)

	c2 := start(t, dir)
	if c2.ranInitdb {
		t.Fatal("second Start ran initdb again")
	}
	var v string
	if err := connect(t, c2).QueryRow(t.Context(), "SELECT v FROM kept").Scan(&v); err != nil || v != "still here" {
		t.Fatalf("SELECT from kept: %q, %v", v, err)
	}
	stop(t, c2)
	if err := c2.Remove(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c2.SocketDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket folder %s still there after Remove", c2.SocketDir())
	}
}

func TestStartHonoursContext(t *testing.T) {
	requireBinaries(t)
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Start(ctx, Options{Dir: filepath.Join(t.TempDir(), "pg")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}

	// A deadline that expires during initdb: the error says what was being
	// done, and nothing half-made is left behind.
	dir := filepath.Join(reachableTempDir(t), "pg")
	ctx, cancel = context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := Start(ctx, Options{Dir: dir})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "pgembed: initdb") {
		t.Fatalf("err = %v, want an initdb error wrapping context.DeadlineExceeded", err)
	}
	t.Logf("initdb timeout: %v", err)
	for _, p := range []string{dir, dir + ".initdb.tmp"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind (err=%v)", p, err)
		}
	}
}

func TestStalePidFile(t *testing.T) {
	requireBinaries(t)
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "pg")
	c := start(t, dir)
	stop(t, c)
	dataDir := c.DataDir()

	writePid := func(pid int) {
		t.Helper()
		// The layout of a real postmaster.pid (PostgreSQL 10+).
		content := fmt.Sprintf("%d\n%s\n%d\n%d\n%s\n127.0.0.1\n  1234567  7\nready   \n",
			pid, dataDir, time.Now().Unix(), c.Port(), c.SocketDir())
		if err := os.WriteFile(filepath.Join(dataDir, "postmaster.pid"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	restart := func(st *testing.T) {
		st.Helper()
		c := startOwned(st, t, dir)
		if c.DataDir() != dataDir {
			st.Fatalf("DataDir moved: %s != %s", c.DataDir(), dataDir)
		}
		if c.ranInitdb {
			st.Fatal("ran initdb again")
		}
		if err := connect(st, c).Ping(st.Context()); err != nil {
			st.Fatal(err)
		}
		stop(st, c)
	}

	t.Run("dead pid", func(t *testing.T) {
		dead := exec.CommandContext(t.Context(), "sleep", "0")
		if err := dead.Run(); err != nil {
			t.Fatal(err)
		}
		writePid(dead.Process.Pid)
		restart(t)
	})

	t.Run("pid reused by an unrelated process", func(t *testing.T) {
		other := exec.CommandContext(t.Context(), "sleep", "60")
		if err := other.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
		writePid(other.Process.Pid)
		restart(t)
		if err := other.Process.Signal(syscall.Signal(0)); err != nil {
			t.Fatalf("the unrelated process was killed: %v", err)
		}
	})

	t.Run("garbage", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dataDir, "postmaster.pid"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		restart(t)
	})

	t.Run("a failing server reports its log", func(t *testing.T) {
		f, err := os.OpenFile(filepath.Join(dataDir, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString("\nno_such_setting_xyz = 1\n")
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		_, err = Start(t.Context(), Options{Dir: dir})
		if err == nil || !strings.Contains(err.Error(), "postgres exited during start-up") || !strings.Contains(err.Error(), "no_such_setting_xyz") {
			t.Fatalf("err = %v, want the server log tail naming the bad setting", err)
		}
		t.Logf("failing server: %v", err)
	})
}

// TestOrphanedServer simulates a program killed with SIGKILL: postgres, in
// its own process group, keeps running, and the next Start must stop it and
// start afresh.
func TestOrphanedServer(t *testing.T) {
	requireBinaries(t)
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "pg")

	helper := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"="+dir)
	helper.Stderr = os.Stderr
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = helper.Process.Kill()
		_ = helper.Wait()
		t.Fatalf("helper did not start a cluster: %v", err)
	}
	var orphan int
	if _, err := fmt.Sscanf(line, "READY %d", &orphan); err != nil {
		t.Fatalf("helper said %q", line)
	}
	if err := helper.Process.Kill(); err != nil { // SIGKILL: no chance to Stop
		t.Fatal(err)
	}
	_ = helper.Wait() // killed: the error is the signal

	c := start(t, dir)
	t.Cleanup(func() {
		if inspectPid(orphan, c.DataDir()) == procServing {
			_ = syscall.Kill(orphan, syscall.SIGQUIT)
		}
	})
	if c.cmd.Process.Pid == orphan {
		t.Fatal("same pid")
	}
	if st := inspectPid(orphan, c.DataDir()); st == procServing {
		t.Fatalf("orphaned postmaster %d still serving", orphan)
	}
	if err := connect(t, c).Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	stop(t, c)
}

// Not parallel: it changes binGlobs and PATH.
func TestNoBinaries(t *testing.T) {
	saved := binGlobs
	binGlobs = []string{filepath.Join(t.TempDir(), "nothing", "*", "bin")}
	t.Cleanup(func() { binGlobs = saved })
	t.Setenv("PATH", "")

	dir := filepath.Join(t.TempDir(), "pg")
	_, err := Start(t.Context(), Options{Dir: dir})
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("err = %v, want ErrNoBinaries", err)
	}
	t.Logf("no binaries: %v", err)
	for _, want := range []string{"postgresql", "apt-get install postgresql", "DATABASE_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Start created %s although it failed", dir)
	}
}
