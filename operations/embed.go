// Package operations embeds the project's own GraphQL operations: the
// documents the frontend and agents send. Each .graphql file holds one
// operation and the fragments it uses; its leading # lines describe it. At
// start the server hashes each file into the manifest of trusted documents
// (documentId "sha256:<hex of the file's bytes>") and validates it against
// the schema; `wdai operations list` prints the manifest.
package operations

import "embed"

// FS holds every operation file.
//
//go:embed *.graphql
var FS embed.FS
