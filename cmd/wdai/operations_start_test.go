package main

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/operations"
)

// TestInvalidOperationStopsTheStart runs the real start function with one
// operation the schema refuses among the project's own: serve returns an
// error naming the file, line and problem before it opens a database.
// Not parallel: it swaps the served operations.
func TestInvalidOperationStopsTheStart(t *testing.T) {
	files := fstest.MapFS{}
	entries, err := fs.ReadDir(operations.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(operations.FS, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = &fstest.MapFile{Data: b}
	}
	files["Broken.graphql"] = &fstest.MapFile{Data: []byte("# A field the schema does not have.\nquery Broken {\n  me { salary }\n}\n")}
	saved := operationsFS
	operationsFS = files
	t.Cleanup(func() { operationsFS = saved })

	dataDir := t.TempDir()
	cfg, err := config.LoadFrom(map[string]string{"HTTP_ADDR": "127.0.0.1:0", "WDAI_DATA_DIR": dataDir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err = serve(ctx, environment{cfg: cfg, logger: slog.New(slog.DiscardHandler)}, false)
	if err == nil {
		t.Fatal("serve started with an invalid operation")
	}
	for _, want := range []string{"operations/", "Broken.graphql:3:8", `Cannot query field "salary" on type "Person"`} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %q", err, want)
		}
	}
	// Nothing was started: no embedded database was created.
	if left, _ := os.ReadDir(dataDir); len(left) != 0 {
		t.Fatalf("the data folder holds %d entries; the start went on past the operations", len(left))
	}

	// The project's own operations start (the check passes them).
	operationsFS = saved
	if _, err := loadTrustedDocuments(operationsFS); err != nil {
		t.Fatalf("the embedded operations are invalid: %v", err)
	}
}
