package messaging

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Every topic the Go code uses has its table in the migrated database, with
// the columns the adapter reads and writes; and every table is a known topic.
// The topics used in Go are messaging.Topics plus every Topic* constant of
// package ports (read from its source, so a new constant cannot be missed).
func TestEveryTopicHasATable(t *testing.T) {
	t.Parallel()
	for _, topic := range portsTopicConstants(t) {
		if !slices.Contains(Topics, topic) {
			t.Errorf("ports declares topic %q, but messaging.Topics lacks it", topic)
		}
	}

	pool := newPool(t, 2)
	ctx := context.Background()
	r, err := pool.Query(ctx, `SELECT table_name, array_agg(column_name::text ORDER BY column_name)
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name LIKE 'watermill\_%'
		GROUP BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string][]string{}
	for r.Next() {
		var name string
		var cols []string
		if err := r.Scan(&name, &cols); err != nil {
			t.Fatal(err)
		}
		tables[strings.TrimPrefix(name, "watermill_")] = cols
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}

	want := []string{"acked", "created_at", "metadata", "offset", "payload", "uuid"}
	for _, topic := range Topics {
		cols, ok := tables[topic]
		if !ok {
			t.Errorf("topic %q has no table %s: add a migration with SELECT messaging_create_topic('%s')", topic, tableName(topic), topic)
			continue
		}
		w := want
		if topic == TopicDelayed {
			w = []string{"acked", "created_at", "deliver_at", "metadata", "offset", "payload", "uuid"}
		}
		if !slices.Equal(cols, w) {
			t.Errorf("table %s has columns %v, want %v", tableName(topic), cols, w)
		}
	}
	for topic := range tables {
		if !slices.Contains(Topics, topic) {
			t.Errorf("table %s belongs to no topic in messaging.Topics", tableName(topic))
		}
	}

	// And each table takes a message and gives it back through the adapter.
	for _, topic := range Topics {
		if topic == TopicDelayed {
			continue
		}
		publish(t, pool, topic, "probe")
		var payload []byte
		if err := pool.QueryRow(ctx, `SELECT payload FROM `+tableName(topic)).Scan(&payload); err != nil || string(payload) != "probe" {
			t.Errorf("%s: read back %q, %v", topic, payload, err)
		}
	}
	if _, err := pool.Exec(ctx, `SELECT 1 FROM dead_letters LIMIT 1`); err != nil {
		t.Errorf("dead_letters: %v", err)
	}
}

// portsTopicConstants returns the values of the Topic* string constants in
// ports/messaging.go.
func portsTopicConstants(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../../ports/messaging.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Topic") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("ports.%s is not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no Topic constants found in ports/messaging.go")
	}
	return out
}
