package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/graph/generated"
)

func postQuery(t *testing.T, h http.Handler, q string) int {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"query": q})
	r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/graphql", strings.NewReader(string(b)))
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Code
}

// Documents refused by a limit, by validation or by the parser are never
// cached; an accepted one is, once.
func TestRefusedDocumentsAreNeverCached(t *testing.T) {
	t.Parallel()
	h, cache := newHandler(&application.App{}, Options{})
	refused := []string{
		"{ " + strings.Repeat("t: deadLetters { id } ", 10) + "}",                              // repeated key
		"{ " + strings.Repeat("deadLetters { id messageId topic handler reason } ", 120) + "}", // cost
		"{ nosuch }",                      // validation
		"{ deadLetters { id ",             // syntax
		"{ __schema { types { name } } }", // introspection off
	}
	for _, q := range refused {
		if code := postQuery(t, h, q); code == http.StatusOK {
			t.Fatalf("%.60s answered 200", q)
		}
	}
	if n, b := cache.Stats(); n != 0 || b != 0 {
		t.Fatalf("cache holds %d documents (%d bytes) after refusals only", n, b)
	}
	postQuery(t, h, "{ __typename }")
	postQuery(t, h, "{ __typename }")
	if n, _ := cache.Stats(); n != 1 {
		t.Fatalf("cache holds %d documents after one accepted document, want 1", n)
	}
}

// The cache holds at most its byte bound, whatever the count of documents.
func TestQueryCacheIsBoundedInBytes(t *testing.T) {
	t.Parallel()
	c := newQueryCache(1 << 20)
	for i := range 500 {
		q := fmt.Sprintf(`{ member(id: "%d%s") { id } }`, i, strings.Repeat("x", 10_000))
		c.Add(t.Context(), q, &ast.QueryDocument{})
	}
	n, b := c.Stats()
	if b > 1<<20 || n == 0 || n >= 500 {
		t.Fatalf("cache holds %d documents, %d bytes; want at most 1 MiB and fewer than 500", n, b)
	}
	big := strings.Repeat("y", 2<<20)
	c.Add(t.Context(), big, &ast.QueryDocument{})
	if _, ok := c.Get(t.Context(), big); ok {
		t.Fatal("a document larger than the whole cache was kept")
	}
}

// docBytes must not under-estimate: the heap a parsed, validated document
// keeps is measured for documents of the shapes the limits admit. Not
// parallel: other tests' allocations would blur the heap measurement.
//
//nolint:paralleltest // measures the process heap
func TestQueryCacheEstimateBoundsHeap(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}, Directives: NewDirectiveRoot()}).Schema()
	shapes := map[string]string{
		"small":            `{ membershipTiers { id name } }`,
		"many fields":      "{ " + strings.Repeat("deadLetters { id messageId topic handler reason payload attempts status } ", 40) + "}",
		"nested fragments": "query { me { ...P } } fragment P on Person { id firstName lastName email role membership { ...M } } fragment M on Membership { status tier cancelAtPeriodEnd currentPeriodEnd visible alumni }",
		"long string":      `{ member(id: "` + strings.Repeat("z", 50_000) + `") { id } }`,
		"variables":        "query($v: ID!) { member(id: $v) { id email } }",
		"dense":            "{" + strings.Repeat("deadLetters{id topic reason status} me{id role email} membershipTiers{id name} ", 5) + "}",
		"short tokens":     "{ " + strings.Repeat("a: __typename ", 5) + strings.Repeat("deadLetters(first: 1) { id } ", 5) + "}",
	}
	for name, q := range shapes {
		const copies = 50
		docs := make([]*ast.QueryDocument, copies)
		before := heapNow()
		for i := range copies {
			doc, errs := gqlparser.LoadQueryWithRules(schema, q, nil)
			if len(errs) > 0 {
				t.Fatalf("%s: %v", name, errs)
			}
			docs[i] = doc
		}
		used := (int64(heapNow()) - int64(before)) / copies
		runtime.KeepAlive(docs)
		if est := docBytes(q); used > est {
			t.Errorf("%s: a document keeps %d bytes, the estimate is %d", name, used, est)
		} else {
			t.Logf("%s: %d query bytes keep %d heap bytes; estimate %d", name, len(q), used, est)
		}
	}
}

func heapNow() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
