package pgembed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ErrNoBinaries is returned (wrapped) by Start when no folder holding initdb,
// pg_ctl and postgres is found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found")

// binGlobs are searched after PATH. Tests override it.
var binGlobs = []string{"/usr/lib/postgresql/*/bin"}

// requiredBinaries must all be present in one folder.
var requiredBinaries = []string{"initdb", "pg_ctl", "postgres"}

// binaries is one PostgreSQL installation.
type binaries struct {
	dir     string
	version []int // e.g. [15 20]; major is version[0] (or [0].[1] before 10)
}

func (b binaries) path(name string) string { return filepath.Join(b.dir, name) }

// major returns the major version as PG_VERSION spells it ("15", "9.6").
func (b binaries) major() string { return majorOf(b.version) }

func majorOf(v []int) string {
	switch {
	case len(v) == 0:
		return ""
	case v[0] < 10 && len(v) > 1:
		return fmt.Sprintf("%d.%d", v[0], v[1])
	default:
		return strconv.Itoa(v[0])
	}
}

var versionRE = regexp.MustCompile(`(\d+)(?:\.(\d+))?`)

// parseVersion reads the first dotted number in s ("postgres (PostgreSQL)
// 15.20 (Debian ...)" or the "15" of /usr/lib/postgresql/15/bin).
func parseVersion(s string) []int {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	var v []int
	for _, p := range m[1:] {
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return v
		}
		v = append(v, n)
	}
	return v
}

func compareVersions(a, b []int) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func hasBinaries(dir string) bool {
	for _, name := range requiredBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// realBinDir resolves symlinks: when initdb, pg_ctl and postgres in dir
// all link into one folder (e.g. /usr/local/bin/postgres ->
// /usr/lib/postgresql/15/bin/postgres), that folder is returned.
func realBinDir(dir string) string {
	common := ""
	for _, name := range requiredBinaries {
		p, err := filepath.EvalSymlinks(filepath.Join(dir, name))
		if err != nil {
			return dir
		}
		if d := filepath.Dir(p); common == "" {
			common = d
		} else if d != common {
			return dir
		}
	}
	return common
}

// findBinaries returns the installation to use: among the folders on PATH and
// in binGlobs that hold initdb, pg_ctl and postgres, the one whose major
// version is wantMajor (the PG_VERSION of an existing cluster, "" if none),
// else the highest version; PATH wins ties.
func findBinaries(ctx context.Context, wantMajor string) (binaries, error) {
	cands := candidateBinaries(ctx)
	if len(cands) == 0 {
		return binaries{}, fmt.Errorf("pgembed: %w on PATH or in %s: install the Debian package postgresql "+
			"(apt-get install postgresql), or set DATABASE_URL to use an existing PostgreSQL server",
			ErrNoBinaries, strings.Join(binGlobs, ", "))
	}
	return pickBinaries(cands, wantMajor), nil
}

// candidateBinaries lists the complete installations on PATH, then in
// binGlobs, each folder once.
func candidateBinaries(ctx context.Context) []binaries {
	var cands []binaries
	seen := map[string]bool{}
	add := func(dir string, fromPath bool) {
		if dir == "" || !hasBinaries(dir) {
			return
		}
		dir = realBinDir(dir)
		if seen[dir] {
			return
		}
		seen[dir] = true
		var v []int
		if !fromPath {
			v = parseVersion(filepath.Base(filepath.Dir(dir)))
		}
		if v == nil {
			v = binaryVersion(ctx, dir)
		}
		cands = append(cands, binaries{dir: dir, version: v})
	}
	// PATH: the folder holding initdb must also hold pg_ctl and postgres
	// (Debian's /usr/bin wrappers do not include them).
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir != "" && filepath.IsAbs(dir) {
			add(dir, true)
		}
	}
	for _, g := range binGlobs {
		matches, _ := filepath.Glob(g)
		for _, dir := range matches {
			add(dir, false)
		}
	}
	return cands
}

// binaryVersion asks the postgres of dir for its version; nil if it cannot
// tell.
func binaryVersion(ctx context.Context, dir string) []int {
	out, err := exec.CommandContext(ctx, filepath.Join(dir, "postgres"), "--version").Output()
	if err != nil {
		return nil
	}
	return parseVersion(strings.TrimPrefix(string(out), "postgres (PostgreSQL)"))
}

// pickBinaries returns the candidate of major version wantMajor if there is
// one, else the highest version; the earlier candidate wins ties.
func pickBinaries(cands []binaries, wantMajor string) binaries {
	best := 0
	for i := 1; i < len(cands); i++ {
		c := cands[i]
		switch {
		case wantMajor != "" && (c.major() == wantMajor) != (cands[best].major() == wantMajor):
			if c.major() == wantMajor {
				best = i
			}
		case compareVersions(c.version, cands[best].version) > 0:
			best = i
		}
	}
	return cands[best]
}
