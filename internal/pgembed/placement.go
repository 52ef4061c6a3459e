package pgembed

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// serverUserName is the system user PostgreSQL runs as when we are root.
const serverUserName = "postgres"

// maxSocketPath is the longest Unix socket path Linux accepts
// (sizeof(sockaddr_un.sun_path) minus the terminating NUL).
const maxSocketPath = 107

// serverUser is the account the PostgreSQL programs run as when the Go
// program runs as root. nil means "as ourselves".
type serverUser struct {
	name string
	uid  uint32
	gid  uint32
	gids []uint32 // primary and supplementary groups
}

func (s *serverUser) credential() *syscall.Credential {
	if s == nil {
		return nil
	}
	return &syscall.Credential{Uid: s.uid, Gid: s.gid, Groups: s.gids}
}

func lookupServerUser(name string) (*serverUser, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("pgembed: running as root needs the %q system user to run PostgreSQL "+
			"(install the Debian package postgresql, or run as an ordinary user): %w", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgembed: user %q: %w", name, err)
	}
	if uid == 0 {
		return nil, fmt.Errorf("pgembed: user %q has uid 0; PostgreSQL refuses to run as root", name)
	}
	s := &serverUser{name: name, uid: uint32(uid), gid: uint32(gid), gids: []uint32{uint32(gid)}}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil && !slices.Contains(s.gids, uint32(g)) {
				s.gids = append(s.gids, uint32(g))
			}
		}
	}
	return s, nil
}

// dirPerm is what matters about one directory for the traversal check.
type dirPerm struct {
	Path string
	Mode fs.FileMode
	UID  uint32
	GID  uint32
}

// traversable reports whether a process running as uid with groups gids can
// search (x permission) every directory of chain, following the Unix rule
// that only the owner bits apply to the owner, only the group bits to group
// members and the other bits to everybody else. ACLs are ignored. On failure
// it returns the first directory that blocks.
func traversable(chain []dirPerm, uid uint32, gids []uint32) (blocker string, ok bool) {
	for _, d := range chain {
		perm := d.Mode.Perm()
		var can bool
		switch {
		case !d.Mode.IsDir():
			can = false
		case uid == 0:
			can = true
		case d.UID == uid:
			can = perm&0o100 != 0
		case slices.Contains(gids, d.GID):
			can = perm&0o010 != 0
		default:
			can = perm&0o001 != 0
		}
		if !can {
			return d.Path, false
		}
	}
	return "", true
}

// layout says where a cluster's files live.
type layout struct {
	dataDir   string // the PostgreSQL data folder (PGDATA)
	relocRoot string // os.TempDir()/wdai-pg-<hash> when relocated, else ""
	reason    string // why it was relocated
}

func (l layout) relocated() bool    { return l.relocRoot != "" }
func (l layout) logFile() string    { return l.dataDir + ".log" }
func (l layout) lockFile() string   { return l.dataDir + ".lock" }
func (l layout) initTmpDir() string { return l.dataDir + ".initdb.tmp" }

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:12]
}

// relocationRoot is the per-project folder used when the postgres user cannot
// reach the requested folder.
func relocationRoot(tmpDir, absRequested string) string {
	return filepath.Join(tmpDir, "wdai-pg-"+shortHash(absRequested))
}

// chooseLayout decides where the data folder lives. absRequested is the
// absolute Options.Dir, chain the existing ancestors of (the symlink-resolved)
// absRequested from "/" down, srv the user PostgreSQL runs as when we are
// root (nil otherwise). It is pure so that it can be table-tested.
func chooseLayout(absRequested string, chain []dirPerm, srv *serverUser, tmpDir string) layout {
	if srv == nil {
		return layout{dataDir: absRequested}
	}
	blocker, ok := traversable(chain, srv.uid, srv.gids)
	if ok {
		return layout{dataDir: absRequested}
	}
	root := relocationRoot(tmpDir, absRequested)
	return layout{
		dataDir:   filepath.Join(root, "data"),
		relocRoot: root,
		reason:    fmt.Sprintf("%s is not searchable by user %s", blocker, srv.name),
	}
}

// socketDirFor returns the folder for the server's Unix socket: the data
// folder itself, unless the socket path (with the longest port number) would
// not fit in sun_path; then a short per-cluster folder under tmpDir.
func socketDirFor(dataDir, tmpDir string) (dir string, separate bool) {
	if len(filepath.Join(dataDir, ".s.PGSQL.65535")) <= maxSocketPath {
		return dataDir, false
	}
	return filepath.Join(tmpDir, "wdai-pgs-"+shortHash(dataDir)), true
}

// ancestorChain stats the existing ancestors of path (symlinks resolved),
// from "/" down, excluding path itself: those are the folders the server
// user must be able to search. Missing ancestors are left out; pgembed
// creates them with mode 0755.
func ancestorChain(path string) ([]dirPerm, error) {
	existing := path
	var rest []string
	for {
		_, err := os.Lstat(existing)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		rest = append([]string{filepath.Base(existing)}, rest...)
		existing = parent
	}
	real, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return nil, err
	}
	target := filepath.Join(append([]string{real}, rest...)...)
	var chain []dirPerm
	for p := filepath.Dir(target); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// created by us later
		case err != nil:
			return nil, err
		default:
			st, ok := fi.Sys().(*syscall.Stat_t)
			if !ok {
				return nil, fmt.Errorf("stat %s: no owner information", p)
			}
			chain = append(chain, dirPerm{Path: p, Mode: fi.Mode(), UID: st.Uid, GID: st.Gid})
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	slices.Reverse(chain)
	return chain, nil
}

// ensureDir creates path and its missing parents; every folder it creates
// gets exactly mode perm (regardless of umask).
func ensureDir(path string, perm fs.FileMode) error {
	if fi, err := os.Stat(path); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s exists and is not a directory", path)
		}
		return nil
	}
	if parent := filepath.Dir(path); parent != path {
		if err := ensureDir(parent, perm); err != nil {
			return err
		}
	}
	if err := os.Mkdir(path, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Chmod(path, perm)
}

// ensurePrivateDir creates dir (one level, in a shared folder such as /tmp)
// with mode perm, owned by uid:gid, and refuses to use it when it is a
// symlink or owned by someone else (it may have been planted).
func ensurePrivateDir(dir string, perm fs.FileMode, uid, gid int) error {
	if err := os.Mkdir(dir, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok {
		return fmt.Errorf("refusing to use %s: not a directory", dir)
	}
	if int(st.Uid) != uid {
		if os.Geteuid() != 0 || int(st.Uid) != os.Geteuid() {
			return fmt.Errorf("refusing to use %s: owned by uid %d, not %d", dir, st.Uid, uid)
		}
	}
	if int(st.Uid) != uid || int(st.Gid) != gid {
		if err := os.Lchown(dir, uid, gid); err != nil {
			return err
		}
	}
	if fi.Mode().Perm() != perm {
		return os.Chmod(dir, perm)
	}
	return nil
}

// chownTree gives dir and everything in it to uid:gid when dir or its
// PG_VERSION is not owned by uid yet (chown -R as needed).
func chownTree(dir string, uid, gid uint32) error {
	needs := false
	for _, p := range []string{dir, filepath.Join(dir, "PG_VERSION")} {
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != uid {
			needs = true
		}
	}
	if !needs {
		return nil
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(uid), int(gid))
	})
}
