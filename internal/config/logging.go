package config

import (
	"fmt"
	"net"
	"strings"
)

// Log formats (LOG_FORMAT).
const (
	LogText = "text"
	LogJSON = "json"
)

// applyEnvDefaults fills the settings whose default depends on WDAI_ENV:
// development listens on loopback only and logs text for a person to read;
// production listens on every interface and logs JSON for machines.
func (c *Config) applyEnvDefaults() {
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:8080"
		if c.Env == Production {
			c.HTTPAddr = ":8080"
		}
	}
	if c.LogFormat == "" {
		c.LogFormat = LogText
		if c.Env == Production {
			c.LogFormat = LogJSON
		}
	}
}

func (c Config) validateLogging() []string {
	if c.LogFormat != LogText && c.LogFormat != LogJSON {
		return []string{fmt.Sprintf("LOG_FORMAT: must be %q or %q, got %q", LogText, LogJSON, c.LogFormat)}
	}
	return nil
}

// sameListener reports whether two valid listen addresses would clash: the
// same port, and the same host or either one on every interface.
func sameListener(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	if pa != pb || pa == "0" {
		return false
	}
	any := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || any(ha) || any(hb)
}

// validValues names the values a variable accepts, for the message about
// one it could not parse ("" when the parse error says it already).
func validValues(name string) string {
	if name == "LOG_LEVEL" {
		return "must be debug, info, warn or error (or one with an offset, such as debug-4); "
	}
	return ""
}

// urlProblem is " (reason)" for a DATABASE_URL pgx could not parse, taken
// from pgx's message after the URL it quotes (with the password masked),
// or "" when the reason could still hold credentials.
func urlProblem(err error) string {
	msg := err.Error()
	i := strings.LastIndex(msg, "`: ")
	if i < 0 {
		return ""
	}
	reason := msg[i+3:]
	if reason == "" || strings.ContainsAny(reason, "@`") || strings.Contains(reason, "://") {
		return ""
	}
	return " (" + reason + ")"
}
