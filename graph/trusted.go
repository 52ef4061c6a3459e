package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph/generated"
	"github.com/womendefiningai/platform/graph/model"
)

// TrustedDocument is one of the project's own operations (the persisted
// documents of GraphQL over HTTP): a .graphql file holding one operation and
// the fragments it uses, validated against the schema.
type TrustedDocument struct {
	// ID is "sha256:" and the hex SHA-256 of the file's bytes: the
	// documentId clients send. Apollo's persistedQuery.sha256Hash is the
	// same hex without the prefix.
	ID string
	// Name is the operation's name, unique in the manifest.
	Name string
	// File is the file's path in the operations folder.
	File string
	// Kind is query or mutation.
	Kind ast.Operation
	// Description is the file's leading # comment lines, joined.
	Description string
	// Text is the document as clients send it.
	Text string
	// Scopes are every scope some field of the operation requires
	// (@requires), found by walking its selection and its fragments.
	Scopes []access.Scope
	// SignedIn: some field needs a signed-in person (@authenticated).
	SignedIn bool
	// Operation is the validated operation (its variables give an input
	// schema).
	Operation *ast.OperationDefinition
}

// Access describes what the caller needs: "public", "signed-in", the
// scopes, or both.
func (d *TrustedDocument) Access() string {
	var parts []string
	if d.SignedIn {
		parts = append(parts, "signed-in")
	}
	for _, s := range d.Scopes {
		parts = append(parts, s.String())
	}
	if len(parts) == 0 {
		return "public"
	}
	return strings.Join(parts, ",")
}

// TrustedDocuments is the manifest: every trusted document by id, Apollo
// hash and name.
type TrustedDocuments struct {
	byHash map[string]*TrustedDocument // hex, no prefix
	byName map[string]*TrustedDocument
	list   []*TrustedDocument // by name
}

// DocumentIDPrefix starts every documentId of the manifest.
const DocumentIDPrefix = "sha256:"

// Schema is the API's schema, as the executable schema declares it.
func Schema() *ast.Schema {
	return generated.NewExecutableSchema(generated.Config{}).Schema()
}

// LoadTrustedDocuments reads every *.graphql file at the root of fsys,
// validates each against schema and derives its access from the schema's
// directives. Any problem is an error naming the file: the server must not
// start with an operation the schema refuses.
func LoadTrustedDocuments(fsys fs.FS, schema *ast.Schema) (*TrustedDocuments, error) {
	files, err := fs.Glob(fsys, "*.graphql")
	if err != nil {
		return nil, fmt.Errorf("trusted documents: %w", err)
	}
	if len(files) == 0 {
		return nil, errors.New("trusted documents: no .graphql files")
	}
	m := &TrustedDocuments{byHash: map[string]*TrustedDocument{}, byName: map[string]*TrustedDocument{}}
	var problems []string
	for _, file := range files {
		d, err := loadDocument(fsys, file, schema)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if other, dup := m.byName[d.Name]; dup {
			problems = append(problems, fmt.Sprintf("%s: operation %s is also defined in %s", file, d.Name, other.File))
			continue
		}
		hash := strings.TrimPrefix(d.ID, DocumentIDPrefix)
		if other, dup := m.byHash[hash]; dup {
			problems = append(problems, fmt.Sprintf("%s: same text as %s", file, other.File))
			continue
		}
		m.byHash[hash], m.byName[d.Name] = d, d
		m.list = append(m.list, d)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("trusted documents: %s", strings.Join(problems, "; "))
	}
	sort.Slice(m.list, func(i, j int) bool { return m.list[i].Name < m.list[j].Name })
	return m, nil
}

