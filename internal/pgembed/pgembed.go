package pgembed

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrInUse is returned (wrapped) by Start when another running Cluster, in
// this or another process, already uses the data folder.
var ErrInUse = errors.New("data folder is in use by another pgembed cluster")

// Options configures Start.
type Options struct {
	// Dir is the requested data folder, e.g. "<repo>/.data/postgres"; it may
	// be relative. When running as root the real folder may be elsewhere,
	// see the package documentation and Cluster.DataDir.
	Dir string
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
	// DieWithParent asks Linux to shut the server down (immediate shutdown)
	// when the Go program exits without calling Stop: for throwaway test
	// clusters that no code is left to stop.
	DieWithParent bool
}

// Cluster is a running private PostgreSQL server. Its methods are safe for
// concurrent use.
type Cluster struct {
	requested     string
	layout        layout
	dataDir       string
	sockDir       string
	sockOwn       bool // sockDir is a folder pgembed made for this cluster
	port          int
	bin           binaries
	srv           *serverUser // nil when not running as root
	log           *slog.Logger
	ranInitdb     bool // this Start created the cluster
	password      string
	dieWithParent bool

	cmd     *exec.Cmd
	done    chan struct{} // closed when the postmaster has exited
	waitErr error         // set before done is closed

	mu       sync.Mutex
	lock     *os.File // flock on layout.lockFile, held while running
	stopped  bool
	stopErr  error
	logStart int64 // size of the log file when this server started
}

// Start finds the PostgreSQL binaries, initialises the cluster if the data
// folder has none, clears a stale postmaster.pid, starts postgres on a Unix
// socket and a free loopback port, and returns when the server accepts
// connections. ctx bounds the whole start-up; it does not stop the server
// once Start has returned: call Stop for that.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	begin := time.Now()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgembed: start: %w", err)
	}
	if opts.Dir == "" {
		return nil, errors.New("pgembed: Options.Dir is empty")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgembed: resolve %q: %w", opts.Dir, err)
	}

	var srv *serverUser
	if os.Geteuid() == 0 {
		if srv, err = lookupServerUser(serverUserName); err != nil {
			return nil, err
		}
	}
	var chain []dirPerm
	if srv != nil {
		if chain, err = ancestorChain(abs); err != nil {
			return nil, fmt.Errorf("pgembed: check %s: %w", abs, err)
		}
	}
	lay := chooseLayout(abs, chain, srv, os.TempDir())

	// Find the binaries before touching the file system.
	var wantMajor string
	if b, err := os.ReadFile(filepath.Join(lay.dataDir, "PG_VERSION")); err == nil {
		wantMajor = strings.TrimSpace(string(b))
	}
	bin, err := findBinaries(ctx, wantMajor)
	if err != nil {
		return nil, err
	}

	c := &Cluster{requested: abs, layout: lay, dataDir: lay.dataDir, bin: bin, srv: srv, log: logger,
		dieWithParent: opts.DieWithParent}
	c.sockDir, c.sockOwn = socketDirFor(lay.dataDir, os.TempDir())

	if err := c.prepareFolders(); err != nil {
		return nil, err
	}
	if err := c.acquireLock(); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			c.releaseLock()
		}
	}()

	if err := c.ensureInitialised(ctx); err != nil {
		return nil, err
	}
	if err := c.clearStale(ctx); err != nil {
		return nil, err
	}
	if err := c.preparePassword(); err != nil {
		return nil, err
	}
	if err := c.launch(ctx); err != nil {
		return nil, err
	}
	if err := c.applyPassword(ctx); err != nil {
		c.kill()
		return nil, err
	}
	ok = true
	logger.Info("pgembed: postgres started",
		"data_dir", c.dataDir, "requested_dir", abs, "relocated", lay.relocated(),
		"port", c.port, "socket_dir", c.sockDir, "log_file", lay.logFile(),
		"pid", c.cmd.Process.Pid, "version", majorOf(bin.version), "initdb", c.ranInitdb,
		"took", time.Since(begin).Round(time.Millisecond))
	return c, nil
}

