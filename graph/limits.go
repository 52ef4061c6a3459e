package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Limits bound the work one request can cause before any resolver runs.
// Every limit applies to every caller, signed in or not. Zero fields take
// the matching DefaultLimits value.
type Limits struct {
	// MaxBodyBytes caps a POST body and a GET query string (413 / 414).
	MaxBodyBytes int64
	// MaxTokens caps the lexical tokens of a document; the parser stops at
	// the first token past it.
	MaxTokens int
	// MaxCost caps the fields of an operation once every fragment spread is
	// expanded (each fragment's cost is computed once and reused).
	MaxCost int
	// MaxAliases caps aliased fields, counted the same expanded way.
	MaxAliases int
	// MaxRepeatedKey caps the fields that answer one response key in one
	// selection set, fragments merged in (the overlapping-fields rule is
	// quadratic in them).
	MaxRepeatedKey int
	// MaxRootMutationFields caps the root fields of a mutation.
	MaxRootMutationFields int
	// QueryCacheBytes bounds the cache of accepted, parsed documents.
	QueryCacheBytes int64
}

// DefaultLimits are the limits used for any zero field of Limits.
var DefaultLimits = Limits{
	MaxBodyBytes:          64 << 10,
	MaxTokens:             4000,
	MaxCost:               DefaultComplexityLimit,
	MaxAliases:            30,
	MaxRepeatedKey:        5,
	MaxRootMutationFields: 3,
	QueryCacheBytes:       16 << 20,
}

// withDefaults returns l with every zero field set from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	if l.MaxTokens <= 0 {
		l.MaxTokens = d.MaxTokens
	}
	if l.MaxCost <= 0 {
		l.MaxCost = d.MaxCost
	}
	if l.MaxAliases <= 0 {
		l.MaxAliases = d.MaxAliases
	}
	if l.MaxRepeatedKey <= 0 {
		l.MaxRepeatedKey = d.MaxRepeatedKey
	}
	if l.MaxRootMutationFields <= 0 {
		l.MaxRootMutationFields = d.MaxRootMutationFields
	}
	if l.QueryCacheBytes <= 0 {
		l.QueryCacheBytes = d.QueryCacheBytes
	}
	return l
}

// Error codes of requests refused by the edge. All but the body codes are
// GraphQL request errors: HTTP 422 for application/json, 400 for
// application/graphql-response+json, and no "data".
const (
	CodeRequestTooLarge       = "REQUEST_TOO_LARGE"
	CodeBadRequest            = "BAD_REQUEST"
	CodeTokenLimit            = "TOKEN_LIMIT_EXCEEDED" //nolint:gosec // an error code, not a credential
	CodeComplexityLimit       = "COMPLEXITY_LIMIT_EXCEEDED"
	CodeAliasLimit            = "ALIAS_LIMIT_EXCEEDED"
	CodeRepeatedKeyLimit      = "REPEATED_FIELD_LIMIT_EXCEEDED"
	CodeMutationLimit         = "MUTATION_LIMIT_EXCEEDED"
	CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"
)

func init() {
	for _, c := range []string{CodeTokenLimit, CodeComplexityLimit, CodeAliasLimit, CodeRepeatedKeyLimit,
		CodeMutationLimit, CodeIntrospectionDisabled, CodeBadRequest} {
		errcode.RegisterErrorType(c, errcode.KindProtocol)
	}
}

