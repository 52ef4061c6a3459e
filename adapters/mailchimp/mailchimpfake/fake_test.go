package mailchimpfake_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/mailchimp/mailchimpfake"
	"github.com/womendefiningai/platform/ports"
)

const (
	key  = "0123456789abcdef0123456789abcdef-us6"
	list = "L1"
)

func hashOf(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

type request struct {
	method, path, body string
	noAuth             bool
	apiKey             string // "" means the right key
	contentType        string // "" means application/json when there is a body
}

// send makes one raw request to the fake and returns the status and body.
func send(t *testing.T, fake *mailchimpfake.Server, client *http.Client, rq request) (int, string) {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(context.Background(), rq.method, fake.URL()+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if !rq.noAuth {
		k := rq.apiKey
		if k == "" {
			k = key
		}
		req.SetBasicAuth("test", k)
	}
	if rq.body != "" {
		ct := rq.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func memberPath(email string) string { return "/lists/" + list + "/members/" + hashOf(email) }

func put(email, status string) string {
	b, _ := json.Marshal(map[string]any{"email_address": email, "status_if_new": "subscribed", "status": status})
	if status == "" {
		b, _ = json.Marshal(map[string]any{"email_address": email, "status_if_new": "subscribed"})
	}
	return string(b)
}

func TestViolationsAreRecorded(t *testing.T) {
	t.Parallel()
	manyMembers := make([]map[string]string, 501)
	for i := range manyMembers {
		manyMembers[i] = map[string]string{"email_address": fmt.Sprintf("m%d@example.org", i), "status_if_new": "subscribed"}
	}
	tooMany, _ := json.Marshal(map[string]any{"members": manyMembers, "update_existing": true})

	tests := []struct {
		name       string
		setup      func(*mailchimpfake.Server)
		req        request
		wantStatus int
		violation  string
	}{
		{"no auth", nil, request{method: "PUT", path: memberPath("a@example.org"), body: put("a@example.org", ""), noAuth: true}, 401, "no HTTP Basic auth"},
		{"no status_if_new", nil, request{method: "PUT", path: memberPath("a@example.org"), body: `{"email_address":"a@example.org"}`}, 400, "status_if_new is required"},
		{"bad status_if_new", nil, request{method: "PUT", path: memberPath("a@example.org"), body: `{"email_address":"a@example.org","status_if_new":"yes"}`}, 400, "not a member status"},
		{"hash of another address", nil, request{method: "PUT", path: memberPath("b@example.org"), body: put("a@example.org", "")}, 400, "not md5"},
		{"hash not lowercased", nil, request{method: "PUT", path: "/lists/" + list + "/members/" + hashOf("A@example.org")[:31] + "G", body: put("a@example.org", "")}, 404, "lowercase MD5"},
		{"email in the path", nil, request{method: "PUT", path: "/lists/" + list + "/members/a@example.org", body: put("a@example.org", "")}, 404, "lowercase MD5"},
		{"status re-subscribes an unsubscribed member", func(f *mailchimpfake.Server) { f.SetStatus("a@example.org", ports.SubscriberUnsubscribed) },
			request{method: "PUT", path: memberPath("a@example.org"), body: put("a@example.org", "subscribed")}, 400, "re-subscribe"},
		{"status pending for a cleaned member", func(f *mailchimpfake.Server) { f.SetStatus("a@example.org", ports.SubscriberCleaned) },
			request{method: "PUT", path: memberPath("a@example.org"), body: put("a@example.org", "pending")}, 400, "re-subscribe"},
		{"tags on PUT", nil, request{method: "PUT", path: memberPath("a@example.org"), body: `{"email_address":"a@example.org","status_if_new":"subscribed","tags":["x"]}`}, 200, "takes no tags"},
		{"unknown field", nil, request{method: "PUT", path: memberPath("a@example.org"), body: `{"email_address":"a@example.org","status_if_new":"subscribed","nickname":"x"}`}, 200, `unknown field "nickname"`},
		{"not JSON", nil, request{method: "PUT", path: memberPath("a@example.org"), body: `email=a@example.org`}, 400, "not a JSON object"},
		{"content type", nil, request{method: "PUT", path: memberPath("a@example.org"), body: put("a@example.org", ""), contentType: "text/plain"}, 200, "Content-Type"},
		{"merge field not scalar", nil, request{method: "PUT", path: memberPath("a@example.org"), body: `{"email_address":"a@example.org","status_if_new":"subscribed","merge_fields":{"FNAME":{"x":1}}}`}, 400, "not a scalar"},
		{"unknown route", nil, request{method: "GET", path: "/lists/" + list + "/members"}, 404, "no such route"},
		{"wrong method", nil, request{method: "PATCH", path: memberPath("a@example.org"), body: put("a@example.org", "")}, 404, "no such route"},
		{"tag status", func(f *mailchimpfake.Server) { f.SetStatus("a@example.org", ports.SubscriberSubscribed) },
			request{method: "POST", path: memberPath("a@example.org") + "/tags", body: `{"tags":[{"name":"x","status":"on"}]}`}, 400, `"active" or "inactive"`},
		{"tag name", func(f *mailchimpfake.Server) { f.SetStatus("a@example.org", ports.SubscriberSubscribed) },
			request{method: "POST", path: memberPath("a@example.org") + "/tags", body: `{"tags":[{"name":"","status":"active"}]}`}, 400, "name must be"},
		{"tags not an array", func(f *mailchimpfake.Server) { f.SetStatus("a@example.org", ports.SubscriberSubscribed) },
			request{method: "POST", path: memberPath("a@example.org") + "/tags", body: `{"tags":{"x":"active"}}`}, 400, "array of objects"},
		{"trigger without email", nil, request{method: "POST", path: "/customer-journeys/journeys/1/steps/2/actions/trigger", body: `{}`}, 400, "email_address is required"},
		{"batch over 500", nil, request{method: "POST", path: "/lists/" + list, body: string(tooMany)}, 400, "at most 500"},
		{"batch member without a status", nil, request{method: "POST", path: "/lists/" + list, body: `{"members":[{"email_address":"a@example.org"}]}`}, 200, "status_if_new (or status) is required"},
		{"batch status re-subscribes", func(f *mailchimpfake.Server) { f.SetStatus("a@example.org", ports.SubscriberUnsubscribed) },
			request{method: "POST", path: "/lists/" + list, body: `{"members":[{"email_address":"a@example.org","status":"subscribed"}],"update_existing":true}`}, 200, "re-subscribe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := mailchimpfake.New(t, key, list)
			if tt.setup != nil {
				tt.setup(fake)
			}
			status, body := send(t, fake, nil, tt.req)
			if status != tt.wantStatus {
				t.Errorf("status %d, want %d (%s)", status, tt.wantStatus, body)
			}
			v := fake.Violations()
			if !slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, tt.violation) }) {
				t.Errorf("violations %q, want one containing %q", v, tt.violation)
			}
			if m, ok := fake.Member("a@example.org"); ok && tt.setup != nil && m.Status == ports.SubscriberSubscribed && strings.Contains(tt.name, "re-subscribe") {
				t.Error("the refused status was applied")
			}
		})
	}
}

