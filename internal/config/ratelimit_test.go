package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/internal/config"
)

func TestRateLimitsAndTrustedDocuments(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GraphQLTrustedDocumentsOnly || cfg.RateLimitPerMinute != 600 || cfg.RateLimitAnonymousPerMinute != 120 ||
		cfg.RateLimitProviderCallsPerMinute != 10 || cfg.RateLimitProxyHops != 0 {
		t.Fatalf("defaults = %v %d %d %d %d", cfg.GraphQLTrustedDocumentsOnly, cfg.RateLimitPerMinute, cfg.RateLimitAnonymousPerMinute,
			cfg.RateLimitProviderCallsPerMinute, cfg.RateLimitProxyHops)
	}
	cfg, err = config.LoadFrom(map[string]string{"GRAPHQL_TRUSTED_DOCUMENTS_ONLY": "true", "RATE_LIMIT_PER_MINUTE": "5"})
	if err != nil || !cfg.GraphQLTrustedDocumentsOnly || cfg.RateLimitPerMinute != 5 {
		t.Fatalf("set = %v %d, %v", cfg.GraphQLTrustedDocumentsOnly, cfg.RateLimitPerMinute, err)
	}

	_, err = config.LoadFrom(map[string]string{
		"RATE_LIMIT_PER_MINUTE": "0", "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "many", "RATE_LIMIT_PROVIDER_CALLS_PER_MINUTE": "2000000",
		"RATE_LIMIT_PROXY_HOPS": "-1", "GRAPHQL_TRUSTED_DOCUMENTS_ONLY": "maybe",
	})
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("err = %v, want *config.Error", err)
	}
	for _, want := range []string{
		"RATE_LIMIT_PER_MINUTE: must be between 1 and 1000000, got 0",
		`RATE_LIMIT_ANONYMOUS_PER_MINUTE: "many" is not a valid number`,
		"RATE_LIMIT_PROVIDER_CALLS_PER_MINUTE: must be between 1 and 1000000, got 2000000",
		"RATE_LIMIT_PROXY_HOPS: must be between 0 and 10, got -1",
		"GRAPHQL_TRUSTED_DOCUMENTS_ONLY:",
	} {
		found := 0
		for _, p := range cerr.Problems {
			if strings.HasPrefix(p, want) {
				found++
			}
		}
		if found != 1 {
			t.Errorf("problems %q: %q reported %d times, want once", cerr.Problems, want, found)
		}
	}
}
