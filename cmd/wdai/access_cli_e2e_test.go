package main_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/luma"
	"github.com/womendefiningai/platform/adapters/slack/slackfake"
)

var grantIDPattern = regexp.MustCompile(`access ([0-9a-f-]{36})`)

// TestScholarshipThroughTheCLIIsApprovedAndSyncedLikeAPayingMember: an
// operator grants a scholarship with `wdai access grant` to someone who
// never paid. `wdai access show` explains it; the twice-daily approval run
// approves their RSVP at the Luma stand-in (reason complimentary); once
// listed, the Slack sync matches them like any member. Revoked with `wdai
// access revoke`, their access ends at once. Bad input changes nothing.
func TestScholarshipThroughTheCLIIsApprovedAndSyncedLikeAPayingMember(t *testing.T) {
	t.Parallel()
	w := newApprovalWorld(t, 5) // one guest of each kind, besides the scholar
	ctx := context.Background()
	var person string
	if err := w.pool.QueryRow(ctx, `INSERT INTO people (primary_email, emails, first_name, last_name)
		VALUES ('scholar@example.test', '{scholar@example.test}', 'Amina', 'S') RETURNING id`).Scan(&person); err != nil {
		t.Fatal(err)
	}
	guest := w.luma.AddGuest("evt-approval", "Scholar@Example.test", "Amina")
	w.want[guest] = "approved"

	// Refused, with nothing stored: no reason, no end, an unknown person.
	for _, args := range [][]string{
		{"access", "grant", "--email", "scholar@example.test", "--until", time.Now().Add(time.Hour).Format(time.RFC3339)},
		{"access", "grant", "--email", "scholar@example.test", "--reason", "no end given"},
		{"access", "grant", "--person-id", "00000000-0000-4000-8000-000000000000", "--until", time.Now().Add(time.Hour).Format(time.RFC3339), "--reason", "r"},
	} {
		if out, err := runCLI(t, w.dbURL, args...); err == nil {
			t.Errorf("%v succeeded:\n%s", args, out)
		}
	}
	if n := w.count(t, `SELECT count(*) FROM access_grants WHERE granted_by LIKE 'cli:%'`); n != 0 {
		t.Fatalf("refused grants stored %d rows", n)
	}

	until := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	out, err := runCLI(t, w.dbURL, "access", "grant", "--email", "scholar@example.test", "--tier", "community",
		"--until", until.Format(time.RFC3339), "--reason", "Women in AI scholarship 2026")
	m := grantIDPattern.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("access grant: %v\n%s", err, out)
	}
	out, err = runCLI(t, w.dbURL, "access", "show", "--email", "scholar@example.test")
	if err != nil || !strings.Contains(out, "has access until "+until.Format(time.RFC3339)) || !strings.Contains(out, "complimentary") ||
		!strings.Contains(out, "Women in AI scholarship 2026") || !strings.Contains(out, "cli:") {
		t.Fatalf("access show: %v\n%s", err, out)
	}

	// One worker, with Luma and Slack configured.
	fake := slackfake.New(slackfake.Account{ID: "USCHOLAR", Email: "scholar@example.test"})
	t.Cleanup(fake.Close)
	w.env["SLACK_BOT_TOKEN"], w.env["SLACK_API_URL"] = slackfake.Token, fake.URL()
	start(t, w.env, "worker")

	// The approval run approves the scholar like a paying member.
	waitRun(t, w.pool, w.enqueueApproval(t), 60*time.Second)
	w.checkGuests(t)
	var reason string
	if err := w.pool.QueryRow(ctx, `SELECT reason FROM rsvp_decisions WHERE guest_id = $1`, guest).Scan(&reason); err != nil || reason != "complimentary" {
		t.Fatalf("scholar's decision: %q, %v; want complimentary", reason, err)
	}
	if n := w.luma.Updates()[guest]; n != 1 {
		t.Fatalf("scholar's guest updated %d times at the stand-in, want 1", n)
	}

	// Listed in the directory, the Slack sync matches them.
	if _, err := w.pool.Exec(ctx, `UPDATE memberships SET visible = true WHERE person_id = $1`, person); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, w.dbURL, "job", "run", "slack_sync")
	run := runIDPattern.FindStringSubmatch(out)
	if err != nil || run == nil {
		t.Fatalf("job run slack_sync: %v\n%s", err, out)
	}
	waitRun(t, w.pool, run[1], 60*time.Second)
	if st := chatStatus(t, w, person); st != "active" {
		t.Fatalf("scholar's chat status = %q, want active (matched like a paying member)", st)
	}

	// Revoked: access ends now, audited once; the run decides no one again.
	if out, err := runCLI(t, w.dbURL, "access", "revoke", m[1]); err == nil {
		t.Fatalf("revoke without a reason succeeded:\n%s", out)
	}
	if out, err := runCLI(t, w.dbURL, "access", "revoke", "--reason", "left the programme", m[1]); err != nil {
		t.Fatalf("access revoke: %v\n%s", err, out)
	}
	out, err = runCLI(t, w.dbURL, "access", "show", "--person-id", person)
	if err != nil || !strings.Contains(out, "has no access now") {
		t.Fatalf("after revoke, access show: %v\n%s", err, out)
	}
	for action, want := range map[string]int{"access.grant": 1, "access.revoke": 1, "access.started": 1, "access.ended": 1} {
		if n := w.count(t, `SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = $2`, person, action); n != want {
			t.Errorf("%s audited %d times, want %d", action, n, want)
		}
	}
	if calls := w.luma.Calls(luma.PathUpdateStatus); calls != 4 { // the scholar, an active member, a past_due one in grace, a leader
		t.Errorf("%d status updates at the stand-in, want 4", calls)
	}
}

func chatStatus(t *testing.T, w *approvalWorld, personID string) string {
	t.Helper()
	var st string
	_ = w.pool.QueryRow(context.Background(), `SELECT status FROM integrations WHERE provider = 'chat' AND person_id = $1`, personID).Scan(&st)
	return st
}