func loadDocument(fsys fs.FS, file string, schema *ast.Schema) (*TrustedDocument, error) {
	raw, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	text := string(raw)
	doc, gqlErrs := gqlparser.LoadQueryWithRules(schema, text, nil) // nil: the default rules
	if len(gqlErrs) > 0 {
		msgs := make([]string, 0, len(gqlErrs))
		for _, e := range gqlErrs {
			where := ""
			if len(e.Locations) > 0 {
				where = fmt.Sprintf(":%d:%d", e.Locations[0].Line, e.Locations[0].Column)
			}
			msgs = append(msgs, fmt.Sprintf("%s%s: %s", file, where, e.Message))
		}
		return nil, errors.New(strings.Join(msgs, "; "))
	}
	if len(doc.Operations) != 1 {
		return nil, fmt.Errorf("%s: holds %d operations, want exactly one", file, len(doc.Operations))
	}
	op := doc.Operations[0]
	if op.Name == "" {
		return nil, fmt.Errorf("%s: the operation has no name", file)
	}
	if op.Operation != ast.Query && op.Operation != ast.Mutation {
		return nil, fmt.Errorf("%s: %s operations are not served", file, op.Operation)
	}
	sum := sha256.Sum256(raw)
	d := &TrustedDocument{
		ID: DocumentIDPrefix + hex.EncodeToString(sum[:]), Name: op.Name, File: path.Clean(file), Kind: op.Operation,
		Description: leadingComment(text), Text: text, Operation: op,
	}
	if err := deriveAccess(d, op); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return d, nil
}

// leadingComment joins the # lines before the first definition.
func leadingComment(text string) string {
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		c, ok := strings.CutPrefix(line, "#")
		if !ok {
			break
		}
		lines = append(lines, strings.TrimSpace(c))
	}
	return strings.Join(lines, " ")
}

// deriveAccess walks every field the operation selects, through fragment
// spreads (each fragment once) and inline fragments, and collects the access
// directives of the fields' definitions.
func deriveAccess(d *TrustedDocument, op *ast.OperationDefinition) error {
	seen := map[string]bool{}
	scopes := map[access.Scope]bool{}
	var walk func(ast.SelectionSet) error
	walk = func(set ast.SelectionSet) error {
		for _, sel := range set {
			var next ast.SelectionSet
			switch s := sel.(type) {
			case *ast.Field:
				if s.Definition != nil {
					if err := collectDirectives(d, scopes, s.Definition.Directives); err != nil {
						return err
					}
				}
				next = s.SelectionSet
			case *ast.InlineFragment:
				next = s.SelectionSet
			case *ast.FragmentSpread:
				if seen[s.Name] || s.Definition == nil {
					continue
				}
				seen[s.Name] = true
				next = s.Definition.SelectionSet
			}
			if err := walk(next); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(op.SelectionSet); err != nil {
		return err
	}
	for s := range scopes {
		d.Scopes = append(d.Scopes, s)
	}
	slices.Sort(d.Scopes)
	return nil
}

func collectDirectives(d *TrustedDocument, scopes map[access.Scope]bool, dirs ast.DirectiveList) error {
	if dirs.ForName("authenticated") != nil {
		d.SignedIn = true
	}
	req := dirs.ForName("requires")
	if req == nil {
		return nil
	}
	arg := req.Arguments.ForName("scopes")
	if arg == nil || arg.Value == nil {
		return errors.New("@requires without scopes")
	}
	for _, child := range arg.Value.Children {
		sc, err := DomainScope(model.Scope(child.Value.Raw))
		if err != nil {
			return err
		}
		scopes[sc] = true
	}
	return nil
}

// List returns every trusted document, by name.
func (m *TrustedDocuments) List() []*TrustedDocument { return slices.Clone(m.list) }

// ByID returns the document with that documentId ("sha256:<hex>").
func (m *TrustedDocuments) ByID(id string) (*TrustedDocument, bool) {
	hash, ok := strings.CutPrefix(id, DocumentIDPrefix)
	if !ok {
		return nil, false
	}
	return m.ByHash(hash)
}

// ByHash returns the document whose text has that hex SHA-256 (Apollo's
// persistedQuery.sha256Hash). Upper-case hex is accepted.
func (m *TrustedDocuments) ByHash(hash string) (*TrustedDocument, bool) {
	d, ok := m.byHash[strings.ToLower(hash)]
	return d, ok
}

// ByName returns the document of the operation with that name.
func (m *TrustedDocuments) ByName(name string) (*TrustedDocument, bool) {
	d, ok := m.byName[name]
	return d, ok
}

// ByText returns the document whose text is exactly text.
func (m *TrustedDocuments) ByText(text string) (*TrustedDocument, bool) {
	sum := sha256.Sum256([]byte(text))
	d, ok := m.byHash[hex.EncodeToString(sum[:])]
	return d, ok && d.Text == text
}
