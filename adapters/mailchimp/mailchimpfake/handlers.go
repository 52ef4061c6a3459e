package mailchimpfake

import (
	"crypto/md5" //nolint:gosec // Mailchimp names members by the MD5 of their address; not a security use
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/womendefiningai/platform/ports"
)

// maxBatch is how many members one POST /lists/{list} may carry.
const maxBatch = 500

var (
	hashPattern  = regexp.MustCompile(`^[0-9a-f]{32}$`)
	emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// The fields each body may carry (Mailchimp's published ones).
var (
	memberFields = fieldSet("email_address", "status_if_new", "status", "merge_fields", "email_type",
		"interests", "language", "vip", "location", "marketing_permissions", "ip_signup",
		"timestamp_signup", "ip_opt", "timestamp_opt", "skip_merge_validation")
	batchMemberFields = fieldSet("email_address", "status_if_new", "status", "merge_fields", "email_type",
		"interests", "language", "vip", "location", "ip_signup", "timestamp_signup", "ip_opt",
		"timestamp_opt", "tags")
	batchFields   = fieldSet("members", "update_existing", "sync_tags")
	tagsFields    = fieldSet("tags", "is_syncing")
	tagFields     = fieldSet("name", "status")
	triggerFields = fieldSet("email_address")
)

func fieldSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiRoot+"/lists/{list}/members/{hash}", s.getMember)
	mux.HandleFunc("PUT "+apiRoot+"/lists/{list}/members/{hash}", s.putMember)
	mux.HandleFunc("DELETE "+apiRoot+"/lists/{list}/members/{hash}", s.deleteMember)
	mux.HandleFunc("POST "+apiRoot+"/lists/{list}/members/{hash}/actions/delete-permanent", s.deletePermanently)
	mux.HandleFunc("POST "+apiRoot+"/lists/{list}/members/{hash}/tags", s.postTags)
	mux.HandleFunc("POST "+apiRoot+"/lists/{list}", s.postBatch)
	mux.HandleFunc("POST "+apiRoot+"/customer-journeys/journeys/{journey}/steps/{step}/actions/trigger", s.postTrigger)
	mux.HandleFunc("/", s.unknownRoute)
	s.mux = mux
}

// subscriberHash is md5(lowercase(trimmed email)), written apart from the
// client's on purpose.
func subscriberHash(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(strings.TrimSpace(email)))) //nolint:gosec // Mailchimp's member id
	return hex.EncodeToString(sum[:])
}

// blocked reports whether a member in status st may not be (re)subscribed
// through the API.
func blocked(st ports.SubscriberStatus) bool {
	return st == ports.SubscriberUnsubscribed || st == ports.SubscriberCleaned
}

// subscribing reports whether st asks for the address to get marketing.
func subscribing(st ports.SubscriberStatus) bool {
	return st == ports.SubscriberSubscribed || st == ports.SubscriberPending
}

func validStatus(st ports.SubscriberStatus) bool {
	switch st {
	case ports.SubscriberSubscribed, ports.SubscriberUnsubscribed, ports.SubscriberCleaned,
		ports.SubscriberPending, ports.SubscriberTransactional:
		return true
	default:
		return false
	}
}

