package config_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/womendefiningai/platform/internal/config"
)

const (
	testLumaWebhookSecret = "whsec_bHVtYS13ZWJob29rLXRlc3Qta2V5" // 21 bytes
	lumaSecretProblem     = "LUMA_WEBHOOK_SECRET: must be the endpoint's signing secret, whsec_ then base64 of at least 16 bytes"
)

func TestLumaSettings(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom(map[string]string{"LUMA_API_KEY": "secret-1", "LUMA_API_URL": "http://127.0.0.1:9"})
	if err != nil || cfg.LumaAPIKey != "secret-1" || cfg.LumaAPIURL != "http://127.0.0.1:9" ||
		cfg.LumaRateLimit != 200 || cfg.LumaRateWindow != time.Minute || cfg.LumaTimeout != 10*time.Second {
		t.Fatalf("LoadFrom = %+v, %v", cfg, err)
	}
	if cfg, err := config.LoadFrom(map[string]string{"LUMA_API_KEY": "k", "LUMA_WEBHOOK_SECRET": testLumaWebhookSecret}); err != nil || cfg.LumaWebhookSecret != testLumaWebhookSecret {
		t.Errorf("a webhook secret: %+v, %v", cfg.LumaWebhookSecret, err)
	}
	if _, err := config.LoadFrom(map[string]string{"LUMA_RATE_LIMIT": "20", "LUMA_RATE_WINDOW": "6s"}); err != nil {
		t.Errorf("200 a minute, scaled down: %v", err)
	}
	tests := map[string]struct {
		vars map[string]string
		want []string
	}{
		"URL, no key":    {map[string]string{"LUMA_API_URL": "https://public-api.luma.com"}, []string{"LUMA_API_KEY: required when LUMA_API_URL is set"}},
		"URL, no scheme": {map[string]string{"LUMA_API_KEY": "k", "LUMA_API_URL": "public-api.luma.com"}, []string{"LUMA_API_URL: must be an http(s) URL (the API root, such as https://public-api.luma.com)"}},
		"zero window":    {map[string]string{"LUMA_RATE_WINDOW": "0s"}, []string{"LUMA_RATE_LIMIT and LUMA_RATE_WINDOW: must be positive"}},
		"zero limit":     {map[string]string{"LUMA_RATE_LIMIT": "0"}, []string{"LUMA_RATE_LIMIT and LUMA_RATE_WINDOW: must be positive"}},
		"long timeout":   {map[string]string{"LUMA_TIMEOUT": "1m"}, []string{"LUMA_TIMEOUT: must be between 0 and 15s, got 1m0s"}},
		"webhook secret, no key": {map[string]string{"LUMA_WEBHOOK_SECRET": testLumaWebhookSecret},
			[]string{"LUMA_API_KEY: required when LUMA_WEBHOOK_SECRET is set (the webhook's guests are approved through the API)"}},
		"webhook secret, no prefix":  {map[string]string{"LUMA_API_KEY": "k", "LUMA_WEBHOOK_SECRET": "bHVtYS13ZWJob29rLXRlc3Qta2V5"}, []string{lumaSecretProblem}},
		"webhook secret, not base64": {map[string]string{"LUMA_API_KEY": "k", "LUMA_WEBHOOK_SECRET": "whsec_not base64"}, []string{lumaSecretProblem}},
		"webhook secret, short key":  {map[string]string{"LUMA_API_KEY": "k", "LUMA_WEBHOOK_SECRET": "whsec_c2hvcnQ="}, []string{lumaSecretProblem}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := config.LoadFrom(tc.vars)
			var cerr *config.Error
			if !errors.As(err, &cerr) || !slices.Equal(cerr.Problems, tc.want) {
				t.Fatalf("LoadFrom = %v, want problems %q", err, tc.want)
			}
		})
	}
}
