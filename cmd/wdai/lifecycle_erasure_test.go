package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/adapters/mailchimp/mailchimpfake"
	"github.com/womendefiningai/platform/ports"
)

// deliverClerk signs a Clerk webhook body and POSTs it.
func (l *lifecycle) deliverClerk(secret, msgID string, body []byte) int {
	l.t.Helper()
	req, _ := http.NewRequestWithContext(l.t.Context(), http.MethodPost, l.http.URL+"/webhooks/clerk", bytes.NewReader(body))
	for k, v := range clerkfake.SignWebhook(secret, msgID, body, time.Now()) {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// copiesOf counts, over every text, varchar, json, jsonb, array and bytea
// column of every table, the rows that contain s (case-insensitively for
// text), and names where they are.
func (l *lifecycle) copiesOf(s string) (int, []string) {
	l.t.Helper()
	ctx := context.Background()
	rows, err := l.pool.Query(ctx, `SELECT c.table_schema, c.table_name, c.column_name, c.data_type
		FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
		  AND c.data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY', 'bytea')`)
	if err != nil {
		l.t.Fatal(err)
	}
	type col struct{ schema, table, column, typ string }
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (col, error) {
		var c col
		return c, r.Scan(&c.schema, &c.table, &c.column, &c.typ)
	})
	if err != nil {
		l.t.Fatal(err)
	}
	if len(cols) < 20 {
		l.t.Fatalf("only %d columns scanned: the scan is broken", len(cols))
	}
	total, where := 0, []string{}
	for _, c := range cols {
		ident := pgx.Identifier{c.schema, c.table}.Sanitize()
		colName := pgx.Identifier{c.column}.Sanitize()
		cond := fmt.Sprintf(`%s::text ILIKE '%%' || $1 || '%%'`, colName)
		if c.typ == "bytea" {
			cond = fmt.Sprintf(`position(convert_to($1, 'UTF8') in %s) > 0`, colName)
		}
		n := l.count(fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s`, ident, cond), s)
		if n > 0 {
			total += n
			where = append(where, fmt.Sprintf("%s.%s (%d)", c.table, c.column, n))
		}
	}
	return total, where
}

func TestUserDeletedErasesAtStripeAndMailchimpAndLeavesNoCopy(t *testing.T) {
	t.Parallel()
	_, secret, vars := withClerk(t)
	vars["WORKER_RETRY_INITIAL"], vars["WORKER_TRANSIENT_RETRY_INITIAL"], vars["WORKER_TRANSIENT_RETRY_MAX"] = "20ms", "50ms", "300ms"
	vars["PROVIDER_BREAKER_FAILURES"], vars["PROVIDER_BREAKER_OPEN_FOR"] = "1000", "1s"
	l := newLifecycle(t, true, vars)
	const email = "rosalind@example.test"
	person := l.newPerson(email)
	events, sub := signUp(l, person, email, "60")
	deliverShuffled(t, l, rand.New(rand.NewPCG(60, 61)), 1, events...)
	l.waitIdle()
	if _, ok := l.mc.Member(email); !ok {
		t.Fatal("the member was never synced to Mailchimp")
	}
	// A dead letter about the person, left open by an operator.
	if _, err := l.pool.Exec(t.Context(), `INSERT INTO dead_letters (message_id, topic, handler, reason, payload, first_failed_at, last_failed_at, attempts)
		VALUES ('m-dl', 'person.email_changed', 'email.person_email_changed', 'boom', convert_to($1, 'UTF8'), now(), now(), 5)`,
		fmt.Sprintf(`{"person_id":%q,"previous_email":%q}`, person, strings.ToUpper(email[:1])+email[1:])); err != nil {
		t.Fatal(err)
	}
	if n, _ := l.copiesOf(email); n == 0 {
		t.Fatal("no copy of the email before erasure: the scan cannot fail")
	}

	// Both providers fail at first: the local erasure happens regardless,
	// and the worker retries the providers' steps.
	l.stripe.FailNext(3, http.StatusServiceUnavailable)
	l.mc.FailNext(2, mailchimpfake.Fault500)
	deleted := clerkfake.UserEvent(ports.IdentityUserDeleted, ports.IdentityUser{ID: "user_rosalind"})
	for range 2 {
		if code := l.deliverClerk(secret, "msg_deleted_60", deleted); code != http.StatusOK {
			t.Fatalf("user.deleted answered %d", code)
		}
	}
	if n := l.count(`SELECT count(*) FROM people WHERE id = $1 AND erased_at IS NOT NULL AND primary_email IS NULL`, person); n != 1 {
		t.Fatal("the person is not erased locally at once")
	}
	l.waitIdle()

	if s, _ := l.stripe.Subscription(sub.ID); s.Status != "canceled" {
		t.Errorf("subscription at Stripe is %q, want canceled", s.Status)
	}
	if c := l.stripe.Customer(sub.Customer); c != "deleted" {
		t.Errorf("customer at Stripe: %q, want deleted", c)
	}
	if _, ok := l.mc.Member(email); ok {
		t.Error("the Mailchimp member still exists (archived or not)")
	}
	if n := l.mailchimpCalls(http.MethodPost, "/actions/delete-permanent"); n < 1 {
		t.Error("Mailchimp's permanent delete was never called")
	}
	for _, action := range []string{"person.erase", "person.erase.billing", "person.erase.email_list"} {
		if n := l.count(`SELECT count(*) FROM audit_log WHERE action = $1 AND subject_id = $2 AND outcome = 'success'`, action, person); n != 1 {
			t.Errorf("%s audited %d times as a success, want 1", action, n)
		}
	}
	if n := l.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'person.erase.%' AND subject_id = $1 AND outcome = 'failure'`, person); n < 1 {
		t.Error("no failed provider step was audited: the retry went unrecorded")
	}
	if n, where := l.copiesOf(email); n != 0 {
		t.Fatalf("%d copies of the email remain after erasure: %v", n, where)
	}
}

func TestUserDeletedAtPeriodEndLetsTheSubscriptionRunOutAndClearsTheCustomer(t *testing.T) {
	t.Parallel()
	_, secret, vars := withClerk(t)
	vars["ERASURE_CANCEL_AT_PERIOD_END"] = "true"
	l := newLifecycle(t, true, vars)
	const email = "barbara@example.test"
	person := l.newPerson(email)
	events, sub := signUp(l, person, email, "61")
	deliverShuffled(t, l, rand.New(rand.NewPCG(62, 63)), 1, events...)
	l.waitIdle()
	if code := l.deliverClerk(secret, "msg_deleted_61", clerkfake.UserEvent(ports.IdentityUserDeleted, ports.IdentityUser{ID: "user_barbara"})); code != http.StatusOK {
		t.Fatalf("user.deleted answered %d", code)
	}
	l.waitIdle()
	if s, _ := l.stripe.Subscription(sub.ID); s.Status != "active" || !s.CancelAtPeriodEnd {
		t.Errorf("subscription at Stripe: %+v, want active and set to cancel at its period end", s)
	}
	if c := l.stripe.Customer(sub.Customer); c != "cleared" {
		t.Errorf("customer at Stripe: %q, want cleared (not deleted: that would end the subscription now)", c)
	}
	if _, ok := l.mc.Member(email); ok {
		t.Error("the Mailchimp member still exists")
	}
	if n, where := l.copiesOf(email); n != 0 {
		t.Fatalf("%d copies of the email remain after erasure: %v", n, where)
	}
}
