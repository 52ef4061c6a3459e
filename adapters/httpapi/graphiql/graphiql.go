// Package graphiql serves the GraphiQL IDE with every asset embedded in the
// binary (React, ReactDOM, GraphiQL and its stylesheet, taken from the npm
// packages at the versions in assets/VERSIONS by
// scripts/graphiql/refresh.sh), so the page works with no network and behind
// a strict proxy. Nothing is fetched from a CDN.
//
// The page reports in place of "Loading…" why it could not start: an asset
// that failed to load (with its URL) or a script error.
package graphiql

import (
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed assets/*.js assets/*.css assets/VERSIONS
var assets embed.FS

// AssetPrefix is the URL path under which the assets are served.
const AssetPrefix = "/graphiql/assets/"

// Options configures the page.
type Options struct {
	// Title of the page.
	Title string
	// Endpoint is the GraphQL URL path, e.g. "/graphql".
	Endpoint string
	// Headers prefill GraphiQL's headers editor (for example a development
	// "Authorization: Bearer <token>" to sign in as someone); nil: none.
	Headers map[string]string
}

// Versions returns the pinned versions of the embedded packages.
func Versions() string {
	b, _ := assets.ReadFile("assets/VERSIONS")
	return string(b)
}

// Page serves the GraphiQL page itself (mount it on "GET /{$}").
func Page(opts Options) (http.Handler, error) {
	headers := "{}"
	if len(opts.Headers) > 0 {
		b, err := json.MarshalIndent(opts.Headers, "", "  ")
		if err != nil {
			return nil, err
		}
		headers = string(b)
	}
	var buf strings.Builder
	err := page.Execute(&buf, map[string]any{
		"Title": opts.Title, "Endpoint": opts.Endpoint, "Headers": headers, "Prefix": AssetPrefix,
	})
	if err != nil {
		return nil, err
	}
	body := buf.String()
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(body))
	}), nil
}

// Assets serves the embedded files under AssetPrefix (mount it on
// "GET "+AssetPrefix).
func Assets() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded folder is fixed at build time
	}
	files := http.StripPrefix(AssetPrefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The files change only with the binary.
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

var page = template.Must(template.New("graphiql").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
  body { margin: 0; }
  #graphiql { height: 100vh; }
  #graphiql-status { font: 16px/1.5 system-ui, sans-serif; padding: 2rem; max-width: 50rem; }
  #graphiql-status.failed { color: #a00; }
</style>
<script>
  // Why the page did not start, shown in place of "Loading…".
  window.graphiqlFailures = [];
  function graphiqlFail(what) {
    window.graphiqlFailures.push(what);
    graphiqlShowFailures();
  }
  function graphiqlShowFailures() {
    var s = document.getElementById('graphiql-status');
    if (s) {
      s.className = 'failed';
      s.textContent = 'GraphiQL could not start: ' + window.graphiqlFailures.join('; ') +
        '. The assets are embedded in wdai and served from {{.Prefix}}; ' +
        'check that this server is the wdai development server and that nothing between you blocks {{.Prefix}}.';
    }
  }
  window.addEventListener('error', function (e) {
    var t = e.target;
    if (t && (t.src || t.href)) {
      graphiqlFail('could not load ' + (t.src || t.href));
    } else {
      graphiqlFail('script error: ' + (e.message || e));
    }
  }, true);
</script>
<link rel="stylesheet" href="{{.Prefix}}graphiql.min.css">
<script src="{{.Prefix}}react.production.min.js"></script>
<script src="{{.Prefix}}react-dom.production.min.js"></script>
<script src="{{.Prefix}}graphiql.min.js"></script>
</head>
<body>
<div id="graphiql"><div id="graphiql-status">Loading…</div></div>
<script>
  (function () {
    if (window.graphiqlFailures.length > 0) { graphiqlShowFailures(); return; }
    if (typeof React === 'undefined' || typeof ReactDOM === 'undefined' || typeof GraphiQL === 'undefined') {
      graphiqlFail('a script loaded but did not define React, ReactDOM and GraphiQL');
      return;
    }
    try {
      var url = location.protocol + '//' + location.host + {{.Endpoint}};
      var fetcher = GraphiQL.createFetcher({ url: url });
      var root = ReactDOM.createRoot(document.getElementById('graphiql'));
      root.render(React.createElement(GraphiQL, {
        fetcher: fetcher,
        isHeadersEditorEnabled: true,
        defaultEditorToolsVisibility: 'headers',
        headers: {{.Headers}},
        shouldPersistHeaders: false,
        defaultQuery: '{ membershipTiers { name } }\n'
      }));
    } catch (e) {
      graphiqlFail('script error: ' + e);
    }
  })();
</script>
</body>
</html>
`))