// problem writes an application/problem+json error.
func (s *Server) problem(w http.ResponseWriter, status int, title, detail string) {
	s.mu.Lock()
	s.instance++
	inst := s.instance
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":     "https://mailchimp.com/developer/marketing/docs/errors/",
		"title":    title,
		"status":   status,
		"detail":   detail,
		"instance": fmt.Sprintf("00000000-0000-4000-8000-%012d", inst),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// refusal is a 400-class answer the handler gives.
type refusal struct {
	status int
	title  string
	detail string
}

func (s *Server) refuse(w http.ResponseWriter, f *refusal) {
	s.problem(w, f.status, f.title, f.detail)
}

func invalidResource(detail string) *refusal {
	return &refusal{http.StatusBadRequest, "Invalid Resource", detail}
}

func notFound() *refusal {
	return &refusal{http.StatusNotFound, "Resource Not Found", "The requested resource could not be found."}
}

func complianceState(email string) *refusal {
	return &refusal{http.StatusBadRequest, "Member In Compliance State",
		email + " is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed."}
}

func (s *Server) unknownRoute(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.violation(r, "no such route in the contract")
	s.mu.Unlock()
	s.refuse(w, notFound())
}

// listAndHash checks the list id and the member hash in the path. Callers
// hold mu.
func (s *Server) listAndHash(r *http.Request, withHash bool) (string, *refusal) {
	if r.PathValue("list") != s.listID {
		return "", notFound()
	}
	if !withHash {
		return "", nil
	}
	h := r.PathValue("hash")
	if !hashPattern.MatchString(h) {
		s.violation(r, "member path segment %q is not a lowercase MD5 hex hash", h)
		return "", notFound()
	}
	return h, nil
}

// object decodes a JSON object body, checking its content type and its
// fields. Unknown fields are violations that Mailchimp ignores; a malformed
// body is a violation and a refusal. Callers hold mu.
func (s *Server) object(r *http.Request, raw []byte, allowed map[string]bool, what string) (map[string]json.RawMessage, *refusal) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.violation(r, "Content-Type %q, want application/json", r.Header.Get("Content-Type"))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		s.violation(r, "%s is not a JSON object", what)
		return nil, &refusal{http.StatusBadRequest, "JSON Parse Exception", "We encountered an unspecified JSON parsing error."}
	}
	s.checkFields(r, fields, allowed, what)
	return fields, nil
}

// checkFields records a violation for each field not in allowed.
func (s *Server) checkFields(r *http.Request, fields map[string]json.RawMessage, allowed map[string]bool, what string) {
	for k := range fields {
		if !allowed[k] {
			s.violation(r, "%s has unknown field %q", what, k)
		}
	}
}

// stringField decodes fields[name] as a string; present is false when the
// field is absent or null, ok false when it is not a string.
func stringField(fields map[string]json.RawMessage, name string) (v string, present, ok bool) {
	raw, found := fields[name]
	if !found || string(raw) == "null" {
		return "", false, true
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", true, false
	}
	return v, true, true
}

// memberInput is a validated member body.
type memberInput struct {
	email       string
	statusIfNew ports.SubscriberStatus // "" when absent
	status      ports.SubscriberStatus // "" when absent
	merge       map[string]string
}

// parseMember validates one member body; statusIfNewRequired says whether
// status_if_new must be there (PUT) or status_if_new or status (batch).
// Callers hold mu.
func (s *Server) parseMember(r *http.Request, fields map[string]json.RawMessage, what string, statusIfNewRequired bool) (memberInput, *refusal) {
	var in memberInput
	email, present, ok := stringField(fields, "email_address")
	if !present || !ok || strings.TrimSpace(email) == "" {
		s.violation(r, "%s: email_address is required and must be a string", what)
		return in, invalidResource("The resource submitted could not be validated: email_address is required.")
	}
	in.email = strings.TrimSpace(email)
	for _, f := range []struct {
		name string
		dst  *ports.SubscriberStatus
	}{{"status_if_new", &in.statusIfNew}, {"status", &in.status}} {
		v, present, ok := stringField(fields, f.name)
		if !present {
			continue
		}
		if !ok || !validStatus(ports.SubscriberStatus(v)) {
			s.violation(r, "%s: %s %s is not a member status", what, f.name, fields[f.name])
			return in, invalidResource("The resource submitted could not be validated: " + f.name + " is invalid.")
		}
		*f.dst = ports.SubscriberStatus(v)
	}
	switch {
	case statusIfNewRequired && in.statusIfNew == "":
		s.violation(r, "%s: status_if_new is required", what)
		return in, invalidResource("The resource submitted could not be validated: status_if_new is required.")
	case in.statusIfNew == "" && in.status == "":
		s.violation(r, "%s: status_if_new (or status) is required", what)
		return in, invalidResource("The resource submitted could not be validated: status is required.")
	}
	if raw, found := fields["merge_fields"]; found {
		var merge map[string]any
		if err := json.Unmarshal(raw, &merge); err != nil {
			s.violation(r, "%s: merge_fields is not an object", what)
			return in, invalidResource("The resource submitted could not be validated: merge_fields is invalid.")
		}
		in.merge = make(map[string]string, len(merge))
		for k, v := range merge {
			switch v := v.(type) {
			case string:
				in.merge[k] = v
			case float64, bool:
				in.merge[k] = fmt.Sprint(v)
			default:
				s.violation(r, "%s: merge field %q is not a scalar", what, k)
				return in, invalidResource("The resource submitted could not be validated: merge field " + k + " is invalid.")
			}
		}
	}
	return in, nil
}

