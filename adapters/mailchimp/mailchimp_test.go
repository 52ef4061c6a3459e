package mailchimp_test

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/mailchimp"
	"github.com/womendefiningai/platform/adapters/mailchimp/mailchimpfake"
	"github.com/womendefiningai/platform/ports"
)

const (
	testKey  = "0123456789abcdef0123456789abcdef-us6"
	testList = "a1b2c3d4e5"
)

func hashOf(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

// newFake starts a fake and a client on it; the test fails if the client
// breaks the contract.
func newFake(t *testing.T, mod ...func(*mailchimp.Config)) (*mailchimpfake.Server, *mailchimp.Client) {
	t.Helper()
	fake := mailchimpfake.New(t, testKey, testList)
	t.Cleanup(func() { fake.AssertNoViolations(t) })
	return fake, newClient(t, fake, mod...)
}

func newClient(t *testing.T, fake *mailchimpfake.Server, mod ...func(*mailchimp.Config)) *mailchimp.Client {
	t.Helper()
	cfg := mailchimp.Config{APIKey: testKey, ListID: testList, APIURL: fake.URL()}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := mailchimp.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// body decodes a recorded JSON body.
func body(t *testing.T, c mailchimpfake.Call) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(c.Body, &m); err != nil {
		t.Fatalf("%s %s: body %q is not a JSON object: %v", c.Method, c.Path, c.Body, err)
	}
	return m
}

func TestUpsertSendsTheContract(t *testing.T) {
	t.Parallel()
	fake, c := newFake(t)
	ctx := context.Background()

	res, err := c.Upsert(ctx, ports.Subscriber{Email: "  Jane.Doe@Example.org ", FirstName: "Jane", LastName: "Doe", Tier: "pro"}, "")
	if err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	if res.Status != ports.SubscriberSubscribed || res.Email != "Jane.Doe@Example.org" {
		t.Errorf("result = %+v, want Jane.Doe@Example.org subscribed", res)
	}

	calls := fake.Calls()
	if len(calls) != 1 {
		t.Fatalf("got %d calls, want 1: %+v", len(calls), calls)
	}
	call := calls[0]
	wantPath := "/lists/" + testList + "/members/" + hashOf("jane.doe@example.org")
	if call.Method != http.MethodPut || call.Path != wantPath {
		t.Errorf("call = %s %s, want PUT %s", call.Method, call.Path, wantPath)
	}
	if !call.Authorized {
		t.Error("the call did not carry the key as HTTP Basic auth")
	}
	want := map[string]any{
		"email_address": "Jane.Doe@Example.org",
		"status_if_new": "subscribed",
		"merge_fields":  map[string]any{"FNAME": "Jane", "LNAME": "Doe", "TIER": "pro"},
	}
	if got := body(t, call); !reflect.DeepEqual(got, want) {
		t.Errorf("body = %v, want %v (and never a status)", got, want)
	}

	m, ok := fake.Member("jane.doe@example.org")
	if !ok || m.Status != ports.SubscriberSubscribed || m.MergeFields["TIER"] != "pro" || m.MergeFields["FNAME"] != "Jane" {
		t.Errorf("fake member = %+v, %v", m, ok)
	}
}

func TestRequestsCarryTheKeyAsBasicAuth(t *testing.T) {
	t.Parallel()
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	c, err := mailchimp.New(mailchimp.Config{APIKey: testKey, ListID: testList, APIURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeletePermanently(context.Background(), "a@example.org"); err != nil {
		t.Fatal(err)
	}
	scheme, cred, _ := strings.Cut(auth, " ")
	raw, _ := base64.StdEncoding.DecodeString(cred)
	_, pass, _ := strings.Cut(string(raw), ":")
	if scheme != "Basic" || pass != testKey {
		t.Errorf("Authorization = %q, want Basic with the key as password", auth)
	}
}

func TestWrongKeyIsPermanent(t *testing.T) {
	t.Parallel()
	fake := mailchimpfake.New(t, testKey, testList)
	c, err := mailchimp.New(mailchimp.Config{APIKey: "ffffffffffffffffffffffffffffffff-us6", ListID: testList, APIURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Upsert(context.Background(), ports.Subscriber{Email: "a@example.org"}, "")
	var apiErr *mailchimp.Error
	if !ports.IsPermanent(err) || !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a permanent 401 *mailchimp.Error", err)
	}
	if strings.Contains(err.Error(), "ffffffff") {
		t.Errorf("error %q carries the key", err)
	}
	if _, ok := fake.Member("a@example.org"); ok {
		t.Error("an unauthorized upsert created a member")
	}
}

func TestUpsertNeverChangesConsent(t *testing.T) {
	t.Parallel()
	for _, st := range []ports.SubscriberStatus{ports.SubscriberUnsubscribed, ports.SubscriberCleaned, ports.SubscriberPending, ports.SubscriberTransactional} {
		t.Run(string(st), func(t *testing.T) {
			t.Parallel()
			fake, c := newFake(t)
			fake.SetStatus("gone@example.org", st)

			res, err := c.Upsert(context.Background(), ports.Subscriber{Email: "gone@example.org", FirstName: "G", Tier: "free"}, "")
			if err != nil {
				t.Fatalf("Upsert: %v", err)
			}
			if res.Status != st {
				t.Errorf("result status = %s, want %s", res.Status, st)
			}
			m, _ := fake.Member("gone@example.org")
			if m.Status != st {
				t.Errorf("fake member is %s after Upsert, want %s still", m.Status, st)
			}
			if m.MergeFields["TIER"] != "free" {
				t.Errorf("merge fields not updated: %v", m.MergeFields)
			}
		})
	}
}

func TestUpsertComplianceStateIsPending(t *testing.T) {
	t.Parallel()
	fake, c := newFake(t)
	// An address that unsubscribed and was archived cannot be re-added:
	// Mailchimp answers 400 "Member In Compliance State".
	fake.SetStatus("left@example.org", ports.SubscriberUnsubscribed)
	fake.SetStatus("left@example.org", ports.SubscriberArchived)

	res, err := c.Upsert(context.Background(), ports.Subscriber{Email: "left@example.org"}, "")
	if err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	if res.Status != ports.SubscriberPending {
		t.Errorf("status = %s, want pending", res.Status)
	}
	if m, _ := fake.Member("left@example.org"); m.Status != ports.SubscriberUnsubscribed || !m.Archived {
		t.Errorf("fake member = %+v, want still unsubscribed and archived", m)
	}
}

func TestUpsertMovesAChangedEmail(t *testing.T) {
	t.Parallel()
	fake, c := newFake(t)
	ctx := context.Background()
	if _, err := c.Upsert(ctx, ports.Subscriber{Email: "old@example.org", Tier: "pro"}, ""); err != nil {
		t.Fatal(err)
	}
	fake.SetStatus("old@example.org", ports.SubscriberUnsubscribed)
	before := fake.CallCount()

	res, err := c.Upsert(ctx, ports.Subscriber{Email: "New@example.org", Tier: "pro"}, "old@example.org")
	if err != nil {
		t.Fatalf("Upsert move: %v", err)
	}
	if res.Status != ports.SubscriberUnsubscribed {
		t.Errorf("status = %s, want the old member's unsubscribed", res.Status)
	}
	puts := slices.DeleteFunc(fake.Calls()[before:], func(c mailchimpfake.Call) bool { return c.Method != http.MethodPut })
	if len(puts) != 1 || puts[0].Path != "/lists/"+testList+"/members/"+hashOf("old@example.org") {
		t.Fatalf("PUTs = %+v, want one to the old hash", puts)
	}
	if got := body(t, puts[0])["email_address"]; got != "New@example.org" {
		t.Errorf("email_address = %v, want the new address", got)
	}
	if _, ok := fake.Member("old@example.org"); ok {
		t.Error("the old address is still a member")
	}
	if m, ok := fake.Member("new@example.org"); !ok || m.Status != ports.SubscriberUnsubscribed || m.MergeFields["TIER"] != "pro" {
		t.Errorf("new member = %+v, %v; want the moved, still unsubscribed member", m, ok)
	}
	if n := len(fake.Members()); n != 1 {
		t.Errorf("fake has %d members, want 1", n)
	}

	// A retried move finds no old member: an ordinary upsert, still one member.
	if _, err := c.Upsert(ctx, ports.Subscriber{Email: "New@example.org", Tier: "pro"}, "old@example.org"); err != nil {
		t.Fatalf("retried move: %v", err)
	}
	if n := len(fake.Members()); n != 1 {
		t.Errorf("after a retried move the fake has %d members, want 1", n)
	}
}

// TestUpsertMoveOntoAnExistingMemberUpdatesItAndLeavesThePrevious: when
// the new address is already a member, a move is refused by the list
// ("Member Exists"); the upsert updates the new member instead, and leaves
// the previous address alone: it may be someone else's by now (a move
// delivered again after another person subscribed it).
func TestUpsertMoveOntoAnExistingMemberUpdatesItAndLeavesThePrevious(t *testing.T) {
	t.Parallel()
	fake, c := newFake(t)
	ctx := context.Background()
	for _, s := range []ports.Subscriber{{Email: "old@example.org", FirstName: "Bea"}, {Email: "new@example.org", Tier: "community"}} {
		if _, err := c.Upsert(ctx, s, ""); err != nil {
			t.Fatal(err)
		}
	}
	res, err := c.Upsert(ctx, ports.Subscriber{Email: "new@example.org", FirstName: "Augusta", Tier: "pro"}, "old@example.org")
	if err != nil || res.Email != "new@example.org" || res.Status != ports.SubscriberSubscribed {
		t.Fatalf("Upsert = %+v, %v; want the new member updated", res, err)
	}
	if m, ok := fake.Member("new@example.org"); !ok || m.Archived || m.MergeFields["FNAME"] != "Augusta" || m.MergeFields["TIER"] != "pro" {
		t.Errorf("new member = %+v, %v; want it updated", m, ok)
	}
	if m, ok := fake.Member("old@example.org"); !ok || m.Archived || m.MergeFields["FNAME"] != "Bea" {
		t.Errorf("old member = %+v, %v; want it untouched", m, ok)
	}
	fake.AssertNoViolations(t)
}

func TestArchiveStopsMailAndKeepsTheContact(t *testing.T) {
	t.Parallel()
	fake, c := newFake(t)
	ctx := context.Background()
	if _, err := c.Upsert(ctx, ports.Subscriber{Email: "ada@example.org"}, ""); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second finds it archived: not an error
		if err := c.Archive(ctx, "Ada@example.org"); err != nil {
			t.Fatalf("Archive: %v", err)
		}
	}
	if m, ok := fake.Member("ada@example.org"); !ok || !m.Archived || m.Status != ports.SubscriberSubscribed {
		t.Errorf("member = %+v, %v; want it archived, its consent kept", m, ok)
	}
	if err := c.Archive(ctx, "nobody@example.org"); err != nil {
		t.Errorf("Archive of an unknown address: %v", err)
	}
	if err := c.Archive(ctx, " "); err == nil || !ports.IsPermanent(err) {
		t.Errorf("Archive of an empty address: %v, want a permanent error", err)
	}
	fake.AssertNoViolations(t)
}

func TestUpsertWithAnUnknownPreviousEmailCreates(t *testing.T) {
	t.Parallel()
	fake, c := newFake(t)
	if _, err := c.Upsert(context.Background(), ports.Subscriber{Email: "b@example.org"}, "never-synced@example.org"); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	if m, ok := fake.Member("b@example.org"); !ok || m.Status != ports.SubscriberSubscribed {
		t.Errorf("member = %+v, %v", m, ok)
	}
}

func TestSetTags(t *testing.T) {
	t.Parallel()
	fake, c := newFake(t)
	ctx := context.Background()
	if _, err := c.Upsert(ctx, ports.Subscriber{Email: "t@example.org"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.SetTags(ctx, "T@example.org", map[string]bool{"past_due": true, "alumni": false, "active": true, "member": true}); err != nil {
		t.Fatalf("SetTags: %v", err)
	}
	if err := c.SetTags(ctx, "t@example.org", map[string]bool{"past_due": false, "alumni": true}); err != nil {
		t.Fatalf("SetTags: %v", err)
	}

	calls := fake.Calls()
	first := calls[1]
	if first.Method != http.MethodPost || first.Path != "/lists/"+testList+"/members/"+hashOf("t@example.org")+"/tags" {
		t.Errorf("call = %s %s", first.Method, first.Path)
	}
	want := `{"tags":[{"name":"active","status":"active"},{"name":"alumni","status":"inactive"},{"name":"member","status":"active"},{"name":"past_due","status":"active"}]}`
	if string(first.Body) != want {
		t.Errorf("body = %s\nwant   %s (sorted by name)", first.Body, want)
	}
	if m, _ := fake.Member("t@example.org"); !reflect.DeepEqual(m.Tags, []string{"active", "alumni", "member"}) {
		t.Errorf("active tags = %v", m.Tags)
	}

	n := fake.CallCount()
	if err := c.SetTags(ctx, "t@example.org", nil); err != nil || fake.CallCount() != n {
		t.Errorf("no tags: err %v, %d calls made, want none", err, fake.CallCount()-n)
	}
}

func TestTriggerJourney(t *testing.T) {
	t.Parallel()
	fake, c := newFake(t)
	ctx := context.Background()
	if _, err := c.Upsert(ctx, ports.Subscriber{Email: "j@example.org"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.TriggerJourney(ctx, "123", "456", "j@example.org"); err != nil {
		t.Fatalf("TriggerJourney: %v", err)
	}
	last := fake.Calls()[fake.CallCount()-1]
	if last.Method != http.MethodPost || last.Path != "/customer-journeys/journeys/123/steps/456/actions/trigger" || string(last.Body) != `{"email_address":"j@example.org"}` {
		t.Errorf("call = %s %s %s", last.Method, last.Path, last.Body)
	}
	if got := fake.Triggers(); !reflect.DeepEqual(got, []mailchimpfake.Trigger{{JourneyID: "123", StepID: "456", Email: "j@example.org"}}) {
		t.Errorf("triggers = %+v", got)
	}
}

func TestBatchUpsertChunksAndKeepsConsent(t *testing.T) {
	t.Parallel()
	fake, c := newFake(t)
	subs := make([]ports.Subscriber, 1200)
	for i := range subs {
		subs[i] = ports.Subscriber{Email: fmt.Sprintf("m%04d@example.org", i), FirstName: "M", Tier: "pro"}
	}
	fake.SetStatus("m0007@example.org", ports.SubscriberUnsubscribed)
	fake.SetStatus("m0900@example.org", ports.SubscriberCleaned)
	fake.SetStatus("m0600@example.org", ports.SubscriberUnsubscribed)
	fake.SetStatus("m0600@example.org", ports.SubscriberArchived) // compliance state
	subs[1100].Email = "jane.doe@example"                         // Mailchimp refuses it, naming it

	results, err := c.BatchUpsert(context.Background(), subs)
	if err != nil {
		t.Fatalf("BatchUpsert: %v", err)
	}
	if len(results) != len(subs) {
		t.Fatalf("%d results, want %d", len(results), len(subs))
	}

	calls := fake.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d calls, want 3", len(calls))
	}
	for i, call := range calls {
		if call.Method != http.MethodPost || call.Path != "/lists/"+testList {
			t.Errorf("call %d = %s %s", i, call.Method, call.Path)
		}
		b := body(t, call)
		if b["update_existing"] != true {
			t.Errorf("call %d: update_existing = %v", i, b["update_existing"])
		}
		members, _ := b["members"].([]any)
		if want := []int{500, 500, 200}[i]; len(members) != want {
			t.Errorf("call %d has %d members, want %d", i, len(members), want)
		}
		for _, m := range members {
			m := m.(map[string]any)
			if _, has := m["status"]; has || m["status_if_new"] != "subscribed" || m["email_address"] == "" {
				t.Fatalf("call %d member %v: want email_address, status_if_new subscribed and no status", i, m)
			}
		}
	}

	for i, r := range results {
		if r.Email != subs[i].Email {
			t.Fatalf("result %d is for %q, want %q", i, r.Email, subs[i].Email)
		}
		want := ports.SubscriberSubscribed
		switch i {
		case 7:
			want = ports.SubscriberUnsubscribed
		case 900:
			want = ports.SubscriberCleaned
		case 600:
			want = ports.SubscriberPending
		case 1100:
			if r.Error == "" || r.Status != "" || strings.Contains(r.Error, "jane.doe") {
				t.Errorf("invalid address: result %+v, want an error without the address", r)
			}
			continue
		}
		if r.Status != want || r.Error != "" {
			t.Errorf("result %d = %+v, want %s", i, r, want)
		}
	}
	for email, want := range map[string]ports.SubscriberStatus{
		"m0007@example.org": ports.SubscriberUnsubscribed,
		"m0900@example.org": ports.SubscriberCleaned,
		"m0008@example.org": ports.SubscriberSubscribed,
		"m1199@example.org": ports.SubscriberSubscribed,
	} {
		if m, _ := fake.Member(email); m.Status != want || m.MergeFields["TIER"] != "pro" {
			t.Errorf("%s = %+v, want %s with merge fields", email, m, want)
		}
	}
}

func TestBatchUpsertSendsDuplicatesOnce(t *testing.T) {
	t.Parallel()
	fake, c := newFake(t)
	results, err := c.BatchUpsert(context.Background(), []ports.Subscriber{
		{Email: "d@example.org", Tier: "free"}, {Email: " D@example.org", Tier: "pro"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Status != ports.SubscriberSubscribed || results[1].Status != ports.SubscriberSubscribed {
		t.Errorf("results = %+v", results)
	}
	if m, _ := fake.Member("d@example.org"); m.MergeFields["TIER"] != "pro" {
		t.Errorf("tier = %q, want the last data (pro)", m.MergeFields["TIER"])
	}
}

func TestBatchUpsertFailureFailsTheBatch(t *testing.T) {
	t.Parallel()
	fake, c := newFake(t)
	fake.FailNext(1, mailchimpfake.Fault500)
	results, err := c.BatchUpsert(context.Background(), []ports.Subscriber{{Email: "e@example.org"}})
	if err == nil || ports.IsPermanent(err) || results != nil {
		t.Fatalf("results %v, err %v; want nil and a retryable error", results, err)
	}
	if !strings.HasPrefix(err.Error(), "mailchimp: batch upsert members: ") {
		t.Errorf("error %q does not say what was being done", err)
	}
}

// TestErrorClassification checks which failures the retry middleware may
// retry.
func TestErrorClassification(t *testing.T) {
	t.Parallel()
	const email = "jane.doe@example.org"
	tests := []struct {
		name      string
		setup     func(*mailchimpfake.Server)
		call      func(context.Context, *mailchimp.Client) error
		permanent bool
		status    int
	}{
		{"429", func(f *mailchimpfake.Server) { f.FailNext(1, mailchimpfake.Fault429) }, upsert(email), false, 429},
		{"500", func(f *mailchimpfake.Server) { f.FailNext(1, mailchimpfake.Fault500) }, upsert(email), false, 500},
		{"403 without body", func(f *mailchimpfake.Server) { f.FailNext(1, mailchimpfake.Fault403NoBody) }, upsert(email), false, 403},
		{"400 invalid address", nil, upsert("jane.doe@example"), true, 400},
		{"404 tags of an unknown member", nil, func(ctx context.Context, c *mailchimp.Client) error {
			return c.SetTags(ctx, email, map[string]bool{"member": true})
		}, true, 404},
		{"404 unknown list", nil, func(ctx context.Context, c *mailchimp.Client) error {
			_, err := c.BatchUpsert(ctx, []ports.Subscriber{{Email: email}})
			return err
		}, true, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, c := newFake(t)
			if tt.name == "404 unknown list" {
				c = newClient(t, fake, func(cfg *mailchimp.Config) { cfg.ListID = "other" })
			}
			if tt.setup != nil {
				tt.setup(fake)
			}
			err := tt.call(context.Background(), c)
			if err == nil {
				t.Fatal("no error")
			}
			if got := ports.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v (err %v)", got, tt.permanent, err)
			}
			if got := ports.IsTransient(err); got == tt.permanent {
				t.Errorf("IsTransient = %v, want %v (err %v)", got, !tt.permanent, err)
			}
			var apiErr *mailchimp.Error
			if !errors.As(err, &apiErr) || apiErr.Status != tt.status {
				t.Errorf("err = %v, want a *mailchimp.Error with status %d", err, tt.status)
			}
			if strings.Contains(err.Error(), "jane.doe") || strings.Contains(err.Error(), testKey[:32]) {
				t.Errorf("error %q carries an address or the key", err)
			}
		})
	}
}

func upsert(email string) func(context.Context, *mailchimp.Client) error {
	return func(ctx context.Context, c *mailchimp.Client) error {
		_, err := c.Upsert(ctx, ports.Subscriber{Email: email}, "")
		return err
	}
}

func TestProblemJSONIsDecoded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status    int
		body      string
		permanent bool
	}{
		{400, `{"type":"https://mailchimp.com/developer/marketing/docs/errors/","title":"Invalid Resource","status":400,"detail":"jane.doe@example.org looks fake or invalid, key 0123456789abcdef0123456789abcdef-us6","instance":"abc-123"}`, true},
		{401, `{"type":"t","title":"API Key Invalid","status":401,"detail":"Your API key may be invalid.","instance":"i"}`, true},
		{403, `{"type":"t","title":"Forbidden","status":403,"detail":"You don't have permission.","instance":"i"}`, true},
		{404, `{"type":"t","title":"Resource Not Found","status":404,"detail":"The requested resource could not be found.","instance":"i"}`, true},
		{429, `{"type":"t","title":"Too Many Requests","status":429,"detail":"Slow down.","instance":"i"}`, false},
		{503, `<html>Service Unavailable</html>`, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			c, err := mailchimp.New(mailchimp.Config{APIKey: testKey, ListID: testList, APIURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			err = c.TriggerJourney(context.Background(), "1", "2", "jane.doe@example.org")
			var apiErr *mailchimp.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want a *mailchimp.Error", err)
			}
			if apiErr.Status != tt.status || ports.IsPermanent(err) != tt.permanent {
				t.Errorf("status %d permanent %v, want %d %v", apiErr.Status, ports.IsPermanent(err), tt.status, tt.permanent)
			}
			if !strings.HasPrefix(err.Error(), "permanent: mailchimp: trigger journey: ") && !strings.HasPrefix(err.Error(), "mailchimp: trigger journey: ") {
				t.Errorf("error %q does not say what was being done", err)
			}
			if strings.Contains(err.Error(), "jane.doe") || strings.Contains(err.Error(), "0123456789abcdef") || strings.Contains(err.Error(), "<html>") {
				t.Errorf("error %q carries an address, the key or an unknown body", err)
			}
			if tt.status == 400 {
				want := mailchimp.Error{Status: 400, Title: "Invalid Resource", Detail: "j***@example.org looks fake or invalid, key [redacted]",
					Type: "https://mailchimp.com/developer/marketing/docs/errors/", Instance: "abc-123"}
				if apiErr.Status != want.Status || apiErr.Title != want.Title || apiErr.Detail != want.Detail || apiErr.Type != want.Type || apiErr.Instance != want.Instance {
					t.Errorf("decoded %+v, want %+v", *apiErr, want)
				}
			}
		})
	}
}

func TestTimeoutIsRetryableAndBounded(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name string
		mod  func(*mailchimp.Config)
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"client timeout", func(cfg *mailchimp.Config) { cfg.HTTPClient = &http.Client{Timeout: timeout} }, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}},
		{"context deadline", nil, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), timeout)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mods []func(*mailchimp.Config)
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			fake, c := newFake(t, mods...)
			fake.FailNext(1, mailchimpfake.FaultTimeout)
			ctx, cancel := tt.ctx()
			defer cancel()

			start := time.Now()
			_, err := c.Upsert(ctx, ports.Subscriber{Email: "slow@example.org"}, "")
			elapsed := time.Since(start)
			if err == nil || ports.IsPermanent(err) || !ports.IsTransient(err) {
				t.Fatalf("err = %v, want a transient error", err)
			}
			if elapsed > timeout+2*time.Second {
				t.Errorf("returned after %v, want about %v", elapsed, timeout)
			}
			if !strings.HasPrefix(err.Error(), "mailchimp: upsert member: ") {
				t.Errorf("error %q does not say what was being done", err)
			}
			if strings.Contains(err.Error(), hashOf("slow@example.org")) {
				t.Errorf("error %q carries the URL", err)
			}
		})
	}
}

