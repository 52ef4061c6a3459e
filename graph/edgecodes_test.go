package graph_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/graph"
)

// A body that is no GraphQL request object is 400 BAD_REQUEST whether
// trusted documents are enforced or not (the README's code), and the
// answer never repeats the body.
func TestMalformedBodyIsBadRequestInEitherMode(t *testing.T) {
	t.Parallel()
	for _, only := range []bool{false, true} {
		_, srv := trustedServer(t, only)
		for _, body := range []string{`{"query": `, `[1,2,3]`, `"just a string with secret-ish text"`} {
			got := post(t, srv, body)
			if got.status != http.StatusBadRequest || got.code() != graph.CodeBadRequest {
				t.Errorf("only=%v %s: %d %q, want 400 %s", only, body, got.status, got.code(), graph.CodeBadRequest)
			}
			for _, e := range got.Errors {
				if strings.Contains(e.Message, "secret-ish") {
					t.Errorf("only=%v: the answer repeats the body: %q", only, e.Message)
				}
			}
		}
	}
}

// A body in a media type the edge does not read (application/graphql,
// text/plain, form data) is 415 UNSUPPORTED_MEDIA_TYPE with a GraphQL error
// that says which types it reads, in either mode.
func TestUnsupportedContentTypeIs415WithACode(t *testing.T) {
	t.Parallel()
	for _, only := range []bool{false, true} {
		_, srv := trustedServer(t, only)
		for _, ct := range []string{"application/graphql", "text/plain", "application/x-www-form-urlencoded", ""} {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader("{ membershipTiers { id } }"))
			if err != nil {
				t.Fatal(err)
			}
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			got := do(t, req)
			if got.status != http.StatusUnsupportedMediaType || got.code() != graph.CodeUnsupportedMediaType ||
				len(got.Errors) != 1 || !strings.Contains(got.Errors[0].Message, "application/json") {
				t.Errorf("only=%v %q: %d %q %v, want 415 %s naming application/json", only, ct, got.status, got.code(), got.Errors, graph.CodeUnsupportedMediaType)
			}
		}
	}
}
