package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
)

// Error codes of trusted documents.
const (
	// CodeTrustedDocumentRequired: only trusted documents are accepted and
	// the request's document is not one (403).
	CodeTrustedDocumentRequired = "TRUSTED_DOCUMENT_REQUIRED"
	// CodePersistedQueryNotFound: the documentId or Apollo hash names no
	// trusted document (400).
	CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
)

// TrustedOptions configure TrustedDocumentsMiddleware.
type TrustedOptions struct {
	// Only refuses every document that is not in the manifest (403), from
	// every caller. Agents are held to it whatever Only says.
	Only bool
	// MaxBody bounds the POST body this middleware reads; 0 means 1 MiB.
	MaxBody int64
}

// defaultTrustedMaxBody is far above any trusted request; a larger body is
// refused before it is read.
const defaultTrustedMaxBody = 1 << 20

// TrustedDocumentsMiddleware resolves trusted documents before gqlgen sees
// the request: a documentId ("sha256:<hex>", the persisted-documents
// appendix of GraphQL over HTTP, in the JSON body or the GET query) or
// Apollo's extensions.persistedQuery.sha256Hash is replaced by the
// document's text. An unknown id answers 400 PERSISTED_QUERY_NOT_FOUND. With
// Only set, any other document answers 403 TRUSTED_DOCUMENT_REQUIRED, and
// the request gqlgen receives is re-encoded from exactly what was checked.
// Agents are always held to Only.
//
// Without Only, a POST that names neither a documentId nor a persisted query
// passes through after one scan of its bytes.
func TrustedDocumentsMiddleware(m *TrustedDocuments, opts TrustedOptions) func(http.Handler) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = defaultTrustedMaxBody
	}
	return func(next http.Handler) http.Handler {
		// A body it cannot read as JSON is 415, as at the edge.
		return requireJSON(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			o := opts
			// An agent runs only the project's operations (it must run after
			// authentication to know).
			o.Only = o.Only || application.PrincipalFrom(r.Context()).Kind() == access.KindAgent
			switch r.Method {
			case http.MethodPost:
				m.servePost(w, r, next, o)
			case http.MethodGet:
				m.serveGet(w, r, next, o)
			default:
				next.ServeHTTP(w, r)
			}
		}))
	}
}

// trustedRequest is the part of a GraphQL-over-HTTP request this middleware
// reads; variables stay raw.
type trustedRequest struct {
	Query         string                     `json:"query,omitempty"`
	OperationName string                     `json:"operationName,omitempty"`
	Variables     json.RawMessage            `json:"variables,omitempty"`
	Extensions    map[string]json.RawMessage `json:"extensions,omitempty"`
	DocumentID    string                     `json:"documentId,omitempty"`
}

var (
	markDocumentID = []byte("documentId")
	markPersisted  = []byte("persistedQuery")
)

func (m *TrustedDocuments) servePost(w http.ResponseWriter, r *http.Request, next http.Handler, opts TrustedOptions) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, opts.MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeGraphQLError(w, http.StatusRequestEntityTooLarge, "the request body is too large", "REQUEST_TOO_LARGE")
			return
		}
		writeGraphQLError(w, http.StatusBadRequest, "the request body could not be read", CodeBadRequest)
		return
	}
	// Without the marks there is nothing to resolve. (A "DOCUMENTID" key
	// in other letter case is not resolved here, and gqlgen ignores it: the
	// request has no document. Trusted-only mode decodes every body.)
	if !opts.Only && !bytes.Contains(body, markDocumentID) && !bytes.Contains(body, markPersisted) {
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
		return
	}
	var req trustedRequest
	if err := json.Unmarshal(body, &req); err != nil {
		if opts.Only {
			writeGraphQLError(w, http.StatusBadRequest, "the request body is not a GraphQL request object", CodeBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body)) // gqlgen reports its own parse error
		next.ServeHTTP(w, r)
		return
	}
	if status, msg, code := m.resolve(&req, opts.Only); status != 0 {
		writeGraphQLError(w, status, msg, code)
		return
	}
	rewritten, err := json.Marshal(req)
	if err != nil {
		writeGraphQLError(w, http.StatusBadRequest, "the request could not be re-encoded", CodeBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(rewritten))
	r.ContentLength = int64(len(rewritten))
	next.ServeHTTP(w, r)
}

func (m *TrustedDocuments) serveGet(w http.ResponseWriter, r *http.Request, next http.Handler, opts TrustedOptions) {
	q := r.URL.Query()
	req := trustedRequest{Query: q.Get("query"), OperationName: q.Get("operationName"), DocumentID: q.Get("documentId")}
	if ext := q.Get("extensions"); ext != "" {
		if err := json.Unmarshal([]byte(ext), &req.Extensions); err != nil && (opts.Only || req.DocumentID != "") {
			writeGraphQLError(w, http.StatusBadRequest, "extensions is not a JSON object", CodeBadRequest)
			return
		}
	}
	if !opts.Only && req.DocumentID == "" && req.Extensions["persistedQuery"] == nil {
		next.ServeHTTP(w, r)
		return
	}
	if status, msg, code := m.resolve(&req, opts.Only); status != 0 {
		writeGraphQLError(w, status, msg, code)
		return
	}
	out := url.Values{}
	for k, vs := range q {
		if k != "documentId" && k != "query" && k != "extensions" {
			out[k] = vs
		}
	}
	out.Set("query", req.Query)
	if len(req.Extensions) > 0 {
		ext, _ := json.Marshal(req.Extensions) // raw messages that were just decoded
		out.Set("extensions", string(ext))
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = out.Encode()
	next.ServeHTTP(w, r2)
}

// resolve replaces a documentId or an Apollo hash by the document's text,
// and in trusted-only mode refuses any other document. It answers a status
// (0 when the request goes on), a message and a code.
func (m *TrustedDocuments) resolve(req *trustedRequest, only bool) (int, string, string) {
	var d *TrustedDocument
	var named, found bool
	switch {
	case req.DocumentID != "":
		named = true
		d, found = m.ByID(req.DocumentID)
	case req.Extensions["persistedQuery"] != nil:
		var pq struct {
			SHA256Hash string `json:"sha256Hash"`
		}
		if err := json.Unmarshal(req.Extensions["persistedQuery"], &pq); err != nil || pq.SHA256Hash == "" {
			return http.StatusBadRequest, "extensions.persistedQuery needs a sha256Hash", CodePersistedQueryNotFound
		}
		named = true
		d, found = m.ByHash(pq.SHA256Hash)
	}
	if named {
		if !found {
			return http.StatusBadRequest, "no trusted document has this id", CodePersistedQueryNotFound
		}
		if req.Query != "" && req.Query != d.Text {
			return http.StatusBadRequest, "the query differs from the trusted document it names", CodePersistedQueryNotFound
		}
		req.Query, req.DocumentID = d.Text, ""
		delete(req.Extensions, "persistedQuery")
		return 0, "", ""
	}
	if only {
		if _, ok := m.ByText(req.Query); !ok {
			return http.StatusForbidden, "only trusted documents are accepted: send a documentId", CodeTrustedDocumentRequired
		}
	}
	return 0, "", ""
}

// writeGraphQLError answers a GraphQL-over-HTTP error response before any
// GraphQL runs.
func writeGraphQLError(w http.ResponseWriter, status int, msg, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]string{"code": code}}},
	})
}
