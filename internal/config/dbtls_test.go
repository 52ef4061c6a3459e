package config_test

import (
	"strings"
	"testing"

	"github.com/womendefiningai/platform/internal/config"
)

func TestDatabaseURLMustBeEncryptedUnlessLocalOrAllowed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, url, allow string
		refused          bool
	}{
		{"embedded (empty)", "", "", false},
		{"loopback without TLS", "postgres://wdai:pw@127.0.0.1:5432/wdai?sslmode=disable", "", false},
		{"localhost without TLS", "postgres://wdai@localhost/wdai?sslmode=disable", "", false},
		{"IPv6 loopback", "postgres://wdai@[::1]:5432/wdai?sslmode=disable", "", false},
		{"Unix socket", "host=/var/run/postgresql dbname=wdai sslmode=disable", "", false},
		{"remote, verify-full", "postgres://wdai:pw@db.example.com/wdai?sslmode=verify-full", "", false},
		{"remote, require", "postgres://wdai:pw@db.example.com/wdai?sslmode=require", "", false},
		{"remote, disable", "postgres://wdai:pw@db.example.com/wdai?sslmode=disable", "", true},
		{"remote, prefer may fall back", "postgres://wdai:pw@db.example.com/wdai?sslmode=prefer", "", true},
		{"remote, no sslmode (prefer)", "postgres://wdai:pw@db.example.com/wdai", "", true},
		{"second host plain", "postgres://wdai@127.0.0.1,db.example.com/wdai?sslmode=disable", "", true},
		{"remote, disable, allowed", "postgres://wdai:pw@db.example.com/wdai?sslmode=disable", "true", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{"DATABASE_URL": tc.url}
			if tc.allow != "" {
				vars["DATABASE_ALLOW_INSECURE"] = tc.allow
			}
			_, err := config.LoadFrom(vars)
			refused := err != nil && strings.Contains(err.Error(), "may be unencrypted")
			if refused != tc.refused {
				t.Fatalf("refused = %v (%v), want %v", refused, err, tc.refused)
			}
			if err != nil && strings.Contains(err.Error(), "pw") {
				t.Fatalf("the error carries the password: %v", err)
			}
		})
	}
}