func TestAtMostMaxConnsInFlight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*mailchimp.Config)
		max  int
	}{
		{"default transport", nil, 10},
		{"custom round tripper (semaphore alone)", func(cfg *mailchimp.Config) {
			unlimited := &http.Transport{MaxIdleConnsPerHost: 100}
			cfg.HTTPClient = &http.Client{Transport: roundTripper(unlimited.RoundTrip)}
		}, 10},
		{"MaxConns 3", func(cfg *mailchimp.Config) { cfg.MaxConns = 3 }, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mods []func(*mailchimp.Config)
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			fake, c := newFake(t, mods...)
			fake.SetDelay(100 * time.Millisecond)

			var wg sync.WaitGroup
			errs := make(chan error, 30)
			for i := range 30 {
				wg.Go(func() {
					_, err := c.Upsert(context.Background(), ports.Subscriber{Email: fmt.Sprintf("c%d@example.org", i)}, "")
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("Upsert: %v", err)
				}
			}
			if got := fake.MaxInFlight(); got > tt.max || got < 2 {
				t.Errorf("max in flight = %d, want 2..%d", got, tt.max)
			}
			if n := len(fake.Members()); n != 30 {
				t.Errorf("%d members, want 30", n)
			}
		})
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestUnconfiguredClientSkipsEveryCall(t *testing.T) {
	t.Parallel()
	for _, cfg := range []mailchimp.Config{{ListID: testList}, {APIKey: testKey}, {}} {
		c, err := mailchimp.New(cfg)
		if err != nil {
			t.Fatalf("New(%+v): %v", cfg, err)
		}
		if c.Configured() {
			t.Error("Configured() = true")
		}
		ctx := context.Background()
		_, errUpsert := c.Upsert(ctx, ports.Subscriber{Email: "a@example.org"}, "")
		_, errBatch := c.BatchUpsert(ctx, []ports.Subscriber{{Email: "a@example.org"}})
		for name, err := range map[string]error{
			"Upsert":            errUpsert,
			"BatchUpsert":       errBatch,
			"SetTags":           c.SetTags(ctx, "a@example.org", map[string]bool{"x": true}),
			"TriggerJourney":    c.TriggerJourney(ctx, "1", "2", "a@example.org"),
			"DeletePermanently": c.DeletePermanently(ctx, "a@example.org"),
		} {
			if !errors.Is(err, ports.ErrNotConfigured) {
				t.Errorf("%s: err = %v, want ErrNotConfigured", name, err)
			}
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  mailchimp.Config
	}{
		{"key without data centre", mailchimp.Config{APIKey: "0123456789abcdef0123456789abcdef", ListID: testList}},
		{"key with a bad data centre", mailchimp.Config{APIKey: "0123456789abcdef0123456789abcdef-us6.evil.com/", ListID: testList}},
		{"APIURL not http", mailchimp.Config{APIKey: testKey, ListID: testList, APIURL: "ftp://x"}},
		{"APIURL with credentials", mailchimp.Config{APIKey: testKey, ListID: testList, APIURL: "https://u:p@x"}},
		{"MaxConns over Mailchimp's limit", mailchimp.Config{APIKey: testKey, ListID: testList, MaxConns: 11}},
		{"MaxConns negative", mailchimp.Config{APIKey: testKey, ListID: testList, MaxConns: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := mailchimp.New(tt.cfg)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("error %q carries the key", err)
			}
		})
	}
	// A key without a suffix is fine when APIURL is set.
	if _, err := mailchimp.New(mailchimp.Config{APIKey: "nosuffix", ListID: testList, APIURL: "http://127.0.0.1:1/3.0"}); err != nil {
		t.Errorf("key without suffix and an APIURL: %v", err)
	}
}

func TestAPIRootComesFromTheKey(t *testing.T) {
	t.Parallel()
	var got string
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		got = r.URL.String()
		return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})
	c, err := mailchimp.New(mailchimp.Config{APIKey: testKey, ListID: testList, HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeletePermanently(context.Background(), "a@example.org"); err != nil {
		t.Fatal(err)
	}
	if want := "https://us6.api.mailchimp.com/3.0/lists/" + testList + "/members/" + hashOf("a@example.org") + "/actions/delete-permanent"; got != want {
		t.Errorf("URL = %s, want %s", got, want)
	}
}

func TestInvalidArgumentsArePermanentAndSendNothing(t *testing.T) {
	t.Parallel()
	fake, c := newFake(t)
	ctx := context.Background()
	_, errUpsert := c.Upsert(ctx, ports.Subscriber{Email: "  "}, "")
	for name, err := range map[string]error{
		"Upsert":            errUpsert,
		"SetTags":           c.SetTags(ctx, "", map[string]bool{"x": true}),
		"SetTags name":      c.SetTags(ctx, "a@example.org", map[string]bool{"": true}),
		"TriggerJourney":    c.TriggerJourney(ctx, "", "2", "a@example.org"),
		"DeletePermanently": c.DeletePermanently(ctx, ""),
	} {
		if !ports.IsPermanent(err) {
			t.Errorf("%s: err = %v, want permanent", name, err)
		}
	}
	if n := fake.CallCount(); n != 0 {
		t.Errorf("%d calls made, want none", n)
	}
}

// TestRateLimitCarriesRetryAfter: a 429 with Retry-After is a transient
// error that asks for that wait.
func TestRateLimitCarriesRetryAfter(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "17")
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"title":"Too Many Requests","status":429,"detail":"slow down"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := mailchimp.New(mailchimp.Config{APIKey: testKey, ListID: testList, APIURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Upsert(context.Background(), ports.Subscriber{Email: "a@example.org"}, "")
	te, ok := ports.AsTransient(err)
	if !ok || te.Provider != "mailchimp" || te.RetryAfter != 17*time.Second {
		t.Fatalf("err = %v (%+v), want a transient mailchimp error asking for 17s", err, te)
	}
}

func TestDeletePermanently(t *testing.T) {
	t.Parallel()
	fake, c := newFake(t)
	ctx := context.Background()
	if _, err := c.Upsert(ctx, ports.Subscriber{Email: "y@example.org"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.DeletePermanently(ctx, "Y@example.org"); err != nil {
		t.Fatalf("DeletePermanently: %v", err)
	}
	last := fake.Calls()[fake.CallCount()-1]
	if last.Method != http.MethodPost || last.Path != "/lists/"+testList+"/members/"+hashOf("y@example.org")+"/actions/delete-permanent" {
		t.Errorf("call = %s %s", last.Method, last.Path)
	}
	if _, ok := fake.Member("y@example.org"); ok {
		t.Error("member still there (an archive is not an erasure)")
	}
	// Deleted (404) and never there (404) are both done.
	for _, email := range []string{"y@example.org", "nobody@example.org"} {
		if err := c.DeletePermanently(ctx, email); err != nil {
			t.Errorf("DeletePermanently(%s) again: %v, want nil", email, err)
		}
	}
	if err := c.DeletePermanently(ctx, " "); err == nil {
		t.Error("an empty address was sent")
	}
	fake.AssertNoViolations(t)
}
