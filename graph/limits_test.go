package graph_test

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/graph"
)

// unbounded lifts every AST limit, so the check walks the whole document.
var unbounded = graph.Limits{MaxTokens: 10_000_000, MaxCost: 1 << 30, MaxAliases: 1 << 30, MaxRepeatedKey: 1 << 30, MaxRootMutationFields: 1 << 30}

// A chain of fragments each spreading the next twice has 2^levels fields
// once expanded. Measuring each fragment once makes the check linear in
// the document: 10 times the levels costs about 10 times the time, where
// expanding every spread would never finish (10,000 levels: 2^10000 fields).
//
//nolint:paralleltest // measures process CPU time
func TestCheckDocumentIsLinearInFragments(t *testing.T) {
	// The least of three runs, each after a collection: the other work of
	// the process (a collection, the race detector) only ever adds.
	measure := func(levels int) time.Duration {
		doc := fragmentChain(levels)
		least := time.Duration(math.MaxInt64)
		for range 3 {
			runtime.GC()
			start := cpuTime(t)
			err := graph.CheckDocument(t.Context(), doc, unbounded, false)
			least = min(least, cpuTime(t)-start)
			if err == nil || err.Extensions["code"] != graph.CodeComplexityLimit {
				t.Fatalf("%d levels: err = %v, want %s", levels, err, graph.CodeComplexityLimit)
			}
		}
		return least
	}
	measure(1000) // warm up
	small, large := measure(1000), measure(10_000)
	t.Logf("CPU: 1,000 levels %s, 10,000 levels (2^10000 fields expanded) %s", small, large)
	// Linear is 10 times the CPU; quadratic would be 100 times, expanding
	// the spreads would never end. Measured: 20 to 35 times (the larger
	// document no longer fits the caches), so the bound is 60 times, and
	// under 2s for the whole check.
	if large > 60*small || large > 2*time.Second {
		t.Fatalf("10,000 levels took %s of CPU, %.0f times 1,000 levels: want about 10 to 35 times, and under 2s", large, float64(large)/float64(small))
	}
}

func TestCheckDocumentStopsWhenTheClientLeaves(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := graph.CheckDocument(ctx, fragmentChain(3000), unbounded, false)
	if err == nil || !strings.Contains(err.Message, "canceled") {
		t.Fatalf("err = %v, want the check to stop on a canceled context", err)
	}
}

func TestCheckDocumentLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		want      string // "" accepts
	}{
		{"a plain read", `{ me { id email firstName membership { status } } }`, ""},
		{"five repeats of a key, fragments merged", `{ me { id ...A ...A } } fragment A on Person { id id }`, ""},
		{"six repeats of a key, fragments merged", `{ me { id id ...A ...A } } fragment A on Person { id id }`, graph.CodeRepeatedKeyLimit},
		{"six repeats through inline fragments", `{ me { id ... on Person { id id } ... { id id id } } }`, graph.CodeRepeatedKeyLimit},
		{"30 aliases", "{ " + repeatN("a%d: __typename ", 30) + "}", ""},
		{"31 aliases", "{ " + repeatN("a%d: __typename ", 31) + "}", graph.CodeAliasLimit},
		{"aliases counted through spreads", "{ ...F ...G } fragment F on Query { " + repeatN("f%d: __typename ", 16) + "} fragment G on Query { " + repeatN("g%d: __typename ", 15) + "}", graph.CodeAliasLimit},
		{"three root mutation fields", `mutation { a: openBillingPortal b: openBillingPortal c: openBillingPortal }`, ""},
		{"four root mutation fields through a fragment", `mutation { a: openBillingPortal ...M } fragment M on Mutation { b: openBillingPortal c: openBillingPortal d: openBillingPortal }`, graph.CodeMutationLimit},
		{"an unused costly fragment", "{ __typename } fragment X on Query { " + repeatN("a%d: membershipTiers { id name } ", 200) + "}", graph.CodeAliasLimit},
		{"a self-spreading fragment", `{ ...A } fragment A on Query { __typename ...A }`, "GRAPHQL_VALIDATION_FAILED"},
		{"__typename is not introspection", `{ __typename membershipTiers { __typename } }`, ""},
		{"a syntax error is left to the parser's report", `{ me { id `, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := graph.CheckDocument(t.Context(), tc.doc, graph.Limits{}, false)
			got := ""
			if err != nil {
				got, _ = err.Extensions["code"].(string)
			}
			if got != tc.want {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

func TestCheckDocumentTokenLimit(t *testing.T) {
	t.Parallel()
	doc := "{ membershipTiers { " + strings.Repeat("id ", 50) + "} }"
	if err := graph.CheckDocument(t.Context(), doc, graph.Limits{MaxTokens: 40}, false); err == nil || err.Extensions["code"] != graph.CodeTokenLimit {
		t.Fatalf("err = %v, want %s", err, graph.CodeTokenLimit)
	}
	if err := graph.CheckDocument(t.Context(), fmt.Sprintf("{ membershipTiers { %s } }", "id"), graph.Limits{MaxTokens: 40}, false); err != nil {
		t.Fatalf("a small document was refused: %v", err)
	}
}