// upsert applies in to the member under hash (md5 of in.email, or the old
// hash of an existing member whose address changes). Callers hold mu.
func (s *Server) upsert(r *http.Request, hash string, in memberInput) (*member, string, *refusal) {
	if !emailPattern.MatchString(in.email) {
		return nil, "", invalidResource(in.email + " looks fake or invalid, please enter a real email address.")
	}
	want := subscriberHash(in.email)
	cur := s.members[hash]
	if hash != want {
		if cur == nil {
			s.violation(r, "member hash %s is not md5(lowercase(email_address)) and no member has it", hash)
			return nil, "", invalidResource("The resource submitted could not be validated: the subscriber hash does not match email_address.")
		}
		if s.members[want] != nil {
			return nil, "", &refusal{http.StatusBadRequest, "Member Exists",
				in.email + " is already a list member. Use PUT to insert or update list members."}
		}
	}
	if cur != nil && in.status != "" && blocked(cur.status) && subscribing(in.status) {
		s.violation(r, "status %q would re-subscribe a member who is %s", in.status, cur.status)
		return nil, "", complianceState(in.email)
	}
	if cur != nil && cur.archived && blocked(cur.status) && subscribing(firstOf(in.status, in.statusIfNew)) {
		return nil, "", complianceState(in.email)
	}

	if hash != want { // move the member to its new address
		delete(s.members, hash)
		s.members[want] = cur
	}
	switch {
	case cur == nil:
		cur = &member{status: firstOf(in.status, in.statusIfNew), merge: map[string]string{}, tags: map[string]bool{}}
		s.members[want] = cur
	case cur.archived:
		cur.archived = false
		cur.status = firstOf(in.status, in.statusIfNew)
	case in.status != "":
		cur.status = in.status
	}
	cur.email = in.email
	for k, v := range in.merge {
		cur.merge[k] = v
	}
	return cur, want, nil
}

// firstOf returns the first non-empty status.
func firstOf(a, b ports.SubscriberStatus) ports.SubscriberStatus {
	if a != "" {
		return a
	}
	return b
}

// wire is a member as Mailchimp answers it.
func (s *Server) wire(hash string, m *member) map[string]any {
	status := m.status
	if m.archived {
		status = ports.SubscriberArchived
	}
	tags := []map[string]any{}
	for i, t := range m.activeTags() {
		tags = append(tags, map[string]any{"id": i + 1, "name": t})
	}
	return map[string]any{
		"id":              hash,
		"email_address":   m.email,
		"unique_email_id": hash[:10],
		"status":          status,
		"merge_fields":    maps.Clone(m.merge), // encoded after the lock is released
		"tags_count":      len(tags),
		"tags":            tags,
		"list_id":         s.listID,
	}
}

