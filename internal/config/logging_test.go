package config_test

import (
	"strings"
	"testing"

	"github.com/womendefiningai/platform/internal/config"
)

// Development listens on loopback and logs text; production listens on every
// interface and logs JSON; both are overridable, and a wrong LOG_FORMAT
// names the valid values.
func TestEnvironmentDefaults(t *testing.T) {
	dev, err := config.LoadFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if dev.HTTPAddr != "127.0.0.1:8080" || dev.LogFormat != config.LogText {
		t.Errorf("development: HTTP_ADDR %q LOG_FORMAT %q, want 127.0.0.1:8080 text", dev.HTTPAddr, dev.LogFormat)
	}
	prod, err := config.LoadFrom(map[string]string{"WDAI_ENV": "production", "DATABASE_URL": "postgres://db/wdai?sslmode=verify-full"})
	if err != nil {
		t.Fatal(err)
	}
	if prod.HTTPAddr != ":8080" || prod.LogFormat != config.LogJSON {
		t.Errorf("production: HTTP_ADDR %q LOG_FORMAT %q, want :8080 json", prod.HTTPAddr, prod.LogFormat)
	}
	set, err := config.LoadFrom(map[string]string{"HTTP_ADDR": ":9000", "LOG_FORMAT": "json"})
	if err != nil {
		t.Fatal(err)
	}
	if set.HTTPAddr != ":9000" || set.LogFormat != config.LogJSON {
		t.Errorf("explicit: HTTP_ADDR %q LOG_FORMAT %q", set.HTTPAddr, set.LogFormat)
	}
	_, err = config.LoadFrom(map[string]string{"LOG_FORMAT": "pretty"})
	if err == nil || !strings.Contains(err.Error(), `LOG_FORMAT: must be "text" or "json", got "pretty"`) {
		t.Errorf("LOG_FORMAT=pretty: err = %v", err)
	}
}

// LOG_LEVEL=verbose lists the valid values.
func TestLogLevelNamesValidValues(t *testing.T) {
	_, err := config.LoadFrom(map[string]string{"LOG_LEVEL": "verbose"})
	if err == nil || !strings.Contains(err.Error(), "LOG_LEVEL: must be debug, info, warn or error") || !strings.Contains(err.Error(), `"verbose"`) {
		t.Errorf("LOG_LEVEL=verbose: %v", err)
	}
}

// A malformed DATABASE_URL: the reason and the expected form, never the URL.
func TestMalformedDatabaseURLShowsTheForm(t *testing.T) {
	_, err := config.LoadFrom(map[string]string{"DATABASE_URL": "postgres://ada:s3cret@db:notaport/x"})
	if err == nil || !strings.Contains(err.Error(), "(invalid port)") ||
		!strings.Contains(err.Error(), "expected postgres://USER:PASSWORD@HOST:5432/DBNAME") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("malformed DATABASE_URL: %v", err)
	}
}
