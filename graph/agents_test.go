package graph_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/ports"
	"github.com/womendefiningai/platform/ports/mocks"
)

// The agent API's root fields, each shown denied without its scopes and
// allowed with exactly them (TestProtectedFieldsDenyWithoutScopeAndAllowWithIt).
func init() {
	for name, op := range map[string]string{
		"Query.membershipSummary":     `{ membershipSummary { total byStatus { status count } byTier { tier count } byStatusAndTier { status tier count } } }`,
		"Query.pastDueMembers":        `{ pastDueMembers(first: 5) { id firstName } }`,
		"Query.recentPaymentFailures": `{ recentPaymentFailures(first: 5) { at invoiceId attempt person { id } } }`,
		"Query.memberByEmail":         `{ memberByEmail(email: "grace@example.test") { id email } }`,
		"Query.memberTimeline":        `{ memberTimeline(personId: "p2", first: 5) { at kind outcome details } }`,
		"Query.recentRsvpDecisions":   `{ recentRsvpDecisions(first: 5) { eventId eventName outcome reason decidedAt } }`,
		"Query.slackStatusSummary":    `{ slackStatusSummary { active notFound } }`,
		"Mutation.createAgentKey":     `mutation { createAgentKey(input: {name: "bot", scopes: [MEMBERS_READ], ratePerMinute: 30}) { key prefix scopes ratePerMinute } }`,
	} {
		protectedCases[name] = op
	}
}

