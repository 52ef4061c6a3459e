package pgembed

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestChooseLayout(t *testing.T) {
	t.Parallel()
	const pgUID, pgGID = 101, 104
	srv := &serverUser{name: "postgres", uid: pgUID, gid: pgGID, gids: []uint32{pgGID, 103}}
	dir := func(p string, mode fs.FileMode, uid, gid uint32) dirPerm {
		return dirPerm{Path: p, Mode: fs.ModeDir | mode, UID: uid, GID: gid}
	}
	rootDir := dir("/", 0o755, 0, 0)
	reloc := filepath.Join("/tmp", "wdai-pg-"+shortHash("/root/proj/.data/postgres"), "data")

	tests := []struct {
		name      string
		requested string
		chain     []dirPerm
		srv       *serverUser
		want      string
		blocker   string
	}{
		{
			name:      "not root: always in place",
			requested: "/root/proj/.data/postgres",
			chain:     []dirPerm{rootDir, dir("/root", 0o700, 0, 0)},
			srv:       nil,
			want:      "/root/proj/.data/postgres",
		},
		{
			name:      "root, under /root (0700): relocated",
			requested: "/root/proj/.data/postgres",
			chain:     []dirPerm{rootDir, dir("/root", 0o700, 0, 0), dir("/root/proj", 0o755, 0, 0)},
			srv:       srv,
			want:      reloc,
			blocker:   "/root",
		},
		{
			name:      "root, all ancestors 0755: in place",
			requested: "/work/main/.data/postgres",
			chain:     []dirPerm{rootDir, dir("/work", 0o755, 0, 0), dir("/work/main", 0o755, 0, 0)},
			srv:       srv,
			want:      "/work/main/.data/postgres",
		},
		{
			name:      "root, other has x but not r (0711): in place",
			requested: "/home/ann/p/.data/pg",
			chain:     []dirPerm{rootDir, dir("/home", 0o755, 0, 0), dir("/home/ann", 0o711, 1000, 1000)},
			srv:       srv,
			want:      "/home/ann/p/.data/pg",
		},
		{
			name:      "root, group x for the postgres group: in place",
			requested: "/srv/db/pg",
			chain:     []dirPerm{rootDir, dir("/srv", 0o755, 0, 0), dir("/srv/db", 0o750, 0, pgGID)},
			srv:       srv,
			want:      "/srv/db/pg",
		},
		{
			name:      "root, group x via a supplementary group: in place",
			requested: "/srv/db/pg",
			chain:     []dirPerm{rootDir, dir("/srv/db", 0o710, 0, 103)},
			srv:       srv,
			want:      "/srv/db/pg",
		},
		{
			name:      "root, group x but postgres not in the group: relocated",
			requested: "/srv/db/pg",
			chain:     []dirPerm{rootDir, dir("/srv/db", 0o750, 0, 50)},
			srv:       srv,
			want:      filepath.Join("/tmp", "wdai-pg-"+shortHash("/srv/db/pg"), "data"),
			blocker:   "/srv/db",
		},
		{
			name:      "root, owned by postgres with owner x only: in place",
			requested: "/var/lib/pgx/pg",
			chain:     []dirPerm{rootDir, dir("/var/lib/pgx", 0o700, pgUID, pgGID)},
			srv:       srv,
			want:      "/var/lib/pgx/pg",
		},
		{
			name:      "root, owned by postgres without owner x (other x does not apply to the owner): relocated",
			requested: "/var/lib/pgx/pg",
			chain:     []dirPerm{rootDir, dir("/var/lib/pgx", 0o611, pgUID, pgGID)},
			srv:       srv,
			want:      filepath.Join("/tmp", "wdai-pg-"+shortHash("/var/lib/pgx/pg"), "data"),
			blocker:   "/var/lib/pgx",
		},
		{
			name:      "root, t.TempDir-like 0700 parent under /tmp: relocated",
			requested: "/tmp/TestX123/001/pg",
			chain:     []dirPerm{rootDir, dir("/tmp", 0o1777, 0, 0), dir("/tmp/TestX123", 0o700, 0, 0), dir("/tmp/TestX123/001", 0o755, 0, 0)},
			srv:       srv,
			want:      filepath.Join("/tmp", "wdai-pg-"+shortHash("/tmp/TestX123/001/pg"), "data"),
			blocker:   "/tmp/TestX123",
		},
		{
			name:      "root, an ancestor is a regular file: relocated",
			requested: "/work/file/pg",
			chain:     []dirPerm{rootDir, {Path: "/work/file", Mode: 0o755}},
			srv:       srv,
			want:      filepath.Join("/tmp", "wdai-pg-"+shortHash("/work/file/pg"), "data"),
			blocker:   "/work/file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := chooseLayout(tt.requested, tt.chain, tt.srv, "/tmp")
			if got.dataDir != tt.want {
				t.Errorf("dataDir = %s, want %s", got.dataDir, tt.want)
			}
			relocated := tt.want != tt.requested
			if got.relocated() != relocated {
				t.Errorf("relocated = %v, want %v", got.relocated(), relocated)
			}
			if relocated {
				if got.relocRoot != filepath.Dir(tt.want) || !strings.Contains(got.reason, tt.blocker+" ") {
					t.Errorf("relocRoot = %s, reason = %q; want root %s and blocker %s", got.relocRoot, got.reason, filepath.Dir(tt.want), tt.blocker)
				}
			}
		})
	}
}

