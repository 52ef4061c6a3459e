// Package fuzzcount counts the inputs a fuzz target runs, in every fuzzing
// worker process, for the scripts that report how much was fuzzed (make
// chaos, R7). Go's own "execs" figure is sent by the workers to the
// coordinator in batches and can stand still for most of a run, then be
// printed before the last batch arrives (golang/go#51484): it is not a
// count to report.
//
// When WDAI_FUZZ_COUNT_DIR names a folder, each process writes the number
// of inputs it has run so far to a file of its own there, named
// TARGET-PID: 0 when the target starts (New fails if it cannot), then at
// most once a second; the sum over the folder's files (scripts/chaos.sh
// adds them up) is a lower bound of the inputs run: a worker stopped at
// the end loses at most its last second, and a write that fails later
// loses counts, which the script's floor of inputs then shows. Without the
// variable a Counter does nothing.
package fuzzcount

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// EnvVar names the folder the counts are written to.
const EnvVar = "WDAI_FUZZ_COUNT_DIR"

// writeEvery is how often a process writes its count, at most.
const writeEvery = time.Second

// Counter counts one fuzz target's inputs in this process.
type Counter struct {
	path string // empty: counting is off

	mu      sync.Mutex
	n       int64
	written time.Time
	err     error // the first write error, reported by Flush
}

// New returns the counter of target in this process, having written its
// first count (0): a folder that cannot be written fails here, before any
// input runs, and not as a failing input (which Go would save as a crasher
// in testdata).
func New(target string) (*Counter, error) {
	dir := os.Getenv(EnvVar)
	if dir == "" {
		return &Counter{}, nil
	}
	c := &Counter{path: filepath.Join(dir, fmt.Sprintf("%s-%d", target, os.Getpid())), written: time.Now()}
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("fuzzcount: %w", err)
	}
	return c, nil
}

// Add counts one input and writes the count when it is due. A write that
// fails is kept for Flush and counting goes on.
func (c *Counter) Add() {
	if c.path == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if now := time.Now(); now.Sub(c.written) >= writeEvery {
		c.written = now
		c.write()
	}
}

// Flush writes the count now and returns the first error any write met.
func (c *Counter) Flush() error {
	if c.path == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.write()
	return c.err
}

// write replaces the file, through a rename, so that a reader never sees a
// partial number. c.mu is held.
func (c *Counter) write() {
	tmp := c.path + ".tmp"
	err := os.WriteFile(tmp, []byte(strconv.FormatInt(c.n, 10)+"\n"), 0o600)
	if err == nil {
		err = os.Rename(tmp, c.path)
	}
	if err != nil && c.err == nil {
		c.err = err
	}
}
