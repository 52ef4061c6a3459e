package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/ports"
)

// Error codes of the agent API.
const (
	// CodeInsufficientScope: the key lacks a scope the document needs (403,
	// with WWW-Authenticate naming the scopes).
	CodeInsufficientScope = "INSUFFICIENT_SCOPE"
	// CodeMutationsNotGranted: the document is a mutation and the key was
	// not granted mutations (403).
	CodeMutationsNotGranted = "MUTATIONS_NOT_GRANTED"
	// CodeSignedInOnly: the document needs a signed-in person (403).
	CodeSignedInOnly = "SIGNED_IN_ONLY"
)

// Transports an agent call arrives by, for the audit log.
const (
	TransportGraphQL = "graphql"
	TransportMCP     = "mcp"
)

// AgentCallRecorder appends an agent call to the audit log.
type AgentCallRecorder func(ctx context.Context, c application.AgentCall) error

// AgentGate is the agent's part of /graphql. It runs after authentication
// and before the request limit, for agent principals only (anyone else
// passes through). It finds the trusted document the request names (by
// documentId, Apollo's hash or, alone, the operation's name), refuses a
// query text (403 TRUSTED_DOCUMENT_REQUIRED), an unknown id (400
// PERSISTED_QUERY_NOT_FOUND), a document whose derived scopes the key lacks
// (403 INSUFFICIENT_SCOPE with WWW-Authenticate: Bearer
// error="insufficient_scope"), a mutation the key was not granted, and a
// document for signed-in people — all before anything executes. What it
// passes on is the document's exact text, which the trusted-documents
// middleware accepts. Every call, refused or not, is recorded: key,
// operation, outcome, status, duration and the SHA-256 of the variables,
// never their values.
func AgentGate(m *TrustedDocuments, record AgentCallRecorder, logger *slog.Logger) func(http.Handler) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cred, ok := application.AgentCredentialFrom(r.Context())
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			began := time.Now()
			rec := &agentRecorder{ResponseWriter: w, status: http.StatusOK}
			call := application.AgentCall{KeyPrefix: cred.Principal.ID(), Transport: transportOf(r.Context())}
			m.serveAgent(rec, r, next, cred, &call)
			call.Status, call.Duration = rec.status, time.Since(began)
			call.Outcome = outcomeOf(rec)
			// The client's hang-up must not lose the entry.
			if err := record(context.WithoutCancel(r.Context()), call); err != nil {
				logger.ErrorContext(r.Context(), "agent call: audit", "error", err.Error(), "key", call.KeyPrefix)
			}
		})
	}
}

func outcomeOf(rec *agentRecorder) string {
	switch {
	case rec.status == http.StatusUnauthorized || rec.status == http.StatusForbidden || rec.status == http.StatusTooManyRequests:
		return ports.OutcomeDenied
	case rec.status >= 300 || rec.errors:
		return ports.OutcomeFailure
	default:
		return ports.OutcomeSuccess
	}
}

func (m *TrustedDocuments) serveAgent(w *agentRecorder, r *http.Request, next http.Handler, cred application.AgentCredential, call *application.AgentCall) {
	var req trustedRequest
	switch r.Method {
	case http.MethodPost:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, defaultTrustedMaxBody))
		if err != nil {
			writeGraphQLError(w, http.StatusRequestEntityTooLarge, "the request body is too large or unreadable", "REQUEST_TOO_LARGE")
			return
		}
		if err := json.Unmarshal(body, &req); err != nil {
			writeGraphQLError(w, http.StatusBadRequest, "the request body is not a GraphQL request object", CodeBadUserInput)
			return
		}
	case http.MethodGet:
		q := r.URL.Query()
		req = trustedRequest{Query: q.Get("query"), OperationName: q.Get("operationName"), DocumentID: q.Get("documentId")}
		if v := q.Get("variables"); v != "" {
			req.Variables = json.RawMessage(v)
		}
		if ext := q.Get("extensions"); ext != "" {
			if err := json.Unmarshal([]byte(ext), &req.Extensions); err != nil {
				writeGraphQLError(w, http.StatusBadRequest, "extensions is not a JSON object", CodeBadUserInput)
				return
			}
		}
	default:
		writeGraphQLError(w, http.StatusMethodNotAllowed, "agents send POST or GET", CodeBadRequest)
		return
	}
	if len(req.Variables) > 0 && string(req.Variables) != "null" {
		sum := sha256.Sum256(req.Variables)
		call.VariablesSHA256 = hex.EncodeToString(sum[:])
	}
	d, status, msg, code := m.agentDocument(&req)
	if d != nil {
		call.Operation, call.DocumentID = d.Name, d.ID
	}
	if status != 0 {
		call.Reason = code
		writeGraphQLError(w, status, msg, code)
		return
	}
	if err := AgentMayRun(cred, d); err != nil {
		var denied *AgentDenied
		if errors.As(err, &denied) {
			call.Reason = denied.Code
			if denied.Code == CodeInsufficientScope {
				w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+scopeNames(denied.Missing)+`"`)
			}
			writeGraphQLError(w, http.StatusForbidden, denied.Error(), denied.Code)
			return
		}
	}
	if r.Method == http.MethodGet && d.Kind == ast.Mutation {
		// GraphQL over HTTP: a GET never changes anything.
		call.Reason = "MUTATION_OVER_GET"
		w.Header().Set("Allow", http.MethodPost)
		writeGraphQLError(w, http.StatusMethodNotAllowed, "send mutations with POST", CodeBadRequest)
		return
	}
	out, err := json.Marshal(trustedRequest{Query: d.Text, OperationName: d.Name, Variables: req.Variables})
	if err != nil {
		writeGraphQLError(w, http.StatusBadRequest, "the request could not be re-encoded", CodeBadUserInput)
		return
	}
	r2 := r.Clone(r.Context())
	r2.Method = http.MethodPost
	r2.URL.RawQuery = ""
	r2.Header.Set("Content-Type", "application/json")
	r2.Body, r2.ContentLength = io.NopCloser(bytes.NewReader(out)), int64(len(out))
	next.ServeHTTP(w, r2)
}

