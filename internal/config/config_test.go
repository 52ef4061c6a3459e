package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/internal/config"
)

func TestDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom(map[string]string{})
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if cfg.Env != config.Development || !cfg.Dev() {
		t.Errorf("Env = %q, want development", cfg.Env)
	}
	if cfg.HTTPAddr != "127.0.0.1:8080" {
		t.Errorf("HTTPAddr = %q, want 127.0.0.1:8080 (development listens on loopback)", cfg.HTTPAddr)
	}
	if cfg.ShutdownTimeout != 15*time.Second {
		t.Errorf("ShutdownTimeout = %s", cfg.ShutdownTimeout)
	}
	if cfg.DataDir != ".data" || cfg.DBMaxConns != 8 {
		t.Errorf("DataDir/DBMaxConns = %q/%d", cfg.DataDir, cfg.DBMaxConns)
	}
}

func TestProblemsAreReportedTogetherOneLineEach(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vars map[string]string
		want []string
	}{
		{
			name: "production without database and bad address",
			vars: map[string]string{"WDAI_ENV": "production", "HTTP_ADDR": "nonsense"},
			want: []string{"DATABASE_URL: required when WDAI_ENV=production", "HTTP_ADDR: must be host:port"},
		},
		{
			name: "unknown environment",
			vars: map[string]string{"WDAI_ENV": "staging"},
			want: []string{"WDAI_ENV: must be \"development\" or \"production\""},
		},
		{
			name: "bad numbers and durations",
			vars: map[string]string{"DB_MAX_CONNS": "lots", "SHUTDOWN_TIMEOUT": "soon", "HTTP_ADDR": ":99999"},
			want: []string{"DB_MAX_CONNS: \"lots\" is not a valid number", "SHUTDOWN_TIMEOUT:", "HTTP_ADDR: port must be a number from 0 to 65535"},
		},
		{
			name: "bad cron and alert settings",
			vars: map[string]string{"CRON_SLACK_SYNC": "9am", "CRON_SECRET": "short", "ALERT_SLACK_WEBHOOK_URL": "hooks.slack.test/x", "WORKER_CONSUMERS": "0"},
			want: []string{"CRON_SLACK_SYNC: ", "CRON_SECRET: must be at least 16", "ALERT_SLACK_WEBHOOK_URL: must be an http(s) URL", "WORKER_CONSUMERS: must be between 1 and 32"},
		},
		{
			name: "Clerk without issuer or authorized parties",
			vars: map[string]string{"CLERK_SECRET_KEY": "sk_test_x"},
			want: []string{"CLERK_ISSUER: required with CLERK_SECRET_KEY", "CLERK_AUTHORIZED_PARTIES: required with CLERK_SECRET_KEY"},
		},
		{
			name: "Clerk issuer with a path and parties that are not origins",
			vars: map[string]string{"CLERK_SECRET_KEY": "sk_test_x", "CLERK_ISSUER": "https://clerk.example.test/v1", "CLERK_AUTHORIZED_PARTIES": "https://app.example.test/,app.example.test"},
			want: []string{"CLERK_ISSUER: ", "CLERK_AUTHORIZED_PARTIES: not origins: \"https://app.example.test/\", \"app.example.test\""},
		},
		{
			name: "Clerk token settings without a key",
			vars: map[string]string{"CLERK_ISSUER": "https://clerk.example.test"},
			want: []string{"CLERK_SECRET_KEY: required when CLERK_ISSUER"},
		},
		{
			name: "retry policy, worker pool and breakers out of range",
			vars: map[string]string{"WORKER_TRANSIENT_RETRY_INITIAL": "1ms", "WORKER_TRANSIENT_RETRY_MAX": "48h", "WORKER_RETRY_BUDGET": "0s",
				"WORKER_DB_MAX_CONNS": "-1", "PROVIDER_BREAKER_FAILURES": "0", "PROVIDER_BREAKER_OPEN_FOR": "2h"},
			want: []string{"WORKER_TRANSIENT_RETRY_INITIAL: must be between 10ms and 1h", "WORKER_TRANSIENT_RETRY_MAX: ", "WORKER_RETRY_BUDGET: must be between 1s",
				"WORKER_DB_MAX_CONNS: ", "PROVIDER_BREAKER_FAILURES: must be between 1 and 1000", "PROVIDER_BREAKER_OPEN_FOR: must be between 100ms and 1h"},
		},
		{
			name: "bad log level",
			vars: map[string]string{"LOG_LEVEL": "loud"},
			want: []string{"LOG_LEVEL:"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.LoadFrom(tc.vars)
			var cerr *config.Error
			if !errors.As(err, &cerr) {
				t.Fatalf("err = %v, want *config.Error", err)
			}
			if len(cerr.Problems) != len(tc.want) {
				t.Fatalf("problems = %q, want %d of them", cerr.Problems, len(tc.want))
			}
			for _, w := range tc.want {
				found := false
				for _, p := range cerr.Problems {
					if strings.HasPrefix(p, w) {
						found = true
					}
					if strings.Contains(p, "\n") {
						t.Errorf("problem spans lines: %q", p)
					}
				}
				if !found {
					t.Errorf("no problem starts with %q in %q", w, cerr.Problems)
				}
			}
		})
	}
}

func TestClerkTokenSettings(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom(map[string]string{"CLERK_SECRET_KEY": "sk_test_x", "CLERK_ISSUER": "https://clerk.example.test",
		"CLERK_AUTHORIZED_PARTIES": "https://app.example.test,http://localhost:3000"})
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if cfg.ClerkIssuer != "https://clerk.example.test" || len(cfg.ClerkAuthorizedParties) != 2 || cfg.ClerkAuthorizedParties[1] != "http://localhost:3000" {
		t.Errorf("issuer %q, parties %q", cfg.ClerkIssuer, cfg.ClerkAuthorizedParties)
	}
}

func TestProductionWithDatabaseIsValid(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom(map[string]string{"WDAI_ENV": "production", "DATABASE_URL": "postgres://db/wdai?sslmode=verify-full", "HTTP_ADDR": "127.0.0.1:9000"})
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if cfg.Dev() {
		t.Error("production config reports Dev()")
	}
}