// edgeLimits parses a document that is not in the query cache with the
// token limit and checks it in one linear pass before gqlgen validates it:
// gqlparser's overlapping-fields rule is quadratic in repeated response
// keys, and gqlgen's own complexity check expands each fragment spread
// again. A refused document never reaches the parser a second time, the
// validator or the cache. Documents in the cache passed these checks.
type edgeLimits struct {
	limits        Limits
	introspection bool
	cache         graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = edgeLimits{}

func (edgeLimits) ExtensionName() string                   { return "EdgeLimits" }
func (edgeLimits) Validate(graphql.ExecutableSchema) error { return nil }
func (e edgeLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if doc, ok := e.cache.Get(ctx, p.Query); ok {
		if !hasVariables(doc) {
			return nil // its cost cannot change
		}
		// A page size may come from a variable: weigh the cached document
		// again with this request's values (one pass, no parse).
		_, err := checkParsed(ctx, doc, p.Variables, e.limits, e.introspection)
		return err
	}
	return CheckDocumentWithVariables(ctx, p.Query, p.Variables, e.limits, e.introspection)
}

func hasVariables(doc *ast.QueryDocument) bool {
	for _, op := range doc.Operations {
		if len(op.VariableDefinitions) > 0 {
			return true
		}
	}
	return false
}

// CheckDocument parses query with the token limit and checks it against
// limits in time linear in its length: each fragment definition is
// measured once, and the pass stops at the first limit passed or when ctx
// ends. A document that does not parse is left for gqlgen to report. It
// returns nil for a document within every limit. Page sizes given by
// variables count at their defaults; CheckDocumentWithVariables uses a
// request's values.
func CheckDocument(ctx context.Context, query string, limits Limits, introspection bool) *gqlerror.Error {
	return CheckDocumentWithVariables(ctx, query, nil, limits, introspection)
}

// CheckDocumentWithVariables is CheckDocument with the request's variables,
// which may set the page sizes that weigh list fields.
func CheckDocumentWithVariables(ctx context.Context, query string, vars map[string]any, limits Limits, introspection bool) *gqlerror.Error {
	limits = limits.withDefaults()
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, limits.MaxTokens)
	if err != nil {
		gqlErr, ok := err.(*gqlerror.Error) //nolint:errorlint // the parser returns *gqlerror.Error unwrapped
		if ok && gqlErr.Message == fmt.Sprintf("exceeded token limit of %d", limits.MaxTokens) {
			return limitError(CodeTokenLimit, "the document has more than %d tokens", limits.MaxTokens)
		}
		return nil // a syntax error: gqlgen reports it with its position
	}
	_, gErr := checkParsed(ctx, doc, vars, limits, introspection)
	return gErr
}

// DocumentCost is the cost the edge gives the costliest operation of query
// with vars (fields once fragments are expanded, each list field's
// selection weighted by its page size), with every other limit lifted.
func DocumentCost(ctx context.Context, query string, vars map[string]any) (int64, *gqlerror.Error) {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return 0, &gqlerror.Error{Message: err.Error()}
	}
	return checkParsed(ctx, doc, vars, Limits{MaxTokens: 1, MaxCost: saturation, MaxAliases: saturation,
		MaxRepeatedKey: saturation, MaxRootMutationFields: saturation}, true)
}

// checkParsed checks a parsed document and returns the cost of its
// costliest operation.
func checkParsed(ctx context.Context, doc *ast.QueryDocument, vars map[string]any, limits Limits, introspection bool) (int64, *gqlerror.Error) {
	limits = limits.withDefaults()
	c := &docChecker{ctx: ctx, limits: limits, introspection: introspection, schema: costSchema(), vars: vars,
		varDefaults: map[string]*ast.Value{},
		frags:       make(map[string]*ast.FragmentDefinition, len(doc.Fragments)), memo: make(map[string]*setInfo, len(doc.Fragments))}
	for _, f := range doc.Fragments {
		if _, dup := c.frags[f.Name]; !dup {
			c.frags[f.Name] = f
		}
	}
	for _, op := range doc.Operations {
		for _, v := range op.VariableDefinitions {
			if _, seen := c.varDefaults[v.Variable]; !seen && v.DefaultValue != nil {
				c.varDefaults[v.Variable] = v.DefaultValue
			}
		}
	}
	var most int64
	for _, op := range doc.Operations {
		info, gErr := c.set(c.root(op.Operation), op.SelectionSet)
		if gErr != nil {
			return 0, gErr
		}
		most = max(most, info.cost)
		if op.Operation == ast.Mutation {
			if n := info.fields(); n > int64(limits.MaxRootMutationFields) {
				return 0, limitError(CodeMutationLimit, "a mutation may have at most %d root fields", limits.MaxRootMutationFields)
			}
		}
	}
	// Fragments no operation uses are validated too, so they are bounded too.
	for _, f := range doc.Fragments {
		if _, gErr := c.fragment(f.Name); gErr != nil {
			return 0, gErr
		}
	}
	return most, nil
}

func limitError(code, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": code}}
}

// setInfo is what the checker knows about a selection set once fragments
// are expanded: its fields, its aliased fields, and how many fields answer
// each response key at its top level (inline fragments and spreads merged).
type setInfo struct {
	cost, aliases int64
	keys          map[string]int64
	done          bool // false while a fragment is being measured: a spread of it is a cycle
}

