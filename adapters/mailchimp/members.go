package mailchimp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/womendefiningai/platform/ports"
)

// Wire types. A member body has no `status` field at all, so the client
// cannot send one: consent stays Mailchimp's.

// memberBody is the body of PUT /lists/{list}/members/{hash}, and one member
// of POST /lists/{list}.
type memberBody struct {
	EmailAddress string      `json:"email_address"`
	StatusIfNew  string      `json:"status_if_new"`
	MergeFields  mergeFields `json:"merge_fields"`
}

// mergeFields are the audience's merge fields the platform owns. Empty names
// are left out, so a name a subscriber typed into a Mailchimp form is not
// blanked; TIER is always sent, empty meaning no tier.
type mergeFields struct {
	FirstName string `json:"FNAME,omitempty"`
	LastName  string `json:"LNAME,omitempty"`
	Tier      string `json:"TIER"`
}

// memberResponse is the part of a member answer the client reads.
type memberResponse struct {
	EmailAddress string `json:"email_address"`
	Status       string `json:"status"`
}

type tagsBody struct {
	Tags []tagBody `json:"tags"`
}

type tagBody struct {
	Name   string `json:"name"`
	Status string `json:"status"` // "active" or "inactive"
}

type triggerBody struct {
	EmailAddress string `json:"email_address"`
}

type batchBody struct {
	Members        []memberBody `json:"members"`
	UpdateExisting bool         `json:"update_existing"`
}

type batchResponse struct {
	NewMembers     []memberResponse `json:"new_members"`
	UpdatedMembers []memberResponse `json:"updated_members"`
	Errors         []batchError     `json:"errors"`
}

type batchError struct {
	EmailAddress string `json:"email_address"`
	Error        string `json:"error"`
	ErrorCode    string `json:"error_code"`
}

// statusIfNew is the status a new member gets. Lists that require double
// opt-in turn it into pending themselves.
const statusIfNew = "subscribed"

func newMemberBody(s ports.Subscriber) memberBody {
	return memberBody{
		EmailAddress: strings.TrimSpace(s.Email),
		StatusIfNew:  statusIfNew,
		MergeFields:  mergeFields{FirstName: s.FirstName, LastName: s.LastName, Tier: s.Tier},
	}
}

// parseStatus maps Mailchimp's member status to the port's.
func parseStatus(s string) (ports.SubscriberStatus, error) {
	switch st := ports.SubscriberStatus(s); st {
	case ports.SubscriberSubscribed, ports.SubscriberUnsubscribed, ports.SubscriberCleaned,
		ports.SubscriberPending, ports.SubscriberTransactional, ports.SubscriberArchived:
		return st, nil
	default:
		return "", fmt.Errorf("unknown member status %q", s)
	}
}

// Upsert creates or updates s with PUT /lists/{list}/members/{hash}: a new
// address gets status_if_new "subscribed", an existing one keeps its status
// and gets the merge fields FNAME, LNAME (when not empty) and TIER.
// s.Tags are not sent (the call takes none): use SetTags.
//
// With previousEmail set to another address, the member under the old
// address (looked up with GET) is moved by a PUT to the OLD hash carrying
// the new email_address; when there is no such member it is an ordinary
// upsert of s.Email, so a retried move is harmless.
//
// The status is the one Mailchimp answered. A "Member In Compliance State"
// answer gives SubscriberPending and no error.
func (c *Client) Upsert(ctx context.Context, s ports.Subscriber, previousEmail string) (ports.SubscriberResult, error) {
	const op = "upsert member"
	if !c.configured {
		return ports.SubscriberResult{}, ports.ErrNotConfigured
	}
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return ports.SubscriberResult{}, invalid(op, "empty email address")
	}
	hash, err := c.moveFrom(ctx, subscriberHash(email), previousEmail)
	if err != nil {
		return ports.SubscriberResult{}, c.fail(op+": look up previous address", err)
	}

	var m memberResponse
	if err := c.do(ctx, http.MethodPut, c.memberPath(hash), newMemberBody(s), &m); err != nil {
		var apiErr *Error
		if errors.As(err, &apiErr) && apiErr.ComplianceState() {
			return ports.SubscriberResult{Email: email, Status: ports.SubscriberPending}, nil
		}
		return ports.SubscriberResult{}, c.fail(op, err)
	}
	st, err := parseStatus(m.Status)
	if err != nil {
		return ports.SubscriberResult{}, ports.Permanent(fmt.Errorf("mailchimp: %s: %w", op, err))
	}
	return ports.SubscriberResult{Email: email, Status: st}, nil
}

