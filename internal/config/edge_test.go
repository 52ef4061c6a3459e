package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/internal/config"
)

func TestGraphQLEdgeDefaultsAndBounds(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GraphQLMaxBodyBytes != 64<<10 || cfg.GraphQLMaxTokens != 4000 || cfg.GraphQLQueryCacheBytes != 16<<20 || cfg.MetricsAddr != "" {
		t.Fatalf("edge defaults = %d %d %d %q", cfg.GraphQLMaxBodyBytes, cfg.GraphQLMaxTokens, cfg.GraphQLQueryCacheBytes, cfg.MetricsAddr)
	}
	_, err = config.LoadFrom(map[string]string{
		"GRAPHQL_MAX_BODY_BYTES": "67108864", "GRAPHQL_MAX_TOKENS": "0", "GRAPHQL_QUERY_CACHE_BYTES": "10", "METRICS_ADDR": ":8080",
	})
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("err = %v, want a config error", err)
	}
	for _, v := range []string{"GRAPHQL_MAX_BODY_BYTES:", "GRAPHQL_MAX_TOKENS:", "GRAPHQL_QUERY_CACHE_BYTES:", "METRICS_ADDR:"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("no problem reported for %s in:\n%s", v, err)
		}
	}
	if cfg, err := config.LoadFrom(map[string]string{"METRICS_ADDR": "127.0.0.1:9090"}); err != nil || cfg.MetricsAddr != "127.0.0.1:9090" {
		t.Fatalf("METRICS_ADDR = %q, %v", cfg.MetricsAddr, err)
	}
}
