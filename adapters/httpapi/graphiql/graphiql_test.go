package graphiql_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/adapters/httpapi/graphiql"
)

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Result(), string(b)
}

// The page loads nothing from outside: every script and stylesheet it names
// is under AssetPrefix and served from the binary; the sign-in header is
// prefilled, escaped for the script it sits in.
func TestPageUsesOnlyEmbeddedAssets(t *testing.T) {
	page, err := graphiql.Page(graphiql.Options{Title: "t", Endpoint: "/graphql",
		Headers: map[string]string{"Authorization": "Bearer dev.</script>"}})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, page, "/")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(refs) != 4 {
		t.Fatalf("page names %d assets, want 4 (react, react-dom, graphiql js and css)", len(refs))
	}
	assets := graphiql.Assets()
	for _, r := range refs {
		if !strings.HasPrefix(r[1], graphiql.AssetPrefix) {
			t.Errorf("page loads %s from outside wdai", r[1])
			continue
		}
		resp, b := get(t, assets, r[1])
		if resp.StatusCode != http.StatusOK || len(b) < 1000 {
			t.Errorf("asset %s: %d, %d bytes", r[1], resp.StatusCode, len(b))
		}
	}
	if strings.Contains(body, "</script>\"") || !strings.Contains(body, `Bearer dev.\\u003c/script\\u003e`) {
		t.Errorf("headers not prefilled, or not escaped:\n%s", body)
	}
	if resp, _ := get(t, assets, graphiql.AssetPrefix+"nothing.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown asset: %d, want 404", resp.StatusCode)
	}
	if !strings.Contains(graphiql.Versions(), "graphiql 3.8.3") {
		t.Errorf("Versions() = %q", graphiql.Versions())
	}
}
