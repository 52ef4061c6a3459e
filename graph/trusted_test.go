package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/ports"
)

func projectOperations(t *testing.T) *graph.TrustedDocuments {
	t.Helper()
	m, err := graph.LoadTrustedDocuments(os.DirFS("../operations"), graph.Schema())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The project's own operations are valid and their access is what the
// schema's directives on the fields they select say.
func TestProjectOperationsDeriveTheirAccessFromTheSchema(t *testing.T) {
	t.Parallel()
	m := projectOperations(t)
	want := map[string]string{
		"MembershipTiers":   "public",
		"Me":                "signed-in",
		"Members":           "members:read",
		"Member":            "members:read",
		"UpdateMyProfile":   "signed-in",
		"SetMyVisibility":   "signed-in",
		"StartCheckout":     "signed-in",
		"OpenBillingPortal": "signed-in",
		"SetPersonRole":     "members:write",
		// The access ledger.
		"MyAccess":                      "signed-in",
		"GrantComplimentaryMembership":  "members:write",
		"RevokeComplimentaryMembership": "members:write",
		"DeadLetters":                   "ops:read",
		"DeadLetter":                    "ops:read",
		"ReplayDeadLetter":              "ops:write",
		"AbandonDeadLetter":             "ops:write",
		"Events":                        "events:read",
		"Event":                         "events:read",
		"CreateEvent":                   "events:write",
		"AuditLog":                      "audit:read",
		// The agents' starter operations and key creation.
		"FinanceMembershipSummary":      "members:read,billing:read",
		"FinancePastDueMembers":         "members:read,billing:read",
		"FinanceRecentPaymentFailures":  "members:read,billing:read",
		"SupportMemberByEmail":          "members:read,members:read:pii",
		"SupportMemberTimeline":         "members:read,audit:read",
		"EngagementUpcomingEvents":      "events:read",
		"EngagementRecentRSVPDecisions": "events:read",
		"EngagementSlackStatus":         "members:read",
		"CreateAgentKey":                "ops:write",
	}
	docs := m.List()
	if len(docs) != len(want) {
		t.Fatalf("%d operations, want %d", len(docs), len(want))
	}
	for _, d := range docs {
		if got := d.Access(); got != want[d.Name] {
			t.Errorf("%s (%s): access %q, want %q", d.Name, d.File, got, want[d.Name])
		}
		sum := sha256.Sum256([]byte(d.Text))
		if d.ID != "sha256:"+hex.EncodeToString(sum[:]) {
			t.Errorf("%s: id %s is not the sha256 of its text", d.Name, d.ID)
		}
		if d.Description == "" {
			t.Errorf("%s: no leading # description", d.Name)
		}
	}
}

// A synthetic operation shows the walk: scopes come from fields reached
// through named fragments (each counted once), nested fragments and inline
// fragments, and a change of the document changes the derived scopes.
func TestScopesAreDerivedThroughFragments(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"Ops.graphql": {Data: []byte(`# Everything an operator looks at.
query Ops {
  ...Letters
  ...Letters
  ... on Query { me { id } }
}
fragment Letters on Query { deadLetters { id } ...People }
fragment People on Query { members { edges { node { id } } } }
`)}}
	m, err := graph.LoadTrustedDocuments(fsys, graph.Schema())
	if err != nil {
		t.Fatal(err)
	}
	d, ok := m.ByName("Ops")
	if !ok {
		t.Fatal("Ops not in the manifest")
	}
	if got := d.Access(); got != "signed-in,members:read,ops:read" {
		t.Fatalf("access %q, want signed-in,members:read,ops:read", got)
	}
	if d.Description != "Everything an operator looks at." || d.Kind != "query" {
		t.Fatalf("description %q kind %q", d.Description, d.Kind)
	}
}

