package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// limitBody answers 413 to a POST body over maxBytes and 414 to a GET
// query string over it, before anything reads or parses them. The answer
// is a small GraphQL error; it never repeats what the client sent. A body
// without a Content-Length is read up to one byte past the cap at most.
func limitBody(maxBytes int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int64(len(r.URL.RawQuery)) > maxBytes {
			tooLarge(w, http.StatusRequestURITooLong, fmt.Sprintf("the query string exceeds %d bytes", maxBytes))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			if r.ContentLength > maxBytes {
				tooLarge(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body exceeds %d bytes", maxBytes))
				return
			}
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBytes+1))
			if err != nil {
				tooLarge(w, http.StatusBadRequest, "the body could not be read")
				return
			}
			if int64(len(body)) > maxBytes {
				tooLarge(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body exceeds %d bytes", maxBytes))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

// tooLarge closes the connection: the rest of an oversized body is not read.
func tooLarge(w http.ResponseWriter, status int, msg string) {
	code := CodeRequestTooLarge
	if status == http.StatusBadRequest {
		code = CodeBadRequest
	}
	w.Header().Set("Connection", "close")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]string{"code": code}}},
	})
}