// moveFrom decides where an upsert of the member under hash goes when the
// person's address was previousEmail: the previous address's member, which
// the upsert then moves to the new address (Mailchimp keeps its history and
// consent), when it exists and the new address is not a member yet. When
// both are members (the person had subscribed the new address on their
// own, or a move is delivered again after someone took the old address),
// the new one is updated and the old one left alone: a move onto an
// existing member is refused with "Member Exists", and the old address may
// not be this person's any more.
func (c *Client) moveFrom(ctx context.Context, hash, previousEmail string) (string, error) {
	previousEmail = strings.TrimSpace(previousEmail)
	if previousEmail == "" {
		return hash, nil
	}
	old := subscriberHash(previousEmail)
	if old == hash {
		return hash, nil
	}
	found, err := c.memberExists(ctx, old)
	if err != nil || !found {
		return hash, err
	}
	taken, err := c.memberExists(ctx, hash)
	if err != nil || taken {
		return hash, err
	}
	return old, nil
}

// Archive archives the member with DELETE /lists/{list}/members/{hash}:
// Mailchimp sends it nothing more and keeps the contact. An unknown or
// archived member is done.
func (c *Client) Archive(ctx context.Context, email string) error {
	return c.removeMember(ctx, "archive member", email, http.MethodDelete, "")
}

// removeMember sends method to the member's path plus suffix; an unknown
// member (404) counts as done.
func (c *Client) removeMember(ctx context.Context, op, email, method, suffix string) error {
	if !c.configured {
		return ports.ErrNotConfigured
	}
	if strings.TrimSpace(email) == "" {
		return invalid(op, "empty email address")
	}
	if err := c.do(ctx, method, c.memberPath(subscriberHash(email))+suffix, nil, nil); err != nil && !isNotFound(err) {
		return c.fail(op, err)
	}
	return nil
}

func isNotFound(err error) bool {
	var apiErr *Error
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound
}

// memberExists reports whether the list has a member (archived ones
// included) under hash.
func (c *Client) memberExists(ctx context.Context, hash string) (bool, error) {
	path := c.memberPath(hash) + "?" + url.Values{"fields": {"email_address,status"}}.Encode()
	err := c.do(ctx, http.MethodGet, path, nil, nil)
	var apiErr *Error
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
		return false, nil
	default:
		return false, err
	}
}

// SetTags sets each tag active (true) or inactive (false) with
// POST /lists/{list}/members/{hash}/tags, tags sorted by name. No tags, no
// call. A member not on the list is a permanent error.
func (c *Client) SetTags(ctx context.Context, email string, tags map[string]bool) error {
	const op = "set tags"
	if !c.configured {
		return ports.ErrNotConfigured
	}
	if strings.TrimSpace(email) == "" {
		return invalid(op, "empty email address")
	}
	if len(tags) == 0 {
		return nil
	}
	body := tagsBody{Tags: make([]tagBody, 0, len(tags))}
	for name, active := range tags {
		if strings.TrimSpace(name) == "" {
			return invalid(op, "empty tag name")
		}
		st := "inactive"
		if active {
			st = "active"
		}
		body.Tags = append(body.Tags, tagBody{Name: name, Status: st})
	}
	slices.SortFunc(body.Tags, func(a, b tagBody) int { return strings.Compare(a.Name, b.Name) })
	if err := c.do(ctx, http.MethodPost, c.memberPath(subscriberHash(email))+"/tags", body, nil); err != nil {
		return c.fail(op, err)
	}
	return nil
}

