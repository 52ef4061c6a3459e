package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/internal/config"
)

// Durations read as text in both formats, and the format follows LOG_FORMAT.
func TestLoggerFormatsAndDurations(t *testing.T) {
	var js bytes.Buffer
	newLogger(&js, config.Config{LogFormat: config.LogJSON}).Info("ready", "took", 612*time.Millisecond)
	var rec map[string]any
	if err := json.Unmarshal(js.Bytes(), &rec); err != nil {
		t.Fatalf("json log line %q: %v", js.String(), err)
	}
	if rec["took"] != "612ms" {
		t.Errorf("json took = %v, want \"612ms\"", rec["took"])
	}
	var tx bytes.Buffer
	newLogger(&tx, config.Config{LogFormat: config.LogText}).Info("ready", "took", 612*time.Millisecond)
	if !strings.Contains(tx.String(), "took=612ms") || strings.HasPrefix(tx.String(), "{") {
		t.Errorf("text log line = %q, want took=612ms in text", tx.String())
	}
}