// URL returns a postgres:// URL for database (user postgres with its
// password over TCP to 127.0.0.1 on the cluster's port, sslmode=disable),
// usable by pgx. It holds the password: never log it.
func (c *Cluster) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword("postgres", c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// DataDir returns the absolute data folder in use. It differs from
// Options.Dir when running as root and the postgres user cannot reach Dir.
func (c *Cluster) DataDir() string { return c.dataDir }

// Port returns the loopback TCP port the server listens on.
func (c *Cluster) Port() int { return c.port }

// SocketDir returns the folder holding the server's Unix socket
// (.s.PGSQL.<port>); use it as host= in a keyword/value DSN.
func (c *Cluster) SocketDir() string { return c.sockDir }

// LogFile returns the server log (DataDir()+".log").
func (c *Cluster) LogFile() string { return c.layout.logFile() }

// Stop shuts the server down with a fast shutdown (SIGINT: open sessions are
// rolled back) and waits for it to exit. If ctx ends first (or after 30 s
// when ctx has no deadline) it escalates to an immediate shutdown and then
// SIGKILL, and returns an error; a ctx that is already done when Stop is
// called (such as the signal context that triggered the shutdown) gets 10 s.
// Stop never deletes data. It is idempotent:
// later calls return the first call's result.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return c.stopErr
	}
	c.stopped = true
	c.stopErr = c.stop(ctx)
	c.releaseLock()
	if c.stopErr == nil {
		c.log.Info("pgembed: postgres stopped", "data_dir", c.dataDir)
	}
	return c.stopErr
}

// Remove stops the cluster and deletes it: the data folder, its .log and
// .lock files, and any folder pgembed made for it (the relocated
// os.TempDir()/wdai-pg-<hash> folder, a separate socket folder). It is meant
// for throwaway clusters (tests); never call it on data you want to keep.
// ctx bounds the stop, as for Stop.
func (c *Cluster) Remove(ctx context.Context) error {
	err := c.Stop(ctx)
	errs := []error{err}
	rm := func(p string) {
		if p != "" {
			if err := os.RemoveAll(p); err != nil {
				errs = append(errs, err)
			}
		}
	}
	rm(c.dataDir)
	rm(c.layout.initTmpDir())
	rm(c.layout.logFile())
	rm(c.layout.logFile() + ".old")
	rm(c.layout.lockFile())
	if c.sockOwn {
		rm(c.sockDir)
	}
	if c.layout.relocated() {
		rm(c.layout.relocRoot)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pgembed: remove: %w", err)
	}
	return nil
}

func (c *Cluster) stop(ctx context.Context) error {
	select {
	case <-c.done:
		if c.waitErr != nil {
			return fmt.Errorf("pgembed: stop: postgres had already exited: %w%s", c.waitErr, c.logTail())
		}
		return nil
	default:
	}
	if ctx.Err() != nil {
		// Typically the signal context that triggered the shutdown: give the
		// fast shutdown a fair chance anyway.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
	}
	pid := c.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("pgembed: stop: signal postgres: %w", err)
	}
	grace := ctx.Done()
	if _, ok := ctx.Deadline(); !ok {
		t := time.NewTimer(30 * time.Second)
		defer t.Stop()
		grace = mergeDone(ctx.Done(), t.C)
	}
	select {
	case <-c.done:
		return nil
	case <-grace:
	}
	// Too slow: immediate shutdown, then kill the whole process group.
	c.log.Warn("pgembed: fast shutdown too slow; forcing immediate shutdown", "pid", pid)
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-c.done
	}
	cause := ctx.Err()
	if cause == nil {
		cause = errors.New("timed out after 30s")
	}
	return fmt.Errorf("pgembed: stop: fast shutdown did not finish (forced immediate shutdown): %w%s", cause, c.logTail())
}

func mergeDone(a <-chan struct{}, b <-chan time.Time) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		select {
		case <-a:
		case <-b:
		}
		close(ch)
	}()
	return ch
}

