package config

import (
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// validateDatabaseTLS refuses a DATABASE_URL that may send credentials and
// data over an unencrypted connection to another machine: every host it
// names must either be reached with TLS (sslmode=require, verify-ca or
// verify-full; "prefer" and "allow" may fall back to plain text) or be this
// machine (a loopback address, localhost, or a Unix socket), unless
// DATABASE_ALLOW_INSECURE=true. The embedded development database and the
// tests' servers listen on loopback, so they need nothing.
func (c Config) validateDatabaseTLS() []string {
	if strings.TrimSpace(c.DatabaseURL) == "" || c.Ops.DatabaseAllowInsecure {
		return nil
	}
	pc, err := pgconn.ParseConfig(c.DatabaseURL)
	if err != nil {
		// The message may quote the URL and its password: name the problem only.
		return []string{"DATABASE_URL: not a PostgreSQL URL or connection string" + urlProblem(err) +
			"; expected postgres://USER:PASSWORD@HOST:5432/DBNAME?sslmode=verify-full, or host=HOST dbname=DBNAME user=USER"}
	}
	type target struct {
		host      string
		encrypted bool
	}
	targets := []target{{pc.Host, pc.TLSConfig != nil}}
	for _, f := range pc.Fallbacks {
		targets = append(targets, target{f.Host, f.TLSConfig != nil})
	}
	for _, t := range targets {
		if !t.encrypted && !localHost(t.host) {
			return []string{fmt.Sprintf("DATABASE_URL: the connection to %s may be unencrypted; set sslmode=verify-full (with sslrootcert) "+
				"or sslmode=require, or DATABASE_ALLOW_INSECURE=true to allow it", t.host)}
		}
	}
	return nil
}

// localHost reports whether host is this machine: a Unix socket directory,
// localhost, or a loopback address.
func localHost(host string) bool {
	if strings.HasPrefix(host, "/") || strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
