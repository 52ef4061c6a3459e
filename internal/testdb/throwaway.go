package testdb

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/womendefiningai/platform/internal/pgembed"
)

// throwawayPrefix names the temporary folders of per-binary clusters.
const throwawayPrefix = "wdai-testdb-"

// throwawayURL starts, once per test binary, a private embedded cluster in a
// temporary folder and returns its admin URL. Nothing is left to stop it, so
// the server is started to die with the test binary (pgembed
// Options.DieWithParent); its folder is removed by a later test binary (see
// removeLeftovers), since a test binary has no hook that runs at exit.
var throwawayURL = sync.OnceValues(func() (string, error) {
	removeLeftovers(os.TempDir())
	dir, err := os.MkdirTemp("", throwawayPrefix)
	if err != nil {
		return "", err
	}
	// The postgres system user (when we are root) must reach the folder.
	if err := os.Chmod(dir, 0o755); err != nil { //nolint:gosec // holds only the 0700 data folder
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgembed.Start(ctx, pgembed.Options{Dir: filepath.Join(dir, "pg"), DieWithParent: true})
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return c.URL("postgres"), nil
})

// removeLeftovers deletes the folders of earlier test binaries' clusters:
// those whose lock nobody holds and whose server has exited (no
// postmaster.pid), older than a minute (a folder that new may not be locked
// yet).
func removeLeftovers(tmp string) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, throwawayPrefix+"*"))
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < time.Minute {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "pg", "postmaster.pid")); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		f, err := os.Open(filepath.Join(d, "pg.lock")) //nolint:gosec // a folder of ours under the temp dir
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				_ = os.RemoveAll(d) // never got as far as locking
			}
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			_ = os.RemoveAll(d)
		}
		_ = f.Close()
	}
}