// prepareFolders creates the folders around the data folder.
func (c *Cluster) prepareFolders() error {
	lay := c.layout
	if lay.relocated() {
		if err := ensureDir(filepath.Dir(lay.relocRoot), 0o755); err != nil {
			return fmt.Errorf("pgembed: create %s: %w", filepath.Dir(lay.relocRoot), err)
		}
		if err := ensurePrivateDir(lay.relocRoot, 0o755, os.Geteuid(), os.Getegid()); err != nil {
			return fmt.Errorf("pgembed: create %s: %w", lay.relocRoot, err)
		}
		chain, err := ancestorChain(lay.dataDir)
		if err != nil {
			return fmt.Errorf("pgembed: check %s: %w", lay.relocRoot, err)
		}
		if blocker, ok := traversable(chain, c.srv.uid, c.srv.gids); !ok {
			return fmt.Errorf("pgembed: neither %s nor %s is reachable by user %s (%s is not searchable); "+
				"set TMPDIR to a folder it can reach", c.requested, lay.dataDir, c.srv.name, blocker)
		}
		c.log.Info("pgembed: the postgres user cannot reach the requested folder; using another",
			"requested_dir", c.requested, "data_dir", lay.dataDir, "reason", lay.reason)
	} else if err := ensureDir(filepath.Dir(lay.dataDir), 0o755); err != nil {
		return fmt.Errorf("pgembed: create %s: %w", filepath.Dir(lay.dataDir), err)
	}
	if c.sockOwn {
		uid, gid := os.Geteuid(), os.Getegid()
		if c.srv != nil {
			uid, gid = int(c.srv.uid), int(c.srv.gid)
		}
		if err := ensurePrivateDir(c.sockDir, 0o700, uid, gid); err != nil {
			return fmt.Errorf("pgembed: create socket folder %s: %w", c.sockDir, err)
		}
	}
	return nil
}

func (c *Cluster) acquireLock() error {
	path := c.layout.lockFile()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("pgembed: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("pgembed: %w: %s (locked by pid %s via %s); stop that program or use another Dir",
				ErrInUse, c.dataDir, strings.TrimSpace(string(holder)), path)
		}
		return fmt.Errorf("pgembed: lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	c.lock = f
	return nil
}

func (c *Cluster) releaseLock() {
	if c.lock != nil {
		_ = c.lock.Truncate(0)
		_ = c.lock.Close() // closing releases the flock
		c.lock = nil
	}
}

// run runs a PostgreSQL program (as the server user when we are root) and
// returns its combined output.
func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.bin.path(name), args...)
	cmd.Env = childEnv()
	cmd.Dir = filepath.Dir(c.dataDir) // reachable by the server user; /root may not be
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.srv.credential()}
	cmd.WaitDelay = 5 * time.Second
	return cmd.CombinedOutput()
}

// childEnv is our environment without PG* variables, which would otherwise
// redirect initdb/pg_ctl/postgres (PGDATA, PGPORT, ...).
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

// initLocale is the locale given to initdb: C.UTF-8 (code-point collation,
// Unicode-aware upper/lower) when installed, else C.
var initLocale = sync.OnceValue(func() string {
	out, err := exec.Command("locale", "-a").Output()
	if err == nil {
		for _, l := range strings.Fields(string(out)) {
			if strings.EqualFold(l, "C.utf8") || strings.EqualFold(l, "C.UTF-8") {
				return "C.UTF-8"
			}
		}
		return "C"
	}
	if _, err := os.Stat("/usr/lib/locale/C.utf8"); err == nil {
		return "C.UTF-8"
	}
	return "C"
})