// TriggerJourney starts a Customer Journey step for the address with
// POST /customer-journeys/journeys/{journey}/steps/{step}/actions/trigger.
// The ids come from the journey's "API" starting point.
func (c *Client) TriggerJourney(ctx context.Context, journeyID, stepID, email string) error {
	const op = "trigger journey"
	if !c.configured {
		return ports.ErrNotConfigured
	}
	if journeyID == "" || stepID == "" {
		return invalid(op, "empty journey or step id")
	}
	email = strings.TrimSpace(email)
	if email == "" {
		return invalid(op, "empty email address")
	}
	path := "/customer-journeys/journeys/" + url.PathEscape(journeyID) +
		"/steps/" + url.PathEscape(stepID) + "/actions/trigger"
	if err := c.do(ctx, http.MethodPost, path, triggerBody{EmailAddress: email}, nil); err != nil {
		return c.fail(op, err)
	}
	return nil
}

// BatchUpsert upserts subs with POST /lists/{list}, up to 500 members a
// call, one call after the other, with update_existing true and, like
// Upsert, status_if_new and never status: existing members keep their
// consent. It returns one result per sub, in order: the status Mailchimp
// answered, or Error set (emails masked) for a member it refused. A member
// refused for its compliance state is SubscriberPending, as in Upsert. An
// address given twice is sent once, its last data winning; both get the
// result. s.Tags are not sent: use SetTags.
//
// A failed call fails the whole batch (nil results); upserting again is
// harmless, so the caller retries it all.
func (c *Client) BatchUpsert(ctx context.Context, subs []ports.Subscriber) ([]ports.SubscriberResult, error) {
	const op = "batch upsert members"
	if !c.configured {
		return nil, ports.ErrNotConfigured
	}
	results := make([]ports.SubscriberResult, len(subs))
	// The members to send, one per address, the last data winning.
	index := make(map[string]int) // normalized address → position in members
	var members []memberBody
	for i, s := range subs {
		results[i].Email = strings.TrimSpace(s.Email)
		key := normalizeEmail(s.Email)
		if key == "" {
			results[i].Error = "empty email address"
			continue
		}
		if j, ok := index[key]; ok {
			members[j] = newMemberBody(s)
			continue
		}
		index[key] = len(members)
		members = append(members, newMemberBody(s))
	}

	answers := make(map[string]ports.SubscriberResult, len(members))
	for chunk := range slices.Chunk(members, maxBatch) {
		var resp batchResponse
		err := c.do(ctx, http.MethodPost, "/lists/"+url.PathEscape(c.list), batchBody{Members: chunk, UpdateExisting: true}, &resp)
		if err != nil {
			return nil, c.fail(op, err)
		}
		for _, m := range slices.Concat(resp.NewMembers, resp.UpdatedMembers) {
			st, err := parseStatus(m.Status)
			if err != nil {
				answers[normalizeEmail(m.EmailAddress)] = ports.SubscriberResult{Error: err.Error()}
				continue
			}
			answers[normalizeEmail(m.EmailAddress)] = ports.SubscriberResult{Status: st}
		}
		for _, e := range resp.Errors {
			answers[normalizeEmail(e.EmailAddress)] = c.batchErrorResult(e)
		}
	}

	for i := range results {
		if results[i].Error != "" {
			continue
		}
		a, ok := answers[normalizeEmail(results[i].Email)]
		if !ok {
			results[i].Error = "mailchimp returned no result for this member"
			continue
		}
		results[i].Status, results[i].Error = a.Status, a.Error
	}
	return results, nil
}

// batchErrorResult is the result for a member the batch refused.
func (c *Client) batchErrorResult(e batchError) ports.SubscriberResult {
	msg := c.redact(e.Error)
	if strings.Contains(strings.ToLower(msg), "compliance state") {
		return ports.SubscriberResult{Status: ports.SubscriberPending}
	}
	if e.ErrorCode != "" {
		msg = e.ErrorCode + ": " + msg
	}
	return ports.SubscriberResult{Error: msg}
}

// DeletePermanently erases the member for good with POST
// /lists/{list}/members/{hash}/actions/delete-permanent (Mailchimp's
// erasure; an archive, DELETE /lists/{list}/members/{hash}, would keep the
// contact). An unknown member is done.
func (c *Client) DeletePermanently(ctx context.Context, email string) error {
	return c.removeMember(ctx, "delete member permanently", email, http.MethodPost, "/actions/delete-permanent")
}
