package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/membership"
	"github.com/womendefiningai/platform/internal/testdb"
	"github.com/womendefiningai/platform/ports"
)

// BenchmarkAgentStarterQuery: the finance agent's starter query
// (FinanceMembershipSummary, by documentId) through the whole HTTP stack
// from 16 clients over loopback, once with an agent key (key look-up,
// agent gate, the key's allowance, the audit entry of every call) and once
// as a signed-in admin (session token verified against the Clerk
// stand-in's JWKS), same query, same process, in interleaved rounds. It
// reports both rates and the median of the rounds' agent/admin ratios (the
// goal is at least 0.5).
func BenchmarkAgentStarterQuery(b *testing.B) {
	clerk := clerkfake.New(b)
	clerk.AddUser(ports.IdentityUser{ID: "user_admin", FirstName: "Ada", LastName: "Admin", PrimaryEmail: "ada@example.test",
		Emails: []ports.IdentityEmail{{Address: "ada@example.test", Verified: true}}})
	dbURL := testdb.NewURL(b)
	pool, sys, handler := benchSystem(b, dbURL, map[string]string{"WDAI_ENV": "production",
		"CLERK_SECRET_KEY": clerk.SecretKey(), "CLERK_API_URL": clerk.URL(),
		"CLERK_ISSUER": clerkfake.DefaultIssuer, "CLERK_AUTHORIZED_PARTIES": "http://localhost:3000",
		"RATE_LIMIT_PER_MINUTE": "1000000"})
	ctx := context.Background()
	seedMemberships(b, pool, 20)
	url := "http://" + serveBench(b, "wdai", handler) + "/graphql"

	docs, err := loadTrustedDocuments(operationsFS)
	if err != nil {
		b.Fatal(err)
	}
	doc, _ := docs.ByName("FinanceMembershipSummary")
	body, _ := json.Marshal(map[string]string{"documentId": doc.ID})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: signedInClients, MaxConnsPerHost: signedInClients}}
	call := func(token string) error {
		req, _ := http.NewRequestWithContext(b.Context(), http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		out, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(out, []byte(`"total":20`)) || bytes.Contains(out, []byte(`"errors"`)) {
			return &benchError{status: resp.StatusCode, body: string(out)}
		}
		return nil
	}

	// The admin: signed in once (creates the person), then given the role.
	adminToken := clerk.MintToken("user_admin")
	_ = call(adminToken) // a member without billing:read: refused, but signed in
	signedIn, err := postgres.NewPeopleStore(pool).GetByIdentityID(ctx, "user_admin", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := postgres.NewPeopleStore(pool).SetRole(ctx, signedIn.ID, access.RoleAdmin); err != nil {
		b.Fatal(err)
	}
	operator, _ := access.NewSystem("bench")
	created, err := sys.app.Commands.CreateAgentKey.Handle(application.WithPrincipal(ctx, operator), application.CreateAgentKeyInput{
		Name: "finance bench", Scopes: access.PresetFinance.Scopes(), RatePerMinute: 1_000_000})
	if err != nil {
		b.Fatal(err)
	}
	for _, tok := range []string{adminToken, created.Plaintext} {
		if err := call(tok); err != nil {
			b.Fatal(err)
		}
	}

	serveN := func(token string, n int) float64 {
		var next atomic.Int64
		var wg sync.WaitGroup
		begin := time.Now()
		for range signedInClients {
			wg.Go(func() {
				for next.Add(1) <= int64(n) {
					if err := call(token); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return float64(n) / time.Since(begin).Seconds()
	}
	const rounds = 6
	per := max(b.N/rounds, 50)
	var agentRates, adminRates, ratios []float64
	b.ResetTimer()
	for r := range rounds {
		var agent, admin float64
		if r%2 == 0 {
			agent, admin = serveN(created.Plaintext, per), serveN(adminToken, per)
		} else {
			admin, agent = serveN(adminToken, per), serveN(created.Plaintext, per)
		}
		agentRates, adminRates, ratios = append(agentRates, agent), append(adminRates, admin), append(ratios, agent/admin)
	}
	b.StopTimer()
	slices.Sort(agentRates)
	slices.Sort(adminRates)
	slices.Sort(ratios)
	b.ReportMetric(agentRates[rounds/2], "agent-calls/s")
	b.ReportMetric(adminRates[rounds/2], "admin-calls/s")
	b.ReportMetric(ratios[rounds/2], "agent/admin")
	var audited int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'agent.call'`).Scan(&audited); err != nil || audited < rounds*per {
		b.Fatalf("%d agent calls audited (%v), want at least %d", audited, err, rounds*per)
	}
}

// seedMemberships creates n people with active memberships.
func seedMemberships(b *testing.B, pool postgres.Querier, n int) {
	b.Helper()
	ctx := context.Background()
	people, ms := postgres.NewPeopleStore(pool), postgres.NewMembershipStore(pool)
	tier, _ := membership.NewTier("community")
	for i := range n {
		p, err := people.Create(ctx, fmt.Sprintf("m%02d@example.test", i), "M", fmt.Sprint(i))
		if err != nil {
			b.Fatal(err)
		}
		snap, _ := membership.NewSnapshot(membership.SnapshotParams{SubscriptionID: "sub_" + p.ID, Status: membership.ProviderActive, Tier: tier,
			CurrentPeriodEnd: time.Now().Add(720 * time.Hour), TakenAt: time.Now()})
		if err := ms.Update(ctx, p.ID, func(m *membership.Membership) error { _, err := m.ApplySnapshot(snap); return err }); err != nil {
			b.Fatal(err)
		}
	}
	testdb.GrantSeededMembers(b, pool)
}
