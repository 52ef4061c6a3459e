// Package graph is the GraphQL surface: the schema, gqlgen's generated code
// and thin resolvers that map input, call application/, and map the result.
package graph

import "github.com/womendefiningai/platform/application"

// Resolver is the root resolver; it holds the use cases and nothing else.
type Resolver struct {
	App *application.App
}
