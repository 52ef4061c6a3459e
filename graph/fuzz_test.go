package graph_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/internal/fuzzcount"
	"github.com/womendefiningai/platform/ports"
)

// FuzzGraphQLRequest drives the whole GraphQL request path (body cap,
// JSON decoding, token limit, the edge's checks, validation, variable
// coercion, execution) with a fuzzed document and fuzzed variables, over
// POST and GET. Whatever arrives, the answer is below 500 and nothing
// panics or logs an ERROR. `make test` runs the seed corpus; `make fuzz`
// explores.
func FuzzGraphQLRequest(f *testing.F) {
	seeds := []struct{ doc, vars string }{
		{`{ membershipTiers { id name description priceDisplay sortOrder } }`, `{}`},
		{`query Q($s: DeadLetterStatus, $n: Int) { deadLetters(status: $s, first: $n) { id } }`, `{"s": "OPEN", "n": 5}`},
		{`query Q($s: DeadLetterStatus) { deadLetters(status: $s) { id } }`, `{"s": 12}`},
		{`attackQuery($f: MemberFilter) { members(first: 2, filter: $f) { edges { node { id } } } }`, `{"f": {"includeHidden": true, "statuses": ["ACTIVE", "NOPE"]}}`},
		{`mutation($i: ProfileInput!) { updateMyProfile(input: $i) { id } }`, `{"i": {"firstName": "A\u0000", "lastName": null}}`},
		{`mutation { startCheckout(tierId: "community") }`, `null`},
		{`query { ...F0 } fragment F0 on Query { ...F1 ...F1 } fragment F1 on Query { membershipTiers { id } }`, `{}`},
		{`{ a: membershipTiers { id } a: membershipTiers { name } }`, `{}`},
		{`{ __schema { types { name } } }`, `{}`},
		{`{ __typename }`, `[1, 2]`},
		{`{ membershipTiers { id } `, `{"x": `},
		{`query A { __typename } query B { __typename }`, `{}`},
		{`attackQuery($v: [ID!]!) { member(id: $v) { id } }`, `{"v": ["1", null]}`},
		{`{ membershipTiers @include(if: $x) { id } }`, `{"x": true}`},
		{strings.Repeat("{", 300) + strings.Repeat("}", 300), `{}`},
		{`{ membershipTiers { sortOrder(x: 1e999) } }`, `{"n": 1e999}`},
	}
	for _, s := range seeds {
		f.Add(s.doc, s.vars)
	}
	logs := &syncBuffer{}
	// A plain fake, not a gomock mock: gomock calls Helper on the testing.F,
	// which a fuzz target must not.
	tiers, err := application.NewListMembershipTiers(fixedTiers{{ID: "community", Name: "Community"}})
	if err != nil {
		f.Fatal(err)
	}
	app := &application.App{Queries: application.Queries{ListMembershipTiers: tiers}}
	h := graph.NewHandler(app, graph.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	count, err := fuzzcount.New("FuzzGraphQLRequest")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc, vars string) {
		count.Add()
		q, _ := json.Marshal(doc)
		body := `{"query":` + string(q) + `,"variables":` + vars + `}`
		r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		checkAnswer(t, h, r, logs)

		get := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/graphql?"+url.Values{"query": {doc}, "variables": {vars}}.Encode(), nil)
		get.Header.Set("Accept", "application/graphql-response+json")
		checkAnswer(t, h, get, logs)
	})
}

// fixedTiers is a tier catalog with a fixed list.
type fixedTiers []ports.MembershipTier

func (f fixedTiers) ListTiers(context.Context) ([]ports.MembershipTier, error) { return f, nil }
func (f fixedTiers) GetTier(_ context.Context, id string) (ports.MembershipTier, error) {
	for _, t := range f {
		if t.ID == id {
			return t, nil
		}
	}
	return ports.MembershipTier{}, ports.ErrNotFound
}
func (f fixedTiers) TierForPrice(context.Context, string) (ports.MembershipTier, error) {
	return ports.MembershipTier{}, ports.ErrNotFound
}

func checkAnswer(t *testing.T, h http.Handler, r *http.Request, logs *syncBuffer) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code >= 500 {
		t.Fatalf("%s answered %d: %.500s", r.Method, rec.Code, rec.Body.String())
	}
	if out := logs.String(); strings.Contains(out, `"level":"ERROR"`) {
		t.Fatalf("%s logged an ERROR:\n%.1000s", r.Method, out)
	}
}
