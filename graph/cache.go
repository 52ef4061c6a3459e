package graph

import (
	"context"
	"math"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/vektah/gqlparser/v2/ast"
)

// docBytesPerQueryByte and docBytesBase estimate the memory a parsed and
// validated document keeps: TestQueryCacheEstimateBoundsHeap measures that
// the estimate is above the real heap for documents of every shape the
// limits admit.
const (
	docBytesPerQueryByte = 96
	docBytesBase         = 2048
)

// docBytes estimates the bytes a cached document holds (its text and AST).
func docBytes(query string) int64 {
	return int64(len(query))*(docBytesPerQueryByte+1) + docBytesBase
}

// queryCache is an LRU of parsed documents bounded by their estimated
// bytes, not their count: a count bound lets large documents keep hundreds
// of megabytes alive. gqlgen adds a document only after it passed the edge
// limits and validation, so a refused document is never here.
type queryCache struct {
	mu    sync.Mutex
	lru   *simplelru.LRU[string, *ast.QueryDocument]
	bytes int64
	max   int64
}

var _ graphql.Cache[*ast.QueryDocument] = (*queryCache)(nil)

func newQueryCache(maxBytes int64) *queryCache {
	c := &queryCache{max: maxBytes}
	// The entry count is bounded by bytes alone; onEvict keeps the sum.
	l, err := simplelru.NewLRU[string, *ast.QueryDocument](math.MaxInt32, func(k string, _ *ast.QueryDocument) {
		c.bytes -= docBytes(k)
	})
	if err != nil {
		panic(err) // only for a size below 1
	}
	c.lru = l
	return c
}

func (c *queryCache) Get(_ context.Context, query string) (*ast.QueryDocument, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(query)
}

func (c *queryCache) Add(_ context.Context, query string, doc *ast.QueryDocument) {
	size := docBytes(query)
	if size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru.Contains(query) {
		return
	}
	c.lru.Add(query, doc)
	c.bytes += size
	for c.bytes > c.max {
		c.lru.RemoveOldest()
	}
}

// Stats returns the entries and estimated bytes held.
func (c *queryCache) Stats() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}
