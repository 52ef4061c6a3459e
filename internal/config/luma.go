package config

import (
	"fmt"
	"net/url"
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