func TestRelocationRootIsStablePerDir(t *testing.T) {
	t.Parallel()
	a := relocationRoot("/tmp", "/root/a/.data/postgres")
	if a != relocationRoot("/tmp", "/root/a/.data/postgres") {
		t.Error("not deterministic")
	}
	if a == relocationRoot("/tmp", "/root/b/.data/postgres") {
		t.Error("two projects share a folder")
	}
	if !strings.HasPrefix(a, "/tmp/wdai-pg-") || len(filepath.Base(a)) != len("wdai-pg-")+12 {
		t.Errorf("unexpected %s", a)
	}
}

func TestSocketDirFor(t *testing.T) {
	t.Parallel()
	short := "/work/main/.data/postgres"
	if d, sep := socketDirFor(short, "/tmp"); d != short || sep {
		t.Errorf("short path: %s %v", d, sep)
	}
	// 107 bytes is the limit: dir + "/.s.PGSQL.65535" (15 bytes).
	exact := "/" + strings.Repeat("a", 107-15-1)
	if d, sep := socketDirFor(exact, "/tmp"); d != exact || sep {
		t.Errorf("107-byte socket path: %s %v", d, sep)
	}
	long := exact + "b"
	d, sep := socketDirFor(long, "/tmp")
	if !sep || !strings.HasPrefix(d, "/tmp/wdai-pgs-") || len(filepath.Join(d, ".s.PGSQL.65535")) > maxSocketPath {
		t.Errorf("108-byte socket path: %s %v", d, sep)
	}
}

func TestAncestorChain(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "a"), 0o751); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "a"), filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	chain, err := ancestorChain(filepath.Join(base, "link", "missing", "pg"))
	if err != nil {
		t.Fatal(err)
	}
	real, _ := filepath.EvalSymlinks(base)
	last := chain[len(chain)-1]
	if chain[0].Path != "/" || last.Path != filepath.Join(real, "a") || last.Mode.Perm() != 0o751 {
		t.Errorf("chain = %+v", chain)
	}
}

func TestFindBinaries(t *testing.T) { // not parallel: changes binGlobs and PATH
	root := t.TempDir()
	mk := func(dir string, names ...string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\necho 'postgres (PostgreSQL) 99.1'\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk(filepath.Join(root, "lib", "13", "bin"), "initdb", "pg_ctl", "postgres")
	mk(filepath.Join(root, "lib", "16", "bin"), "initdb", "pg_ctl", "postgres")
	mk(filepath.Join(root, "lib", "17", "bin"), "initdb", "pg_ctl") // incomplete: ignored
	mk(filepath.Join(root, "usrbin"), "initdb", "psql")             // Debian-like wrappers: ignored
	saved := binGlobs
	binGlobs = []string{filepath.Join(root, "lib", "*", "bin")}
	t.Cleanup(func() { binGlobs = saved })
	t.Setenv("PATH", filepath.Join(root, "usrbin"))

	for _, tc := range []struct{ want, major string }{{"", "16"}, {"13", "13"}, {"16", "16"}, {"12", "16"}} {
		b, err := findBinaries(t.Context(), tc.want)
		if err != nil {
			t.Fatal(err)
		}
		if b.major() != tc.major || b.dir != filepath.Join(root, "lib", tc.major, "bin") {
			t.Errorf("findBinaries(%q) = %s (%v), want major %s", tc.want, b.dir, b.version, tc.major)
		}
	}

	// A complete folder on PATH is a candidate too; its version comes from
	// postgres --version.
	mk(filepath.Join(root, "custom"), "initdb", "pg_ctl", "postgres")
	t.Setenv("PATH", filepath.Join(root, "custom"))
	if b, err := findBinaries(t.Context(), ""); err != nil || b.major() != "99" {
		t.Errorf("with PATH: %+v, %v", b, err)
	}
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)": "15",
		"9.6":  "9.6",
		"16":   "16",
		"x":    "",
		"10.1": "10",
	} {
		if got := majorOf(parseVersion(strings.TrimPrefix(in, "postgres (PostgreSQL)"))); got != want {
			t.Errorf("%q: major %q, want %q", in, got, want)
		}
	}
}