func TestInvalidOperationsAreRefusedNamingTheFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"unknown field", fstest.MapFS{"Bad.graphql": {Data: []byte("query Bad {\n  membershipTiers { price }\n}\n")}},
			`Bad.graphql:2:21: Cannot query field "price"`},
		{"syntax error", fstest.MapFS{"Broken.graphql": {Data: []byte("query Broken { me { id }")}}, "Broken.graphql:1:"},
		{"two operations", fstest.MapFS{"Two.graphql": {Data: []byte("query A { me { id } } query B { me { id } }")}}, "Two.graphql: holds 2 operations"},
		{"anonymous", fstest.MapFS{"Anon.graphql": {Data: []byte("{ me { id } }")}}, "Anon.graphql: the operation has no name"},
		{"same name twice", fstest.MapFS{"A.graphql": {Data: []byte("query Same { me { id } }")}, "B.graphql": {Data: []byte("query Same { me { firstName } }")}},
			"B.graphql: operation Same is also defined in A.graphql"},
		{"no files", fstest.MapFS{}, "no .graphql files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := graph.LoadTrustedDocuments(tt.files, graph.Schema())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

type gqlResponse struct {
	status int
	header http.Header
	Data   map[string]any
	Errors []struct {
		Message    string
		Extensions map[string]any
	}
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func trustedServer(t *testing.T, only bool) (*graph.TrustedDocuments, *httptest.Server) {
	t.Helper()
	m := projectOperations(t)
	app := newApp(t, []ports.MembershipTier{{ID: "community", Name: "Community"}}, nil)
	h := graph.TrustedDocumentsMiddleware(m, graph.TrustedOptions{Only: only})(graph.NewHandler(app, graph.Options{}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return m, srv
}

func post(t *testing.T, srv *httptest.Server, body string) gqlResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func do(t *testing.T, req *http.Request) gqlResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out := gqlResponse{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("status %d: body is not JSON: %v", resp.StatusCode, err)
	}
	return out
}

func TestTrustedOnlyRefusesDocumentsOutsideTheManifest(t *testing.T) {
	t.Parallel()
	m, srv := trustedServer(t, true)
	tiers, _ := m.ByName("MembershipTiers")
	hash := strings.TrimPrefix(tiers.ID, "sha256:")
	text, _ := json.Marshal(tiers.Text)

	refused := map[string]string{
		"ad-hoc query":                          `{"query":"{ membershipTiers { id } }"}`,
		"trusted text changed":                  `{"query":` + strings.Replace(string(text), "sortOrder", "", 1) + `}`,
		"duplicate key smuggles a second query": `{"documentId":"` + tiers.ID + `","documentid":"","query":"{ membershipTiers { id } }"}`,
	}
	for name, body := range refused {
		got := post(t, srv, body)
		if got.status == http.StatusOK && got.Data != nil {
			t.Errorf("%s: status %d data %v; want it refused", name, got.status, got.Data)
		}
		if name == "ad-hoc query" && (got.status != http.StatusForbidden || got.code() != graph.CodeTrustedDocumentRequired) {
			t.Errorf("%s: status %d code %q; want 403 %s", name, got.status, got.code(), graph.CodeTrustedDocumentRequired)
		}
	}

	accepted := map[string]string{
		"documentId":           `{"documentId":"` + tiers.ID + `"}`,
		"Apollo hash":          `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}}`,
		"the exact text":       `{"query":` + string(text) + `}`,
		"documentId with text": `{"documentId":"` + tiers.ID + `","query":` + string(text) + `}`,
	}
	for name, body := range accepted {
		got := post(t, srv, body)
		if got.status != http.StatusOK || len(got.Errors) > 0 || got.Data["membershipTiers"] == nil {
			t.Errorf("%s: status %d errors %v data %v; want the tiers", name, got.status, got.Errors, got.Data)
		}
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"?documentId="+url.QueryEscape(tiers.ID), nil)
	if got := do(t, req); got.status != http.StatusOK || got.Data["membershipTiers"] == nil {
		t.Errorf("GET documentId: %d %v %v", got.status, got.Errors, got.Data)
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"?query="+url.QueryEscape("{ membershipTiers { id } }"), nil)
	if got := do(t, req); got.status != http.StatusForbidden || got.code() != graph.CodeTrustedDocumentRequired {
		t.Errorf("GET ad-hoc query: %d %q, want 403", got.status, got.code())
	}
}

func TestUnknownDocumentIDIsABadRequestInEitherMode(t *testing.T) {
	t.Parallel()
	for _, only := range []bool{false, true} {
		_, srv := trustedServer(t, only)
		for _, body := range []string{
			`{"documentId":"sha256:` + strings.Repeat("0", 64) + `"}`,
			`{"documentId":"md5:abc"}`,
			`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("f", 64) + `"}}}`,
		} {
			if got := post(t, srv, body); got.status != http.StatusBadRequest || got.code() != graph.CodePersistedQueryNotFound {
				t.Errorf("only=%v %s: status %d code %q; want 400 %s", only, body, got.status, got.code(), graph.CodePersistedQueryNotFound)
			}
		}
	}
}

func TestWithoutTrustedOnlyIdsWorkBesideQueryText(t *testing.T) {
	t.Parallel()
	m, srv := trustedServer(t, false)
	tiers, _ := m.ByName("MembershipTiers")
	for name, body := range map[string]string{
		"ad-hoc query": `{"query":"{ membershipTiers { id } }"}`,
		"documentId":   `{"documentId":"` + tiers.ID + `"}`,
	} {
		if got := post(t, srv, body); got.status != http.StatusOK || got.Data["membershipTiers"] == nil {
			t.Errorf("%s: %d %v %v", name, got.status, got.Errors, got.Data)
		}
	}
}

// An agent runs only trusted documents even when the server accepts query
// text from people.
func TestAgentsAreAlwaysTrustedOnly(t *testing.T) {
	t.Parallel()
	m := projectOperations(t)
	tiers, _ := m.ByName("MembershipTiers")
	agent, err := access.NewAgent("key_1", []access.Scope{access.ScopeMembersRead})
	if err != nil {
		t.Fatal(err)
	}
	h := graph.TrustedDocumentsMiddleware(m, graph.TrustedOptions{})(graph.NewHandler(newApp(t, []ports.MembershipTier{{ID: "community"}}, nil), graph.Options{}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(application.WithPrincipal(r.Context(), agent)))
	}))
	t.Cleanup(srv.Close)
	if got := post(t, srv, `{"query":"{ membershipTiers { id } }"}`); got.status != http.StatusForbidden || got.code() != graph.CodeTrustedDocumentRequired {
		t.Fatalf("agent with query text: %d %q, want 403 %s", got.status, got.code(), graph.CodeTrustedDocumentRequired)
	}
	if got := post(t, srv, `{"documentId":"`+tiers.ID+`"}`); got.status != http.StatusOK || got.Data["membershipTiers"] == nil {
		t.Fatalf("agent with a documentId: %d %v", got.status, got.Errors)
	}
}