func TestContractAbidingCallsAreNoViolation(t *testing.T) {
	t.Parallel()
	fake := mailchimpfake.New(t, key, list)
	for _, rq := range []request{
		{method: "PUT", path: memberPath("a@example.org"), body: `{"email_address":"a@example.org","status_if_new":"subscribed","merge_fields":{"FNAME":"A","TIER":"pro"}}`},
		{method: "GET", path: memberPath("a@example.org") + "?fields=email_address,status"},
		{method: "POST", path: memberPath("a@example.org") + "/tags", body: `{"tags":[{"name":"member","status":"active"},{"name":"alumni","status":"inactive"}]}`},
		{method: "POST", path: "/customer-journeys/journeys/1/steps/2/actions/trigger", body: `{"email_address":"a@example.org"}`},
		{method: "PUT", path: memberPath("a@example.org"), body: `{"email_address":"b@example.org","status_if_new":"subscribed"}`}, // moves a to b
		{method: "POST", path: "/lists/" + list, body: `{"members":[{"email_address":"c@example.org","status_if_new":"subscribed"}],"update_existing":true}`},
		{method: "DELETE", path: memberPath("b@example.org")},
	} {
		if status, body := send(t, fake, nil, rq); status >= 300 {
			t.Errorf("%s %s: %d %s", rq.method, rq.path, status, body)
		}
	}
	fake.AssertNoViolations(t)
	if _, ok := fake.Member("a@example.org"); ok {
		t.Error("a is still a member after the move")
	}
	if b, ok := fake.Member("b@example.org"); !ok || !b.Archived || b.MergeFields["TIER"] != "pro" || !slices.Equal(b.Tags, []string{"member"}) {
		t.Errorf("b = %+v, %v", b, ok)
	}
	if got := fake.Triggers(); len(got) != 1 || got[0] != (mailchimpfake.Trigger{JourneyID: "1", StepID: "2", Email: "a@example.org"}) {
		t.Errorf("triggers = %+v", got)
	}
}

