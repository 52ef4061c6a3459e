package graph

import (
	"mime"
	"net/http"
)

// CodeUnsupportedMediaType answers a POST body in a media type the edge does not
// read (HTTP 415). GraphQL requests are sent as application/json.
const CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"

// requireJSON answers 415 UNSUPPORTED_MEDIA_TYPE to a POST whose body is
// not application/json (application/graphql, forms, text, none), before any
// middleware reads it, so the client learns what to send instead of
// gqlgen's bare "transport not supported". Other methods pass.
func requireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				writeGraphQLError(w, http.StatusUnsupportedMediaType,
					"send the request as application/json: {\"query\": \"...\", \"variables\": {...}} or {\"documentId\": \"...\"}", CodeUnsupportedMediaType)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
