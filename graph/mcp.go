package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/womendefiningai/platform/application"
)

// MCPOptions configure MCPHandler.
type MCPOptions struct {
	// Version is the server version MCP clients are told.
	Version string
	Logger  *slog.Logger
}

// MCPHandler serves the Model Context Protocol over Streamable HTTP (the
// official Go SDK, stateless: every request stands alone, so the key is
// checked on each). It must run after the agent key is authenticated.
//
// Each trusted document the key may run is one tool, named after the
// operation, described by the file's leading comment, with an input schema
// derived from the operation's variables. A query is a read-only tool; a
// mutation is a tool only when the key was granted mutations. A key
// without a document's scopes never sees its tool, and a call to it is an
// unknown tool. A call runs through graphql, the same chain as /graphql
// (the agent gate, the key's rate limit, the audit of every call, trusted
// documents, then the resolvers), so an MCP call and a GraphQL call of one
// key are held to the same rules and limits.
func MCPHandler(m *TrustedDocuments, schema *ast.Schema, graphql http.Handler, opts MCPOptions) http.Handler {
	if opts.Version == "" {
		opts.Version = "dev"
	}
	tools := make(map[string]any, len(m.List()))
	for _, d := range m.List() {
		tools[d.Name] = variablesSchema(schema, d.Operation)
	}
	return mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server {
		cred, ok := application.AgentCredentialFrom(r.Context())
		if !ok {
			return nil // answered 400 by the SDK; the route lets agents only through
		}
		srv := mcp.NewServer(&mcp.Implementation{Name: "wdai", Title: "Women Defining AI platform", Version: opts.Version},
			&mcp.ServerOptions{Instructions: "Each tool is one of the platform's trusted GraphQL operations; its answer is the GraphQL response.",
				Logger: opts.Logger})
		for _, d := range m.List() {
			if AgentMayRun(cred, d) != nil {
				continue
			}
			srv.AddTool(toolFor(d, tools[d.Name]), callTool(d, cred, graphql))
		}
		return srv
	}, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: opts.Logger,
		// The SDK refuses a non-loopback Host on a loopback listener (DNS
		// rebinding against unauthenticated local servers). Every request
		// here carries an agent key a rebinding page cannot know, and a
		// reverse proxy on the same host sends the public Host.
		DisableLocalhostProtection: true})
}

func toolFor(d *TrustedDocument, input any) *mcp.Tool {
	t := &mcp.Tool{Name: d.Name, Description: d.Description, InputSchema: input,
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: d.Kind == ast.Query, IdempotentHint: d.Kind == ast.Query}}
	if d.Kind == ast.Mutation {
		destructive := true
		t.Annotations.DestructiveHint = &destructive
	}
	return t
}

// callTool runs the document with the tool's arguments as its variables,
// as the agent, through the GraphQL chain; the answer is the GraphQL
// response, as text and as structured content.
func callTool(d *TrustedDocument, cred application.AgentCredential, graphql http.Handler) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		body := map[string]any{"documentId": d.ID}
		if args := req.Params.Arguments; len(args) > 0 && string(args) != "null" {
			body["variables"] = args
		}
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		ctx = WithTransport(application.WithAgentCredential(ctx, cred), TransportMCP)
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/graphql", bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/json")
		w := &memoryWriter{header: http.Header{}, status: http.StatusOK}
		graphql.ServeHTTP(w, r)
		var structured map[string]any
		_ = json.Unmarshal(w.body.Bytes(), &structured) // a GraphQL response is an object
		res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: w.body.String()}}, StructuredContent: structured}
		res.IsError = w.status != http.StatusOK || structured == nil || structured["errors"] != nil
		return res, nil
	}
}

// memoryWriter collects a response in memory.
type memoryWriter struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (w *memoryWriter) Header() http.Header { return w.header }

func (w *memoryWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote, w.status = true, code
	}
}

func (w *memoryWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.body.Write(b)
}

// variablesSchema is the JSON Schema of an operation's variables: an
// object with one property per variable, required when non-null without a
// default.
func variablesSchema(schema *ast.Schema, op *ast.OperationDefinition) map[string]any {
	props := map[string]any{}
	required := []string{}
	for _, v := range op.VariableDefinitions {
		p := typeSchema(schema, v.Type, 0)
		if v.DefaultValue != nil {
			if def, err := v.DefaultValue.Value(nil); err == nil {
				p["default"] = def
			}
		}
		props[v.Variable] = p
		if v.Type.NonNull && v.DefaultValue == nil {
			required = append(required, v.Variable)
		}
	}
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// maxSchemaDepth stops a recursive input type from recursing forever.
const maxSchemaDepth = 8

func typeSchema(schema *ast.Schema, t *ast.Type, depth int) map[string]any {
	if t.Elem != nil {
		return nullable(map[string]any{"type": "array", "items": typeSchema(schema, t.Elem, depth+1)}, t.NonNull)
	}
	var out map[string]any
	def := schema.Types[t.NamedType]
	switch {
	case t.NamedType == "Int":
		out = map[string]any{"type": "integer", "minimum": -2147483648, "maximum": 2147483647}
	case t.NamedType == "Float":
		out = map[string]any{"type": "number"}
	case t.NamedType == "Boolean":
		out = map[string]any{"type": "boolean"}
	case t.NamedType == "String" || t.NamedType == "ID":
		out = map[string]any{"type": "string"}
	case def != nil && def.Kind == ast.Enum:
		values := make([]any, 0, len(def.EnumValues))
		for _, v := range def.EnumValues {
			values = append(values, v.Name)
		}
		out = map[string]any{"type": "string", "enum": values}
	case def != nil && def.Kind == ast.InputObject && depth < maxSchemaDepth:
		props := map[string]any{}
		var required []string
		for _, f := range def.Fields {
			p := typeSchema(schema, f.Type, depth+1)
			if f.Description != "" {
				p["description"] = f.Description
			}
			props[f.Name] = p
			if f.Type.NonNull && f.DefaultValue == nil {
				required = append(required, f.Name)
			}
		}
		out = map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			out["required"] = required
		}
	default: // custom scalars (Time): their JSON form is a string
		out = map[string]any{"type": "string"}
	}
	if def != nil && def.Description != "" && out["description"] == nil {
		out["description"] = strings.TrimSpace(def.Description)
	}
	return nullable(out, t.NonNull)
}

// nullable lets a nullable variable be null as well.
func nullable(s map[string]any, nonNull bool) map[string]any {
	if nonNull {
		return s
	}
	if typ, ok := s["type"].(string); ok {
		s["type"] = []any{typ, "null"}
	}
	return s
}