func (s *Server) getMember(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hash, ref := s.listAndHash(r, true)
	var body map[string]any
	if ref == nil {
		if m := s.members[hash]; m != nil {
			body = s.wire(hash, m)
		} else {
			ref = notFound()
		}
	}
	s.mu.Unlock()
	if ref != nil {
		s.refuse(w, ref)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) putMember(w http.ResponseWriter, r *http.Request) {
	raw := readBody(r)
	s.mu.Lock()
	body, ref := func() (map[string]any, *refusal) {
		hash, ref := s.listAndHash(r, true)
		if ref != nil {
			return nil, ref
		}
		fields, ref := s.object(r, raw, memberFields, "member body")
		if ref != nil {
			return nil, ref
		}
		if _, found := fields["tags"]; found {
			s.violation(r, "PUT member takes no tags (they are ignored): use the tags endpoint")
		}
		in, ref := s.parseMember(r, fields, "member body", true)
		if ref != nil {
			return nil, ref
		}
		m, newHash, ref := s.upsert(r, hash, in)
		if ref != nil {
			return nil, ref
		}
		return s.wire(newHash, m), nil
	}()
	s.mu.Unlock()
	if ref != nil {
		s.refuse(w, ref)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) deleteMember(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hash, ref := s.listAndHash(r, true)
	if ref == nil {
		if m := s.members[hash]; m != nil && !m.archived {
			m.archived = true
		} else {
			ref = notFound()
		}
	}
	s.mu.Unlock()
	if ref != nil {
		s.refuse(w, ref)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deletePermanently erases the member (archived or not): it is gone.
func (s *Server) deletePermanently(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hash, ref := s.listAndHash(r, true)
	if ref == nil {
		if _, ok := s.members[hash]; ok {
			delete(s.members, hash)
		} else {
			ref = notFound()
		}
	}
	s.mu.Unlock()
	if ref != nil {
		s.refuse(w, ref)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) postTags(w http.ResponseWriter, r *http.Request) {
	raw := readBody(r)
	s.mu.Lock()
	ref := func() *refusal {
		hash, ref := s.listAndHash(r, true)
		if ref != nil {
			return ref
		}
		fields, ref := s.object(r, raw, tagsFields, "tags body")
		if ref != nil {
			return ref
		}
		var items []map[string]json.RawMessage
		if err := json.Unmarshal(fields["tags"], &items); err != nil || items == nil {
			s.violation(r, "tags body: tags must be an array of objects")
			return invalidResource("The resource submitted could not be validated: tags is required.")
		}
		set := make(map[string]bool, len(items))
		for i, it := range items {
			what := fmt.Sprintf("tags[%d]", i)
			s.checkFields(r, it, tagFields, what)
			name, _, okName := stringField(it, "name")
			status, _, okStatus := stringField(it, "status")
			switch {
			case !okName || strings.TrimSpace(name) == "" || len(name) > 100:
				s.violation(r, "%s: name must be a non-empty string of at most 100 characters", what)
				return invalidResource("The resource submitted could not be validated: tag name is invalid.")
			case !okStatus || (status != "active" && status != "inactive"):
				s.violation(r, "%s: status must be \"active\" or \"inactive\"", what)
				return invalidResource("The resource submitted could not be validated: tag status is invalid.")
			}
			set[name] = status == "active"
		}
		m := s.members[hash]
		if m == nil || m.archived {
			return notFound()
		}
		for name, on := range set {
			m.tags[name] = on
		}
		return nil
	}()
	s.mu.Unlock()
	if ref != nil {
		s.refuse(w, ref)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) postTrigger(w http.ResponseWriter, r *http.Request) {
	raw := readBody(r)
	s.mu.Lock()
	ref := func() *refusal {
		fields, ref := s.object(r, raw, triggerFields, "trigger body")
		if ref != nil {
			return ref
		}
		email, present, ok := stringField(fields, "email_address")
		if !present || !ok || strings.TrimSpace(email) == "" {
			s.violation(r, "trigger body: email_address is required")
			return invalidResource("The resource submitted could not be validated: email_address is required.")
		}
		if m := s.members[subscriberHash(email)]; m == nil || m.archived {
			return notFound()
		}
		s.triggers = append(s.triggers, Trigger{JourneyID: r.PathValue("journey"), StepID: r.PathValue("step"), Email: email})
		return nil
	}()
	s.mu.Unlock()
	if ref != nil {
		s.refuse(w, ref)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// batchError is one member the batch refused.
type batchError struct {
	EmailAddress string `json:"email_address"`
	Error        string `json:"error"`
	ErrorCode    string `json:"error_code"`
}

func (s *Server) postBatch(w http.ResponseWriter, r *http.Request) {
	raw := readBody(r)
	s.mu.Lock()
	body, ref := s.batch(r, raw)
	s.mu.Unlock()
	if ref != nil {
		s.refuse(w, ref)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// batch applies a batch body and returns the response body; s.mu is held.
func (s *Server) batch(r *http.Request, raw []byte) (map[string]any, *refusal) {
	if _, ref := s.listAndHash(r, false); ref != nil {
		return nil, ref
	}
	fields, ref := s.object(r, raw, batchFields, "batch body")
	if ref != nil {
		return nil, ref
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(fields["members"], &items); err != nil || items == nil {
		s.violation(r, "batch body: members must be an array of objects")
		return nil, invalidResource("The resource submitted could not be validated: members is required.")
	}
	if len(items) > maxBatch {
		s.violation(r, "batch body: %d members, at most %d", len(items), maxBatch)
		return nil, invalidResource(fmt.Sprintf("The resource submitted could not be validated: members has more than %d items.", maxBatch))
	}
	var updateExisting bool
	if rawUE, found := fields["update_existing"]; found {
		if err := json.Unmarshal(rawUE, &updateExisting); err != nil {
			s.violation(r, "batch body: update_existing is not a boolean")
			return nil, invalidResource("The resource submitted could not be validated: update_existing is invalid.")
		}
	}
	created, updated, errs := []map[string]any{}, []map[string]any{}, []batchError{}
	seen := map[string]bool{}
	for i, it := range items {
		m, isNew, bErr := s.batchMember(r, it, fmt.Sprintf("members[%d]", i), updateExisting, seen)
		switch {
		case bErr != nil:
			errs = append(errs, *bErr)
		case isNew:
			created = append(created, m)
		default:
			updated = append(updated, m)
		}
	}
	return map[string]any{
		"new_members":     created,
		"updated_members": updated,
		"errors":          errs,
		"total_created":   len(created),
		"total_updated":   len(updated),
		"error_count":     len(errs),
	}, nil
}

// batchMember applies one member of a batch (what names it); s.mu is held.
// It returns the member as the response shows it and whether it is new, or
// the error the batch reports for it. seen holds the hashes of the members
// before it in the batch.
func (s *Server) batchMember(r *http.Request, it map[string]json.RawMessage, what string, updateExisting bool, seen map[string]bool) (map[string]any, bool, *batchError) {
	s.checkFields(r, it, batchMemberFields, what)
	in, ref := s.parseMember(r, it, what, false)
	if ref != nil {
		email, _, _ := stringField(it, "email_address")
		return nil, false, &batchError{EmailAddress: email, Error: ref.detail, ErrorCode: "ERROR_GENERIC"}
	}
	hash := subscriberHash(in.email)
	if seen[hash] {
		return nil, false, &batchError{EmailAddress: in.email, Error: in.email + " is a duplicate in this batch.", ErrorCode: "ERROR_DUPLICATE"}
	}
	seen[hash] = true
	existing := s.members[hash]
	if existing != nil && !existing.archived && !updateExisting {
		return nil, false, &batchError{EmailAddress: in.email, Error: in.email + " is already a list member, do you want to update? please provide update_existing:true in the request body", ErrorCode: "ERROR_CONTACT_EXISTS"}
	}
	m, _, ref := s.upsert(r, hash, in)
	if ref != nil {
		return nil, false, &batchError{EmailAddress: in.email, Error: ref.detail, ErrorCode: "ERROR_GENERIC"}
	}
	return s.wire(hash, m), existing == nil, nil
}

// readBody returns the body ServeHTTP already read.
func readBody(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	return b
}