// fakeAgents wires the agent use cases over mocks for fakeApp.
func fakeAgents(t *testing.T, app *application.App) {
	t.Helper()
	ctrl := gomock.NewController(t)
	now := time.Now()
	reports := mocks.NewMockAgentReports(ctrl)
	reports.EXPECT().MembershipCounts(gomock.Any()).Return([]ports.MembershipCount{{Status: "active", Tier: "community", Count: 3}, {Status: "past_due", Tier: "community", Count: 1}}, nil).AnyTimes()
	reports.EXPECT().PaymentFailures(gomock.Any(), 5).Return([]ports.PaymentFailureNotice{{At: now, InvoiceID: "in_1", Attempt: 1, PersonID: "p2"}}, nil).AnyTimes()
	reports.EXPECT().Timeline(gomock.Any(), "p2", 5).Return([]ports.TimelineEntry{{At: now, Kind: "membership.change", Outcome: "success", Details: map[string]any{"to": "active"}}}, nil).AnyTimes()
	reports.EXPECT().RSVPDecisions(gomock.Any(), 5).Return([]ports.RSVPDecisionRecord{{EventID: "e1", EventName: "Meetup", Outcome: "approve", Reason: "member", DecidedAt: now}}, nil).AnyTimes()
	p2 := ports.Person{ID: "p2", FirstName: "Grace", PrimaryEmail: "grace@example.test", Role: access.RoleMember}
	people := mocks.NewMockPeople(ctrl)
	people.EXPECT().GetMany(gomock.Any(), gomock.Any()).Return(map[string]ports.Person{"p2": p2}, nil).AnyTimes()
	people.EXPECT().GetByEmail(gomock.Any(), "grace@example.test").Return(p2, nil).AnyTimes()
	people.EXPECT().Directory(gomock.Any(), gomock.Any()).Return(ports.DirectoryPage{People: []ports.Person{p2}, Cursors: []string{"c1"}}, nil).AnyTimes()
	q := &app.Queries
	q.GetMembershipSummary = built(application.NewGetMembershipSummary(reports))
	q.ListPastDueMembers = built(application.NewListPastDueMembers(people))
	q.ListPaymentFailures = built(application.NewListPaymentFailures(reports, people))
	q.FindMemberByEmail = built(application.NewFindMemberByEmail(people))
	q.GetMemberTimeline = built(application.NewGetMemberTimeline(reports))
	q.ListRSVPDecisions = built(application.NewListRSVPDecisions(reports))
	keys := mocks.NewMockAgentKeys(ctrl)
	keys.EXPECT().Create(gomock.Any(), gomock.Any()).DoAndReturn(func(_ any, k ports.AgentKey) (ports.AgentKey, error) { return k, nil }).AnyTimes()
	audit := mocks.NewMockAuditLog(ctrl)
	audit.EXPECT().Record(gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	tx := mocks.NewMockAgentKeyTx(ctrl)
	tx.EXPECT().AgentKeys().Return(keys).AnyTimes()
	tx.EXPECT().Audit().Return(audit).AnyTimes()
	app.Commands.CreateAgentKey = built(application.NewCreateAgentKey(inline[ports.AgentKeyTx]{tx}))
}

func agentCredential(t *testing.T, mutations bool, scopes ...access.Scope) application.AgentCredential {
	t.Helper()
	p, err := access.NewAgent("key_1", scopes)
	if err != nil {
		t.Fatal(err)
	}
	return application.AgentCredential{Principal: p, AllowMutations: mutations, RatePerMinute: 60}
}

// TestStarterOperationsFitTheirPresets: each of the seed's three agents can
// run every starter operation named for it with the preset's scopes, each
// has a description for its tool, and none of them is open to the other
// presets where the scopes differ.
func TestStarterOperationsFitTheirPresets(t *testing.T) {
	t.Parallel()
	m := projectOperations(t)
	want := map[access.Preset][]string{
		access.PresetFinance:    {"FinanceMembershipSummary", "FinancePastDueMembers", "FinanceRecentPaymentFailures"},
		access.PresetSupport:    {"SupportMemberByEmail", "SupportMemberTimeline"},
		access.PresetEngagement: {"EngagementUpcomingEvents", "EngagementRecentRSVPDecisions", "EngagementSlackStatus"},
	}
	for preset, names := range want {
		cred := agentCredential(t, false, preset.Scopes()...)
		for _, name := range names {
			d, ok := m.ByName(name)
			if !ok {
				t.Fatalf("no trusted document %s", name)
			}
			if err := graph.AgentMayRun(cred, d); err != nil {
				t.Errorf("%s preset cannot run %s (needs %s): %v", preset, name, d.Access(), err)
			}
			if len(d.Description) < 20 || !strings.Contains(strings.ToLower(d.Description), strings.ToLower(preset.String())) {
				t.Errorf("%s: description %q does not say what it is for", name, d.Description)
			}
		}
	}
	// Engagement holds no billing or PII scope: the finance and support
	// reads are refused before they run.
	engagement := agentCredential(t, false, access.PresetEngagement.Scopes()...)
	for _, name := range []string{"FinanceMembershipSummary", "SupportMemberByEmail", "SupportMemberTimeline"} {
		d, _ := m.ByName(name)
		var denied *graph.AgentDenied
		if err := graph.AgentMayRun(engagement, d); !errors.As(err, &denied) || denied.Code != graph.CodeInsufficientScope || len(denied.Missing) == 0 {
			t.Errorf("engagement runs %s: %v", name, err)
		}
	}
}

// TestAgentMayRunMutationsOnlyWhenGranted: the scopes a mutation needs are
// not enough; the key must be granted mutations. Documents for signed-in
// people are never an agent's.
func TestAgentMayRunMutationsOnlyWhenGranted(t *testing.T) {
	t.Parallel()
	m := projectOperations(t)
	replay, _ := m.ByName("ReplayDeadLetter")
	me, _ := m.ByName("Me")
	var denied *graph.AgentDenied
	if err := graph.AgentMayRun(agentCredential(t, false, access.ScopeOpsWrite), replay); !errors.As(err, &denied) || denied.Code != graph.CodeMutationsNotGranted {
		t.Fatalf("mutation without the grant: %v", err)
	}
	if err := graph.AgentMayRun(agentCredential(t, true, access.ScopeOpsWrite), replay); err != nil {
		t.Fatalf("granted mutation: %v", err)
	}
	if err := graph.AgentMayRun(agentCredential(t, true, access.ScopeOpsRead), replay); !errors.As(err, &denied) || denied.Code != graph.CodeInsufficientScope {
		t.Fatalf("granted mutation without its scope: %v", err)
	}
	if err := graph.AgentMayRun(agentCredential(t, true, access.AllScopes()...), me); !errors.As(err, &denied) || denied.Code != graph.CodeSignedInOnly {
		t.Fatalf("signed-in document: %v", err)
	}
}

// TestAgentGateRefusesAMutationOverGET: a GET never runs a mutation, even
// for a key granted it; the refusal is recorded and nothing runs.
func TestAgentGateRefusesAMutationOverGET(t *testing.T) {
	t.Parallel()
	m := projectOperations(t)
	replay, _ := m.ByName("ReplayDeadLetter")
	var recorded []application.AgentCall
	ran := false
	gate := graph.AgentGate(m, func(_ context.Context, c application.AgentCall) error {
		recorded = append(recorded, c)
		return nil
	}, nil)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
	cred := agentCredential(t, true, access.ScopeOpsWrite)
	r := httptest.NewRequestWithContext(application.WithAgentCredential(t.Context(), cred), http.MethodGet,
		"/graphql?documentId="+url.QueryEscape(replay.ID)+`&variables={"id":"dl1"}`, nil)
	w := httptest.NewRecorder()
	gate.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed || ran || len(recorded) != 1 || recorded[0].Operation != "ReplayDeadLetter" ||
		recorded[0].Outcome != ports.OutcomeFailure || recorded[0].VariablesSHA256 == "" {
		t.Fatalf("GET mutation: %d, ran %v, recorded %+v", w.Code, ran, recorded)
	}
}