// agentDocument finds the trusted document an agent's request names.
func (m *TrustedDocuments) agentDocument(req *trustedRequest) (*TrustedDocument, int, string, string) {
	var d *TrustedDocument
	var found bool
	switch {
	case req.DocumentID != "":
		d, found = m.ByID(req.DocumentID)
	case req.Extensions["persistedQuery"] != nil:
		var pq struct {
			SHA256Hash string `json:"sha256Hash"`
		}
		if err := json.Unmarshal(req.Extensions["persistedQuery"], &pq); err == nil && pq.SHA256Hash != "" {
			d, found = m.ByHash(pq.SHA256Hash)
		}
	case req.Query != "":
		return nil, http.StatusForbidden, "agents run trusted documents only: send documentId, an Apollo persisted-query hash or an operationName", CodeTrustedDocumentRequired
	case req.OperationName != "":
		d, found = m.ByName(req.OperationName)
	default:
		return nil, http.StatusForbidden, "name a trusted document: documentId, an Apollo persisted-query hash or an operationName", CodeTrustedDocumentRequired
	}
	if !found {
		return nil, http.StatusBadRequest, "no trusted document has that id or name (see wdai operations list)", CodePersistedQueryNotFound
	}
	if req.Query != "" && req.Query != d.Text {
		return d, http.StatusBadRequest, "the query text differs from the trusted document it names", CodePersistedQueryNotFound
	}
	return d, 0, "", ""
}

// AgentDenied says why an agent key may not run a document.
type AgentDenied struct {
	Code    string
	Missing []access.Scope
	msg     string
}

func (e *AgentDenied) Error() string { return e.msg }

// AgentMayRun decides, from the document's derived access alone, whether
// the key may run it: every scope the document needs, mutations only when
// granted, and never a document for signed-in people.
func AgentMayRun(cred application.AgentCredential, d *TrustedDocument) error {
	if d.SignedIn {
		return &AgentDenied{Code: CodeSignedInOnly, msg: "forbidden: " + d.Name + " is for signed-in people"}
	}
	if err := access.Authorize(cred.Principal, d.Scopes...); err != nil {
		var missing access.MissingScopesError
		errors.As(err, &missing)
		return &AgentDenied{Code: CodeInsufficientScope, Missing: missing.Missing,
			msg: "forbidden: " + d.Name + " needs " + scopeNames(missing.Missing)}
	}
	if d.Kind == ast.Mutation && !cred.AllowMutations {
		return &AgentDenied{Code: CodeMutationsNotGranted, msg: "forbidden: this key was not granted mutations"}
	}
	return nil
}

func scopeNames(scopes []access.Scope) string {
	names := make([]string, 0, len(scopes))
	for _, s := range scopes {
		names = append(names, s.String())
	}
	return strings.Join(names, " ")
}

type transportKey struct{}

// WithTransport marks ctx as arriving by transport (TransportMCP), for the
// audit log.
func WithTransport(ctx context.Context, transport string) context.Context {
	return context.WithValue(ctx, transportKey{}, transport)
}

func transportOf(ctx context.Context) string {
	if t, ok := ctx.Value(transportKey{}).(string); ok {
		return t
	}
	return TransportGraphQL
}

// agentRecorder keeps the status, and whether the GraphQL answer starts
// with errors (gqlgen writes "errors" first when there are any).
type agentRecorder struct {
	http.ResponseWriter
	status  int
	wrote   bool
	errors  bool
	started bool
}

func (w *agentRecorder) WriteHeader(code int) {
	if !w.wrote {
		w.wrote, w.status = true, code
	}
	w.ResponseWriter.WriteHeader(code)
}

var errorsFirst = []byte(`{"errors":`)

func (w *agentRecorder) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if !w.started {
		w.started = true
		w.errors = bytes.HasPrefix(b, errorsFirst)
	}
	return w.ResponseWriter.Write(b)
}

func (w *agentRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
