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

// TestCountsAreWrittenAtTheStartAndOnFlush: New writes 0 at once; inputs
// are written at the latest by Flush, in the file of this process, with
// nothing left half-written.
func TestCountsAreWrittenAtTheStartAndOnFlush(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(fuzzcount.EnvVar, dir)
	c, err := fuzzcount.New("FuzzX")
	if err != nil {
		t.Fatal(err)
	}
	if n := written(t, dir, "FuzzX"); n != 0 {
		t.Fatalf("at the start: %d written; want 0", n)
	}
	for range 42 {
		c.Add()
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
	c, err := fuzzcount.New("FuzzX")
	if err != nil {
		t.Fatal(err)
	}
	c.Add()
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(wd); err != nil || len(entries) != 0 {
		t.Fatalf("files written: %v, %v", entries, err)
	}
}

// TestAFolderThatCannotBeWrittenFailsAtTheStart: counting into a folder
// that does not exist fails New, before any input, rather than report zero
// inputs; a folder that goes away later fails Flush.
func TestAFolderThatCannotBeWrittenFailsAtTheStart(t *testing.T) {
	t.Setenv(fuzzcount.EnvVar, filepath.Join(t.TempDir(), "missing"))
	if _, err := fuzzcount.New("FuzzX"); err == nil {
		t.Fatal("New into a missing folder = nil error; want one")
	}

	dir := filepath.Join(t.TempDir(), "counts")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv(fuzzcount.EnvVar, dir)
	c, err := fuzzcount.New("FuzzX")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	c.Add()
	if err := c.Flush(); err == nil {
		t.Fatal("Flush into a removed folder = nil; want an error")
	}
}
