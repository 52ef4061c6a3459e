package pgembed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pidFile is the part of postmaster.pid pgembed cares about.
type pidFile struct {
	pid    int
	status string // "starting", "ready", "stopping", ... ("" before PG 10)
}

// readPidFile parses <dataDir>/postmaster.pid. A missing file returns an
// error wrapping fs.ErrNotExist.
func readPidFile(dataDir string) (pidFile, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return pidFile{}, err
	}
	lines := strings.Split(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil {
		return pidFile{}, fmt.Errorf("postmaster.pid: bad pid %q", lines[0])
	}
	pf := pidFile{pid: pid}
	if len(lines) > 7 {
		pf.status = strings.TrimSpace(lines[7])
	}
	return pf, nil
}

type procState int

const (
	procGone    procState = iota // no such process (or a zombie)
	procOther                    // alive, but not a postgres serving dataDir: the pid was reused
	procServing                  // a postgres whose working folder is dataDir
)

func (s procState) String() string {
	return [...]string{"gone", "other", "serving"}[s]
}

// inspectPid tells whether pid is a live postgres serving dataDir. A
// postmaster chdirs into its data folder, so /proc/<pid>/cwd identifies it;
// if that is unreadable the -D argument of its command line is used.
func inspectPid(pid int, dataDir string) procState {
	if pid <= 0 {
		return procGone
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return procGone
	}
	proc := filepath.Join("/proc", strconv.Itoa(pid))
	if stat, err := os.ReadFile(filepath.Join(proc, "stat")); err == nil {
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return procGone
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		return procGone
	}
	cmdline, err := os.ReadFile(filepath.Join(proc, "cmdline"))
	if err != nil {
		return procOther
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) == 0 || !strings.Contains(filepath.Base(args[0]), "postgres") && !strings.Contains(filepath.Base(args[0]), "postmaster") {
		return procOther
	}
	want, err := os.Stat(dataDir)
	if err != nil {
		return procOther
	}
	if cwd, err := os.Stat(filepath.Join(proc, "cwd")); err == nil {
		if os.SameFile(cwd, want) {
			return procServing
		}
		return procOther
	}
	for i, a := range args {
		var d string
		switch {
		case a == "-D" && i+1 < len(args):
			d = args[i+1]
		case strings.HasPrefix(a, "-D") && len(a) > 2:
			d = a[2:]
		default:
			continue
		}
		if fi, err := os.Stat(d); err == nil && os.SameFile(fi, want) {
			return procServing
		}
	}
	return procOther
}

// clearStale makes sure no postmaster.pid blocks the start. It must be called
// with the cluster lock held, so any server it finds is not owned by a live
// Cluster: it is an orphan of a killed program.
func (c *Cluster) clearStale(ctx context.Context) error {
	for attempt := 0; attempt < 4; attempt++ {
		pf, err := readPidFile(c.dataDir)
		if errors.Is(err, fs.ErrNotExist) {
			return c.clearStaleSockets()
		}
		pidPath := filepath.Join(c.dataDir, "postmaster.pid")
		if err != nil {
			c.log.Warn("pgembed: removing unreadable postmaster.pid", "file", pidPath, "err", err)
			if err := os.Remove(pidPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("pgembed: remove stale postmaster.pid: %w", err)
			}
			continue
		}
		switch st := inspectPid(pf.pid, c.dataDir); st {
		case procGone, procOther:
			c.log.Warn("pgembed: removing stale postmaster.pid", "file", pidPath, "pid", pf.pid, "process", st.String())
			if err := os.Remove(pidPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("pgembed: remove stale postmaster.pid: %w", err)
			}
		case procServing:
			c.log.Warn("pgembed: stopping orphaned postgres left running by a killed program",
				"pid", pf.pid, "data_dir", c.dataDir)
			if err := c.stopOrphan(ctx, pf.pid); err != nil {
				return err
			}
		}
	}
	return errors.New("pgembed: could not clear postmaster.pid (it keeps coming back)")
}

// stopOrphan shuts down a postgres serving our data folder that no Cluster
// owns: pg_ctl stop -m fast, then -m immediate, then SIGKILL.
func (c *Cluster) stopOrphan(ctx context.Context, pid int) error {
	var errs []error
	for _, mode := range []string{"fast", "immediate"} {
		out, err := c.run(ctx, "pg_ctl", "stop", "-D", c.dataDir, "-m", mode, "-w", "-t", "30")
		if err == nil {
			c.waitGone(ctx, pid)
			return nil
		}
		errs = append(errs, fmt.Errorf("pg_ctl stop -m %s: %w%s", mode, err, tail("pg_ctl output", out)))
		if ctx.Err() != nil {
			break
		}
	}
	if inspectPid(pid, c.dataDir) == procServing {
		if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
			c.waitGone(ctx, pid)
			return nil
		}
	} else {
		return nil
	}
	return fmt.Errorf("pgembed: stop orphaned postgres (pid %d): %w", pid, errors.Join(errs...))
}

// waitGone waits (up to 10 s or ctx) until pid and the server's children,
// which hold its shared memory, have exited.
func (c *Cluster) waitGone(ctx context.Context, pid int) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if inspectPid(pid, c.dataDir) != procServing && len(processesIn(c.dataDir)) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processesIn lists the postgres processes whose working folder is dir (a
// postmaster and all its children chdir into the data folder).
func processesIn(dir string) []int {
	want, err := os.Stat(dir)
	if err != nil {
		return nil
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil || !strings.HasPrefix(string(comm), "postgres") && !strings.HasPrefix(string(comm), "postmaster") {
			continue
		}
		if fi, err := os.Stat(filepath.Join("/proc", e.Name(), "cwd")); err == nil && os.SameFile(fi, want) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// clearStaleSockets removes socket files of earlier runs from the socket
// folder (each run uses a new port, so they would pile up). Only called when
// no server runs for this cluster.
func (c *Cluster) clearStaleSockets() error {
	matches, _ := filepath.Glob(filepath.Join(c.sockDir, ".s.PGSQL.*"))
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.log.Warn("pgembed: cannot remove stale socket file", "file", m, "err", err)
		}
	}
	return nil
}
