package fuzzcount_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/internal/fuzzcount"
)

// written is the count this process wrote for target in dir.
func written(t *testing.T, dir, target string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, target+"-"+strconv.Itoa(os.Getpid())))
	if err != nil {
		t.Fatal(err)
	}
	line, ok := strings.CutSuffix(string(b), "\n")
	if !ok {
		t.Fatalf("count %q does not end its line: scripts concatenate the files", b)
	}
	n, err := strconv.Atoi(line)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCountsAreWrittenAtTheFirstInputAndOnFlush: the first input is
// written at once; later ones at the latest by Flush, in the file of this
// process, with nothing left half-written.
func TestCountsAreWrittenAtTheFirstInputAndOnFlush(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(fuzzcount.EnvVar, dir)
	c := fuzzcount.New("FuzzX")
	if err := c.Add(); err != nil {
		t.Fatal(err)
	}
	if n := written(t, dir, "FuzzX"); n != 1 {
		t.Fatalf("after the first input: %d written; want 1 at once", n)
	}
	for range 41 {
		if err := c.Add(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := written(t, dir, "FuzzX"); n != 42 {
		t.Fatalf("after Flush: %d written; want 42", n)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("files: %v; want only this process's count", entries)
	}
}

// TestWithoutTheVariableNothingIsWritten: a plain `go test` run of a fuzz
// target's seeds writes nowhere.
func TestWithoutTheVariableNothingIsWritten(t *testing.T) {
	t.Setenv(fuzzcount.EnvVar, "")
	wd := t.TempDir()
	t.Chdir(wd)
	c := fuzzcount.New("FuzzX")
	if err := c.Add(); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(wd); err != nil || len(entries) != 0 {
		t.Fatalf("files written: %v, %v", entries, err)
	}
}

// TestAFolderThatCannotBeWrittenIsAnError: counting into a folder that
// does not exist fails the first input (and Flush), rather than report
// zero inputs.
func TestAFolderThatCannotBeWrittenIsAnError(t *testing.T) {
	t.Setenv(fuzzcount.EnvVar, filepath.Join(t.TempDir(), "missing"))
	c := fuzzcount.New("FuzzX")
	if err := c.Add(); err == nil {
		t.Fatal("Add into a missing folder = nil; want an error")
	}
	if err := c.Flush(); err == nil {
		t.Fatal("Flush into a missing folder = nil; want an error")
	}
}
