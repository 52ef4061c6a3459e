package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// validateLuma checks the events platform: an API root only with a key,
// a call timeout the approval job's 15 s pages can hold, and a positive
// rate limit (the default is Luma's 200 calls a minute; replicas sharing a
// key, or tests with a scaled-down window, set their own).
func (c Config) validateLuma() []string {
	var p []string
	if c.LumaTimeout <= 0 || c.LumaTimeout > 15*time.Second {
		p = append(p, fmt.Sprintf("LUMA_TIMEOUT: must be between 0 and 15s, got %s", c.LumaTimeout))
	}
	if c.LumaRateLimit < 1 || c.LumaRateWindow <= 0 {
		p = append(p, "LUMA_RATE_LIMIT and LUMA_RATE_WINDOW: must be positive")
	}
	p = append(p, c.validateLumaWebhook()...)
	if c.LumaAPIURL == "" {
		return p
	}
	if c.LumaAPIKey == "" {
		p = append(p, "LUMA_API_KEY: required when LUMA_API_URL is set")
	}
	if u, err := url.Parse(c.LumaAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		p = append(p, "LUMA_API_URL: must be an http(s) URL (the API root, such as https://public-api.luma.com)")
	}
	return p
}

// validateLumaWebhook checks the webhook's signing secret: Luma's form,
// "whsec_" then the base64 of a key of at least 16 bytes, and an API key to
// act on what it delivers. The problems never quote the secret.
func (c Config) validateLumaWebhook() []string {
	if c.LumaWebhookSecret == "" {
		return nil
	}
	var p []string
	if c.LumaAPIKey == "" {
		p = append(p, "LUMA_API_KEY: required when LUMA_WEBHOOK_SECRET is set (the webhook's guests are approved through the API)")
	}
	encoded, ok := strings.CutPrefix(c.LumaWebhookSecret, "whsec_")
	key, err := base64.StdEncoding.DecodeString(encoded)
	if !ok || err != nil || len(key) < 16 {
		p = append(p, "LUMA_WEBHOOK_SECRET: must be the endpoint's signing secret, whsec_ then base64 of at least 16 bytes")
	}
	return p
}