// fields is the number of top-level fields, repeats included.
func (s *setInfo) fields() int64 {
	var n int64
	for _, c := range s.keys {
		n += c
	}
	return n
}

type docChecker struct {
	ctx           context.Context //nolint:containedctx // lives for one call of CheckDocument
	limits        Limits
	introspection bool
	schema        *ast.Schema
	vars          map[string]any
	varDefaults   map[string]*ast.Value
	frags         map[string]*ast.FragmentDefinition
	memo          map[string]*setInfo
	steps         int
}

// fragment measures the named fragment once; later spreads reuse it.
func (c *docChecker) fragment(name string) (*setInfo, *gqlerror.Error) {
	if info, ok := c.memo[name]; ok {
		if !info.done {
			return nil, &gqlerror.Error{Message: fmt.Sprintf("Cannot spread fragment %q within itself.", name),
				Extensions: map[string]any{"code": errcode.ValidationFailed}}
		}
		return info, nil
	}
	def, ok := c.frags[name]
	if !ok {
		return &setInfo{done: true}, nil // unknown: the validator reports it
	}
	c.memo[name] = &setInfo{}
	info, err := c.set(c.schema.Types[def.TypeCondition], def.SelectionSet)
	if err != nil {
		return nil, err
	}
	c.memo[name] = info
	return info, nil
}