func TestWrongKeyIsRefusedButNoViolation(t *testing.T) {
	t.Parallel()
	fake := mailchimpfake.New(t, key, list)
	status, body := send(t, fake, nil, request{method: "PUT", path: memberPath("a@example.org"), body: put("a@example.org", ""), apiKey: "nope-us6"})
	if status != http.StatusUnauthorized || !strings.Contains(body, "API Key Invalid") {
		t.Errorf("got %d %s, want 401 API Key Invalid", status, body)
	}
	fake.AssertNoViolations(t)
	if c := fake.Calls(); len(c) != 1 || c[0].Authorized {
		t.Errorf("calls = %+v, want one unauthorized", c)
	}
}

func TestArchivedUnsubscribedMemberIsInComplianceState(t *testing.T) {
	t.Parallel()
	fake := mailchimpfake.New(t, key, list)
	fake.SetStatus("a@example.org", ports.SubscriberUnsubscribed)
	fake.SetStatus("a@example.org", ports.SubscriberArchived)
	status, body := send(t, fake, nil, request{method: "PUT", path: memberPath("a@example.org"), body: put("a@example.org", "")})
	if status != http.StatusBadRequest || !strings.Contains(body, "Member In Compliance State") {
		t.Errorf("got %d %s, want 400 Member In Compliance State", status, body)
	}
	fake.AssertNoViolations(t)
}

func TestMoreThanTenInFlightIsRefused(t *testing.T) {
	t.Parallel()
	fake := mailchimpfake.New(t, key, list)
	fake.SetDelay(300 * time.Millisecond)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0}}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses []int
	)
	for i := range 11 {
		wg.Go(func() {
			status, _ := send(t, fake, client, request{method: "GET", path: memberPath(fmt.Sprintf("m%d@example.org", i))})
			mu.Lock()
			statuses = append(statuses, status)
			mu.Unlock()
		})
	}
	wg.Wait()
	if fake.MaxInFlight() != 11 || !slices.Contains(statuses, http.StatusTooManyRequests) {
		t.Errorf("max in flight %d, statuses %v; want 11 and a 429", fake.MaxInFlight(), statuses)
	}
	if v := fake.Violations(); !slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, "more than 10") }) {
		t.Errorf("violations %q", v)
	}
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	fake := mailchimpfake.New(t, key, list)
	fake.SetStatus("a@example.org", ports.SubscriberSubscribed)
	fake.FailNext(2, mailchimpfake.Fault500)
	fake.FailNext(1, mailchimpfake.Fault403NoBody)
	fake.FailNext(1, mailchimpfake.Fault429)
	var got []string
	for range 5 {
		status, body := send(t, fake, nil, request{method: "GET", path: memberPath("a@example.org")})
		got = append(got, fmt.Sprintf("%d:%v", status, body == ""))
	}
	want := []string{"500:false", "500:false", "403:true", "429:false", "200:false"}
	if !slices.Equal(got, want) {
		t.Errorf("answers %v, want %v", got, want)
	}
	calls := fake.Calls()
	if calls[0].Fault != mailchimpfake.Fault500 || calls[2].Fault != mailchimpfake.Fault403NoBody || calls[4].Fault != "" {
		t.Errorf("recorded faults: %+v", calls)
	}
}

func TestFaultRateIsDeterministicWhenSeeded(t *testing.T) {
	t.Parallel()
	run := func(seed int64) []int {
		fake := mailchimpfake.New(t, key, list)
		fake.SetStatus("a@example.org", ports.SubscriberSubscribed)
		fake.Seed(seed)
		fake.SetFaultRate(0.5, mailchimpfake.Fault429, mailchimpfake.Fault500, mailchimpfake.Fault403NoBody)
		var statuses []int
		for range 40 {
			status, _ := send(t, fake, nil, request{method: "GET", path: memberPath("a@example.org")})
			statuses = append(statuses, status)
		}
		return statuses
	}
	a, b, c := run(7), run(7), run(8)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("different seeds, same faults: %v", a)
	}
	for _, want := range []int{200, 429, 500, 403} {
		if !slices.Contains(a, want) {
			t.Errorf("no %d in %v", want, a)
		}
	}
}

func TestTimeoutFault(t *testing.T) {
	t.Parallel()
	fake := mailchimpfake.New(t, key, list)
	fake.FailNext(1, mailchimpfake.FaultTimeout)
	client := &http.Client{Timeout: 200 * time.Millisecond}
	req, _ := http.NewRequestWithContext(context.Background(), "GET", fake.URL()+memberPath("a@example.org"), nil)
	start := time.Now()
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("the request did not time out")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("held for %v", d)
	}

	// When the client waits longer than the hang, the fake answers 504.
	fake.SetHang(50 * time.Millisecond)
	fake.FailNext(1, mailchimpfake.FaultTimeout)
	if status, _ := send(t, fake, nil, request{method: "GET", path: memberPath("a@example.org")}); status != http.StatusGatewayTimeout {
		t.Errorf("status %d, want 504", status)
	}
}