// ensureInitialised runs initdb unless the data folder already holds a
// cluster. initdb writes to a temporary sibling that is renamed into place,
// so an interrupted initdb leaves nothing half-made behind.
func (c *Cluster) ensureInitialised(ctx context.Context) error {
	tmp := c.layout.initTmpDir()
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("pgembed: initdb: remove leftover %s: %w", tmp, err)
	}
	target, initialised, err := c.initTarget(tmp)
	if err != nil || initialised {
		return err
	}
	if err := os.MkdirAll(target, 0o700); err != nil {
		return fmt.Errorf("pgembed: initdb: %w", err)
	}
	if err := os.Chmod(target, 0o700); err != nil {
		return fmt.Errorf("pgembed: initdb: %w", err)
	}
	if c.srv != nil {
		if err := os.Chown(target, int(c.srv.uid), int(c.srv.gid)); err != nil {
			return fmt.Errorf("pgembed: initdb: %w", err)
		}
	}
	begin := time.Now()
	c.log.Info("pgembed: initialising a new cluster", "data_dir", c.dataDir, "bin", c.bin.dir)
	out, err := c.run(ctx, "initdb", "-D", target, "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale="+initLocale(), "--no-sync")
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		if target == tmp {
			// initdb's postgres child may still be exiting: retry briefly
			// (a leftover is removed by the next Start anyway).
			for i := 0; i < 20 && os.RemoveAll(tmp) != nil; i++ {
				time.Sleep(50 * time.Millisecond)
			}
		}
		return fmt.Errorf("pgembed: initdb: %w%s", err, tail("initdb output", out))
	}
	if target == tmp {
		if err := os.Rename(tmp, c.dataDir); err != nil {
			return fmt.Errorf("pgembed: initdb: move cluster into place: %w", err)
		}
	}
	c.ranInitdb = true
	c.log.Info("pgembed: cluster initialised", "data_dir", c.dataDir, "took", time.Since(begin).Round(time.Millisecond))
	return nil
}

// initTarget inspects the data folder: initialised if it already holds a
// cluster (whose ownership is then fixed), else the folder initdb should
// write to: tmp, or the data folder itself when it exists and is empty.
func (c *Cluster) initTarget(tmp string) (target string, initialised bool, err error) {
	fi, err := os.Stat(c.dataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return tmp, false, nil
	case err != nil:
		return "", false, fmt.Errorf("pgembed: stat %s: %w", c.dataDir, err)
	case !fi.IsDir():
		return "", false, fmt.Errorf("pgembed: %s is not a directory", c.dataDir)
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err == nil {
		return "", true, c.fixOwnership()
	}
	ents, err := os.ReadDir(c.dataDir)
	if err != nil {
		return "", false, fmt.Errorf("pgembed: read %s: %w", c.dataDir, err)
	}
	if len(ents) > 0 {
		return "", false, fmt.Errorf("pgembed: %s is not empty but holds no PostgreSQL cluster (no PG_VERSION); "+
			"move it away or choose another Dir", c.dataDir)
	}
	return c.dataDir, false, nil // an existing empty folder (maybe a mount point): initdb in place
}

// fixOwnership gives an existing data folder to the server user (root case)
// and makes sure its mode is one postgres accepts (0700 or 0750).
func (c *Cluster) fixOwnership() error {
	if c.srv != nil {
		if err := chownTree(c.dataDir, c.srv.uid, c.srv.gid); err != nil {
			return fmt.Errorf("pgembed: chown %s to %s: %w", c.dataDir, c.srv.name, err)
		}
	}
	fi, err := os.Stat(c.dataDir)
	if err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	if p := fi.Mode().Perm(); p != 0o700 && p != 0o750 {
		if err := os.Chmod(c.dataDir, 0o700); err != nil {
			return fmt.Errorf("pgembed: chmod %s: %w", c.dataDir, err)
		}
	}
	return nil
}

// maxLogSize is the size beyond which the server log is rotated at start.
const maxLogSize = 10 << 20

// freePort returns a loopback port nobody listens on right now (never 5432).
func freePort(ctx context.Context) (int, error) {
	var lc net.ListenConfig
	for {
		l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port != 5432 {
			return port, nil
		}
	}
}

// launch starts postgres and waits until it accepts connections, retrying
// with another port when the chosen one was taken in the meantime.
func (c *Cluster) launch(ctx context.Context) error {
	const attempts = 3
	for attempt := 1; ; attempt++ {
		err := c.launchOnce(ctx)
		if err == nil {
			return nil
		}
		if attempt < attempts && ctx.Err() == nil && c.portConflict() {
			c.log.Warn("pgembed: port taken, retrying with another", "port", c.port)
			continue
		}
		return err
	}
}

func (c *Cluster) launchOnce(ctx context.Context) error {
	port, err := freePort(ctx)
	if err != nil {
		return fmt.Errorf("pgembed: find a free port: %w", err)
	}
	c.port = port
	logPath := c.layout.logFile()
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("pgembed: open server log: %w", err)
	}
	defer func() { logf.Close() }() // postgres keeps its own copy of the descriptor
	if fi, err := logf.Stat(); err == nil && fi.Size() > maxLogSize {
		// Keep one previous generation.
		logf.Close()
		if err := os.Rename(logPath, logPath+".old"); err != nil {
			return fmt.Errorf("pgembed: rotate server log: %w", err)
		}
		if logf, err = os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
			return fmt.Errorf("pgembed: open server log: %w", err)
		}
	}
	if fi, err := logf.Stat(); err == nil {
		c.logStart = fi.Size()
	}
	fmt.Fprintf(logf, "---- pgembed: starting postgres on 127.0.0.1:%d at %s ----\n", port, time.Now().Format(time.RFC3339))

	// The server outlives ctx, which bounds only the start-up: Stop ends it.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), c.bin.path("postgres"),
		"-D", c.dataDir,
		"-p", strconv.Itoa(port),
		"-h", "127.0.0.1",
		"-k", c.sockDir,
		"-c", "logging_collector=off",
		"-c", "synchronous_commit=off",
	)
	cmd.Env = childEnv()
	cmd.Dir = c.dataDir
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Own process group: a terminal Ctrl-C reaches only the Go program,
	// which then stops postgres in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.srv.credential()}
	if c.dieWithParent {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgembed: start postgres: %w", err)
	}
	c.cmd = cmd
	c.done = make(chan struct{})
	c.waitErr = nil
	done := c.done
	go func() {
		err := cmd.Wait()
		c.waitErr = err
		close(done)
	}()

	if err := c.waitReady(ctx); err != nil {
		return err
	}
	return nil
}

