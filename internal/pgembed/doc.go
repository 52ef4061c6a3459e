// Package pgembed starts and stops a private PostgreSQL cluster for
// development and tests, using the PostgreSQL binaries installed on the
// machine (no download, no container).
//
// Typical use:
//
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	pg, err := pgembed.Start(ctx, pgembed.Options{Dir: ".data/postgres", Logger: logger})
//	if err != nil { ... }
//	defer pg.Stop(context.Background())
//	pool, err := pgxpool.New(ctx, pg.URL("postgres"))
//
// # Binaries
//
// initdb, pg_ctl and postgres must sit in one folder, found on PATH or in
// /usr/lib/postgresql/*/bin (Debian/Ubuntu layout). When several versions are
// installed the one matching an existing data folder's PG_VERSION wins,
// otherwise the highest version (PATH wins a tie). When nothing is found,
// Start returns an error wrapping [ErrNoBinaries] that says to install the
// Debian package postgresql or to set DATABASE_URL to an existing server.
//
// # Cluster settings
//
// A new cluster is created with
//
//	initdb -U postgres --auth=trust -E UTF8 --no-sync --locale=C.UTF-8
//
// (--locale=C when the C.UTF-8 locale is not installed). At every start
// pgembed rewrites pg_hba.conf so that only two ways in remain: the Unix
// socket, which lives in a folder only the server's user (and root) can
// enter, and TCP on 127.0.0.1 with scram-sha-256 password authentication.
// The password is 64 random hex digits kept in the data folder (file
// wdai-password, mode 0600, in the 0700 data folder) and set on the postgres
// role over the socket right after start; until then no TCP login succeeds.
// Another local user therefore can neither enter the socket folder nor log
// in over TCP. [Cluster.URL] carries the password: do not log it. The server runs with the
// durability defaults (fsync stays on) except synchronous_commit=off, which
// is set on the postgres command line: a crash of the machine may lose the
// last few hundred milliseconds of commits, but never corrupts the cluster.
// Sessions may still SET synchronous_commit=on.
//
// The TCP port is a free loopback port picked at each start (never 5432); use
// [Cluster.URL] to connect. The Unix socket lives in the data folder; when
// that path would not fit in sun_path (107 bytes), it lives in a short folder
// os.TempDir()/wdai-pgs-<hash> instead (see [Cluster.SocketDir]).
//
// # Files
//
// For a data folder D, pgembed also uses two files next to it: D.log (the
// server log, appended to on every start, moved to D.log.old beyond 10 MB;
// see [Cluster.LogFile]) and D.lock (an flock held while a
// Cluster is running, so two programs never drive the same cluster). initdb
// first writes into D.initdb.tmp and renames it to D when it succeeds, so an
// interrupted initdb never leaves a half-made cluster behind. [Cluster.Stop]
// never deletes anything; [Cluster.Remove] deletes all of the above (and a
// relocated or socket folder pgembed made), for throwaway clusters in tests.
//
// # Running as root
//
// initdb and postgres refuse to run as root. When the program runs as root
// (os.Geteuid()==0), every PostgreSQL program is run as the "postgres" system
// user, and the data folder is owned by that user with mode 0700 (fixed with a
// chown -R when needed). That user must be able to reach the folder: when an
// ancestor of the requested Dir is not searchable by it (for example anything
// under /root, or a 0700 folder made by t.TempDir), the cluster lives instead
// in
//
//	os.TempDir()/wdai-pg-<first 12 hex digits of sha256(absolute Dir)>/data
//
// (the wdai-pg-<hash> folder is owned by root with mode 0755), so every
// project/Dir keeps its own cluster across runs. The real location is logged
// and returned by [Cluster.DataDir]. Note that os.TempDir() may be emptied on
// reboot. As an ordinary user, the data lives in Dir as given.
//
// # Stale servers
//
// A postmaster.pid left by a killed run does not block the next Start: when
// it names a process that is gone (or a reused pid that is not a postgres
// serving this data folder), the file is removed; when it names a postgres
// still serving this folder (the Go program was killed with SIGKILL, and
// postgres, being in its own process group, kept running), that server is
// shut down with pg_ctl stop -m fast (then -m immediate) and a fresh one is
// started. A server still owned by a live Cluster (in this or another
// process) is never touched: Start fails with [ErrInUse] instead.
//
// # Process group and signals
//
// The server is started in its own process group, so a Ctrl-C in the terminal
// reaches only the Go program, which should then call [Cluster.Stop] (fast
// shutdown, waits for exit). The ctx given to Start only bounds the start-up;
// cancelling it later does not stop the server.
package pgembed
