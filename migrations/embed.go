// Package migrations embeds the SQL migrations (goose v3 format) so that the
// binary carries its schema and tests migrate from the same files.
package migrations

import "embed"

// FS holds every *.sql migration in this folder.
//
//go:embed *.sql
var FS embed.FS