// waitReady polls until the server accepts connections, it exits, or ctx ends.
func (c *Cluster) waitReady(ctx context.Context) error {
	pid := c.cmd.Process.Pid
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port))
	tick := time.NewTicker(15 * time.Millisecond)
	defer tick.Stop()
	for {
		if pf, err := readPidFile(c.dataDir); err == nil && pf.pid == pid && (pf.status == "" || pf.status == "ready") {
			if up, _ := ping(ctx, addr); up {
				return nil
			}
		}
		select {
		case <-c.done:
			return fmt.Errorf("pgembed: postgres exited during start-up (%w)%s", c.waitErr, c.logTail())
		case <-ctx.Done():
			c.kill()
			return fmt.Errorf("pgembed: waiting for postgres to accept connections: %w%s", ctx.Err(), c.logTail())
		case <-tick.C:
		}
	}
}

// kill stops a server that failed to come up: immediate shutdown, then
// SIGKILL to its process group.
func (c *Cluster) kill() {
	pid := c.cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-c.done
	}
}

func (c *Cluster) portConflict() bool {
	t := c.logTail()
	return strings.Contains(t, "Address already in use") || strings.Contains(t, "could not create any TCP/IP sockets") ||
		strings.Contains(t, "could not create lock file")
}

// logTail returns the end of what the current server wrote to its log, for
// error messages.
func (c *Cluster) logTail() string {
	f, err := os.Open(c.layout.logFile())
	if err != nil {
		return ""
	}
	defer f.Close()
	const limit = 4096
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	from := max(c.logStart, fi.Size()-limit)
	b := make([]byte, fi.Size()-from)
	n, _ := f.ReadAt(b, from)
	return tail("server log "+c.layout.logFile(), b[:n])
}

// tail formats the last lines of out for an error message.
func tail(what string, out []byte) string {
	s := strings.TrimSpace(string(out))
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\n--- end of " + what + " ---\n" + strings.Join(lines, "\n")
}