// set measures one selection set, its children and the fragments it
// spreads, and refuses it at the first limit it passes.
// The type a selection set selects from (nil when the schema does not
// know it: the validator reports that) lets list fields find their page
// size argument's default.
func (c *docChecker) set(parent *ast.Definition, ss ast.SelectionSet) (*setInfo, *gqlerror.Error) {
	out := &setInfo{keys: make(map[string]int64, len(ss)), done: true}
	for _, sel := range ss {
		if err := c.step(); err != nil {
			return nil, err
		}
		var err *gqlerror.Error
		switch s := sel.(type) {
		case *ast.Field:
			err = c.field(parent, out, s)
		case *ast.InlineFragment:
			var child *setInfo
			typ := parent
			if s.TypeCondition != "" {
				typ = c.schema.Types[s.TypeCondition]
			}
			if child, err = c.set(typ, s.SelectionSet); err == nil {
				err = c.merge(out, child)
			}
		case *ast.FragmentSpread:
			var child *setInfo
			if child, err = c.fragment(s.Name); err == nil {
				err = c.merge(out, child)
			}
		}
		if err != nil {
			return nil, err
		}
		if err := c.checkTotals(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// field adds one field and its subtree to the set it sits in. A list field
// with a page size (first or limit) costs its selection that many times.
func (c *docChecker) field(parent *ast.Definition, out *setInfo, f *ast.Field) *gqlerror.Error {
	if !c.introspection && (f.Name == "__schema" || f.Name == "__type") {
		return limitError(CodeIntrospectionDisabled, "introspection is disabled")
	}
	var def *ast.FieldDefinition
	var typ *ast.Definition
	if parent != nil {
		if def = parent.Fields.ForName(f.Name); def != nil {
			typ = c.schema.Types[def.Type.Name()]
		}
	}
	child, err := c.set(typ, f.SelectionSet)
	if err != nil {
		return err
	}
	out.cost = sat(out.cost, 1+satMul(c.pageSize(def, f), child.cost))
	out.aliases = sat(out.aliases, child.aliases)
	if f.Alias != "" && f.Alias != f.Name {
		out.aliases = sat(out.aliases, 1)
	}
	key := f.Alias
	if key == "" {
		key = f.Name
	}
	out.keys[key] = sat(out.keys[key], 1)
	return c.checkKey(out.keys[key], key)
}

// merge adds a fragment's (inline or named) fields to the set it sits in.
func (c *docChecker) merge(out, frag *setInfo) *gqlerror.Error {
	out.cost = sat(out.cost, frag.cost)
	out.aliases = sat(out.aliases, frag.aliases)
	for k, n := range frag.keys {
		if err := c.step(); err != nil {
			return err
		}
		out.keys[k] = sat(out.keys[k], n)
		if err := c.checkKey(out.keys[k], k); err != nil {
			return err
		}
	}
	return nil
}

func (c *docChecker) checkKey(n int64, key string) *gqlerror.Error {
	if n > int64(c.limits.MaxRepeatedKey) {
		return limitError(CodeRepeatedKeyLimit, "more than %d fields answer %q in one selection set", c.limits.MaxRepeatedKey, truncate(key, 32))
	}
	return nil
}

// root is the type an operation selects from.
func (c *docChecker) root(op ast.Operation) *ast.Definition {
	switch op {
	case ast.Mutation:
		return c.schema.Mutation
	case ast.Subscription:
		return c.schema.Subscription
	default:
		return c.schema.Query
	}
}

func (c *docChecker) checkTotals(s *setInfo) *gqlerror.Error {
	if s.cost > int64(c.limits.MaxCost) {
		return limitError(CodeComplexityLimit, "the operation costs more than %d: its fields once fragments are expanded, each list field's counted once per item of its page (first or limit)", c.limits.MaxCost)
	}
	if s.aliases > int64(c.limits.MaxAliases) {
		return limitError(CodeAliasLimit, "the document has more than %d aliased fields", c.limits.MaxAliases)
	}
	return nil
}

// step counts work and looks at the context every 1024 steps, so a
// client that left stops the check.
func (c *docChecker) step() *gqlerror.Error {
	c.steps++
	if c.steps&1023 == 0 && c.ctx.Err() != nil {
		return &gqlerror.Error{Message: "request canceled", Extensions: map[string]any{"code": CodeBadRequest}}
	}
	return nil
}

// DefaultPageSize weighs a paged field whose page size is given nowhere:
// not in the document, the variables, nor as the argument's default.
const DefaultPageSize = 50

// pageArguments name a list field's page size.
var pageArguments = [...]string{"first", "limit"}

// pageSize is the number of items a field's selection is counted for: 1
// for a field without a page argument; else the argument's literal, its
// variable's value or default, the schema's default, or DefaultPageSize.
func (c *docChecker) pageSize(def *ast.FieldDefinition, f *ast.Field) int64 {
	for _, name := range pageArguments {
		var argDef *ast.ArgumentDefinition
		if def != nil {
			argDef = def.Arguments.ForName(name)
		}
		arg := f.Arguments.ForName(name)
		if arg == nil && argDef == nil {
			continue
		}
		if arg != nil {
			if n, ok := c.intValue(arg.Value); ok {
				return n
			}
		}
		if argDef != nil && argDef.DefaultValue != nil {
			if n, ok := c.intValue(argDef.DefaultValue); ok {
				return n
			}
		}
		return DefaultPageSize
	}
	return 1
}

// intValue reads an Int literal or variable (the request's value, else the
// variable's default), at least 1 and saturated.
func (c *docChecker) intValue(v *ast.Value) (int64, bool) {
	if v == nil {
		return 0, false
	}
	switch v.Kind { //nolint:exhaustive // other kinds name no page size
	case ast.IntValue:
		n, err := strconv.ParseInt(v.Raw, 10, 64)
		if err != nil {
			return saturation, true // too large for int64
		}
		return clampPage(n), true
	case ast.Variable:
		if raw, ok := c.vars[v.Raw]; ok {
			return varInt(raw)
		}
		return c.intValue(c.varDefaults[v.Raw])
	}
	return 0, false
}

// varInt reads a variable's JSON value as a page size.
func varInt(raw any) (int64, bool) {
	switch n := raw.(type) {
	case int:
		return clampPage(int64(n)), true
	case int64:
		return clampPage(n), true
	case float64:
		return clampPage(int64(min(n, saturation))), true
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return clampPage(i), true
		}
		if f, err := n.Float64(); err == nil {
			return clampPage(int64(min(f, saturation))), true
		}
	}
	return 0, false
}

func clampPage(n int64) int64 { return min(max(n, 1), saturation) }

// costSchema is the schema the edge serves, parsed once.
var costSchema = sync.OnceValue(Schema)

// saturation keeps counts far above every limit without overflowing.
const saturation = 1 << 40

func satMul(a, b int64) int64 {
	if a != 0 && b > saturation/a {
		return saturation
	}
	return a * b
}

func sat(a, b int64) int64 {
	if a+b > saturation {
		return saturation
	}
	return a + b
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
