package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/adapters/slack/slackfake"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/internal/devauth"
	"github.com/womendefiningai/platform/ports"
)

// DevControlFile is where a running `wdai dev` writes how to reach its
// control listener (mode 0600: it holds the bearer token).
const DevControlFile = "dev.json"

// devControlInfo is the content of DevControlFile.
type devControlInfo struct {
	URL   string `json:"url"`
	Token string `json:"token"`
	// Base is wdai's own base URL (GraphQL at Base+"graphql").
	Base string `json:"base"`
	// LumaWebhookSecret signs deliveries to Base+"webhooks/luma" (the
	// Standard Webhooks scheme, as lumafake.SignWebhook does).
	LumaWebhookSecret string `json:"luma_webhook_secret"`
}

// simulations are the kinds `wdai dev simulate` accepts, in the order of a
// member's life.
var simulations = []string{"signup", "checkout", "payment-failed", "recover", "cancel-at-period-end", "period-end", "rsvp", "rsvp-webhook", "chat-sync"}

// devControl drives the stand-ins for `wdai dev simulate`, in the `wdai dev`
// process that runs them. One simulation runs at a time.
type devControl struct {
	st   *devStack
	sys  *system
	base string // wdai's base URL, ending in /

	mu   sync.Mutex
	subs map[string]stripefake.Subscription // by person id
	seq  int
}

// simulate runs one kind for the person with email and writes what happened
// to w: the webhooks the stand-ins sent, the state the platform reached and
// every call each provider received meanwhile.
func (c *devControl) simulate(ctx context.Context, kind, email string, w io.Writer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	email = strings.TrimSpace(email)
	if !strings.Contains(email, "@") {
		return fmt.Errorf("--email: %q is not an address", email)
	}
	mark := c.st.calls.mark()
	fmt.Fprintf(w, "== %s %s\n", kind, email)
	err := guard(func() error { return c.run(ctx, kind, email, w) })
	calls := c.st.calls.since(mark)
	fmt.Fprintf(w, "   provider calls (%d):\n", len(calls))
	for _, call := range calls {
		fmt.Fprintf(w, "     %s\n", call)
	}
	return err
}

func (c *devControl) run(ctx context.Context, kind, email string, w io.Writer) error {
	if kind == "signup" {
		return c.signup(ctx, email, w)
	}
	person, err := c.person(ctx, email, kind == "checkout")
	if err != nil {
		return err
	}
	if kind == "rsvp" {
		return c.rsvp(ctx, person, email, w)
	}
	if kind == "rsvp-webhook" {
		return c.rsvpWebhook(ctx, person, email, w)
	}
	if kind == "chat-sync" {
		return c.chatSync(ctx, person, email, w)
	}
	sub, ok := c.subs[person.ID]
	if !ok && kind != "checkout" {
		return fmt.Errorf("%s has no subscription in this `wdai dev`: simulate checkout first", email)
	}
	now := time.Now()
	var events [][]byte
	var want func(m devMembership) bool
	switch kind {
	case "checkout":
		if ok && sub.Status != "canceled" {
			return fmt.Errorf("%s already has subscription %s (%s)", email, sub.ID, sub.Status)
		}
		c.seq++
		n := fmt.Sprintf("dev_%d_%d", now.Unix(), c.seq)
		price, err := c.communityPrice(ctx)
		if err != nil {
			return err
		}
		sub = stripefake.Subscription{ID: "sub_" + n, Customer: "cus_" + n, Status: "incomplete", PriceID: price, CurrentPeriodEnd: now.Add(30 * 24 * time.Hour)}
		events = append(events, c.st.stripe.ChangeSubscription("customer.subscription.created", now, sub))
		sub.Status = "active"
		events = append(events, c.st.stripe.ChangeSubscription("customer.subscription.updated", now.Add(time.Second), sub))
		cs := stripefake.CheckoutSessionCompletedEvent(c.st.stripe.NewEventID(), now.Add(2*time.Second), stripefake.CheckoutSession{
			Customer: sub.Customer, Subscription: sub.ID, ClientReferenceID: person.ID, CustomerEmail: email, CustomerName: person.FirstName})
		c.st.stripe.AddEvent(cs)
		events = append(events, cs)
		want = func(m devMembership) bool { return m.Status == "active" }
	case "payment-failed":
		sub.Status, sub.LatestInvoiceAttempt, sub.LatestInvoice = "past_due", sub.LatestInvoiceAttempt+1, "in_"+strings.TrimPrefix(sub.ID, "sub_")
		events = append(events, c.st.stripe.ChangeSubscription("customer.subscription.updated", now, sub))
		failed := stripefake.InvoicePaymentFailedEvent(c.st.stripe.NewEventID(), now, stripefake.Invoice{ID: sub.LatestInvoice,
			Customer: sub.Customer, Subscription: sub.ID, AttemptCount: sub.LatestInvoiceAttempt, NextPaymentAttempt: now.Add(48 * time.Hour)})
		c.st.stripe.AddEvent(failed)
		events = append(events, failed)
		want = func(m devMembership) bool { return m.Status == "past_due" }
	case "recover":
		sub.Status, sub.LatestInvoiceAttempt = "active", 0
		events = append(events, c.st.stripe.ChangeSubscription("customer.subscription.updated", now, sub))
		want = func(m devMembership) bool { return m.Status == "active" }
	case "cancel-at-period-end":
		sub.CancelAtPeriodEnd = true
		events = append(events, c.st.stripe.ChangeSubscription("customer.subscription.updated", now, sub))
		want = func(m devMembership) bool { return m.Status == "active" && m.CancelAtPeriodEnd }
	case "period-end":
		// At the end of the period Stripe ends the subscription.
		sub.Status, sub.CurrentPeriodEnd = "canceled", now
		events = append(events, c.st.stripe.ChangeSubscription("customer.subscription.deleted", now, sub))
		want = func(m devMembership) bool { return m.Status == "canceled" && m.Alumni }
	default:
		return fmt.Errorf("unknown simulation %q (known: %s)", kind, strings.Join(simulations, ", "))
	}
	c.subs[person.ID] = sub
	for _, ev := range events {
		if err := c.deliverStripe(ctx, ev, w); err != nil {
			return err
		}
	}
	m, err := c.waitMembership(ctx, person.ID, want)
	fmt.Fprintf(w, "   membership: %s\n", m)
	if err != nil {
		return err
	}
	return c.waitQuiet(ctx)
}

// signup makes the Clerk stand-in know a user with the address and send
// the signed user.created webhook, as Clerk does after a sign-up; wdai
// creates the person from it.
func (c *devControl) signup(ctx context.Context, email string, w io.Writer) error {
	u := ports.IdentityUser{ID: devauth.UserID(email), Emails: []ports.IdentityEmail{{Address: email, Verified: true}},
		PrimaryEmail: email, FirstName: strings.Split(email, "@")[0], LastName: "(dev)"}
	c.st.clerk.AddUser(u)
	body := clerkfake.UserEvent(ports.IdentityUserCreated, u)
	c.seq++
	msgID := fmt.Sprintf("msg_dev_%d_%d", time.Now().Unix(), c.seq)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"webhooks/clerk", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = clerkfake.SignWebhook(c.st.clerkWebhookSecret, msgID, body, time.Now())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("deliver user.created: %w", err)
	}
	_ = resp.Body.Close()
	c.st.calls.add(providerCall{Provider: "clerk->wdai", Method: http.MethodPost, Path: "/webhooks/clerk user.created", Status: resp.StatusCode})
	c.sys.logger.Info("stand-in sent a webhook", "provider", "clerk", "type", "user.created", "msg_id", msgID, "status", resp.StatusCode)
	fmt.Fprintf(w, "   webhook sent: clerk user.created %s -> %d\n", msgID, resp.StatusCode)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("wdai answered the user.created webhook with %d", resp.StatusCode)
	}
	p, err := c.sys.peopleStore().GetByIdentityID(ctx, u.ID, time.Now())
	if err != nil {
		return fmt.Errorf("no person for the new user: %w", err)
	}
	fmt.Fprintf(w, "   person %s (%s), role %s\n", p.ID, email, p.Role)
	return c.waitQuiet(ctx)
}

// person finds the person with the address; create (checkout) makes a
// signed-up person when there is none, as a first sign-in would.
func (c *devControl) person(ctx context.Context, email string, create bool) (ports.Person, error) {
	p, err := c.sys.peopleByEmail(ctx, email)
	if err == nil || !create || !errors.Is(err, ports.ErrNotFound) {
		return p, err
	}
	u := ports.IdentityUser{ID: devauth.UserID(email), Emails: []ports.IdentityEmail{{Address: email, Verified: true}},
		PrimaryEmail: email, FirstName: strings.Split(email, "@")[0], LastName: "(dev)"}
	c.st.clerk.AddUser(u)
	up, err := c.sys.peopleStore().UpsertFromIdentity(ctx, u)
	return up.Person, err
}

func (c *devControl) communityPrice(ctx context.Context) (string, error) {
	var price *string
	err := c.sys.pool.QueryRow(ctx, `SELECT stripe_price_id FROM membership_tiers WHERE id = 'community'`).Scan(&price)
	if err != nil {
		return "", fmt.Errorf("community tier: %w", err)
	}
	if price == nil || *price == "" {
		return "", errors.New("the community tier has no stripe_price_id")
	}
	return *price, nil
}

// deliverStripe signs the event with the development secret, as Stripe
// does, and POSTs it to wdai's webhook.
func (c *devControl) deliverStripe(ctx context.Context, event []byte, w io.Writer) error {
	var head struct{ ID, Type string }
	_ = json.Unmarshal(event, &head)
	body, sig := c.st.stripe.SignedWebhook(c.st.stripeWebhookSecret, event)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"webhooks/stripe", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("deliver %s: %w", head.Type, err)
	}
	_ = resp.Body.Close()
	c.st.calls.add(providerCall{Provider: "stripe->wdai", Method: http.MethodPost, Path: "/webhooks/stripe " + head.Type, Status: resp.StatusCode})
	c.sys.logger.Info("stand-in sent a webhook", "provider", "stripe", "type", head.Type, "event_id", head.ID, "status", resp.StatusCode)
	fmt.Fprintf(w, "   webhook sent: stripe %s %s -> %d\n", head.Type, head.ID, resp.StatusCode)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("wdai answered the %s webhook with %d", head.Type, resp.StatusCode)
	}
	return nil
}

// devMembership is the membership row the simulations wait for.
type devMembership struct {
	Status, Tier                       string
	Visible, Alumni, CancelAtPeriodEnd bool
}

func (m devMembership) String() string {
	return fmt.Sprintf("status=%s tier=%s visible=%t alumni=%t cancel_at_period_end=%t", m.Status, m.Tier, m.Visible, m.Alumni, m.CancelAtPeriodEnd)
}

func (c *devControl) waitMembership(ctx context.Context, personID string, want func(devMembership) bool) (devMembership, error) {
	var m devMembership
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.sys.pool.QueryRow(ctx, `SELECT status, tier, visible, alumni, cancel_at_period_end FROM memberships WHERE person_id = $1`, personID).
			Scan(&m.Status, &m.Tier, &m.Visible, &m.Alumni, &m.CancelAtPeriodEnd)
		if err == nil && want(m) {
			return m, nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return m, fmt.Errorf("the membership did not reach the expected state within 30s: %w", err)
			}
			return m, fmt.Errorf("the membership did not reach the expected state within 30s (now %s)", m)
		}
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitQuiet waits until the worker has handled every message the step
// caused (the email list and journeys among them), twice in a row.
func (c *devControl) waitQuiet(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	quiet := 0
	for quiet < 2 {
		n, err := c.pending(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			quiet++
		} else {
			quiet = 0
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d messages still queued after 30s", n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(150 * time.Millisecond):
		}
	}
	return nil
}

func (c *devControl) pending(ctx context.Context) (int, error) {
	total := 0
	var n int
	if err := c.sys.pool.QueryRow(ctx, `SELECT count(*) FROM billing_inbox WHERE status = 'received'`).Scan(&n); err != nil {
		return 0, err
	}
	total += n
	for _, topic := range []string{ports.TopicBillingEvent, ports.TopicMemberChanged, ports.TopicPersonEmailChanged, ports.TopicPersonDeleted, ports.TopicJobRun, ports.TopicGuestRegistered} {
		if err := c.sys.pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM "watermill_%s"`, topic)).Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// chatSync puts an account with the address in the Slack workspace and runs
// the Slack sync job.
func (c *devControl) chatSync(ctx context.Context, person ports.Person, email string, w io.Writer) error {
	c.st.slack.Put(slackfake.Account{ID: "U" + strings.ToUpper(strings.TrimPrefix(devauth.UserID(email), "dev_"))[:10], Email: email})
	fmt.Fprintf(w, "   slack: %s has an account in the workspace\n", email)
	if _, err := c.runJob(ctx, jobChatSync, w); err != nil {
		return err
	}
	var status string
	err := c.sys.pool.QueryRow(ctx, `SELECT status FROM integrations WHERE provider = 'chat' AND person_id = $1`, person.ID).Scan(&status)
	if err != nil {
		return fmt.Errorf("no Slack status recorded for %s (the sync covers members listed in the directory: "+
			"an active membership and setMyVisibility(visible: true)): %w", email, err)
	}
	fmt.Fprintf(w, "   slack status of %s: %s\n", email, status)
	return nil
}

// runJob enqueues a job run, as `wdai job run` does, and waits for it to
// complete.
func (c *devControl) runJob(ctx context.Context, job string, w io.Writer) (string, error) {
	p, err := access.NewSystem("cli:dev-simulate")
	if err != nil {
		return "", err
	}
	run, err := c.sys.app.Commands.EnqueueJob.Handle(application.WithPrincipal(ctx, p), application.EnqueueJobInput{
		Job: job, Slot: time.Now().UTC(), Trigger: ports.TriggerCLI, ActorKind: p.Kind().String(), ActorID: p.ID()})
	if err != nil {
		return "", fmt.Errorf("enqueue %s: %w", job, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var status string
		var summary []byte
		if err := c.sys.pool.QueryRow(ctx, `SELECT status, summary FROM job_runs WHERE id = $1`, run.ID).Scan(&status, &summary); err != nil {
			return "", err
		}
		switch status {
		case "completed":
			fmt.Fprintf(w, "   job %s run %s: completed %s\n", job, run.ID, summary)
			return run.ID, nil
		case "failed", "dead_letter", "abandoned":
			return "", fmt.Errorf("job %s run %s: %s", job, run.ID, status)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("job %s run %s still %s after 60s", job, run.ID, status)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// serveControl serves POST /simulate/{kind}?email=E on loopback for `wdai
// dev simulate`, with a random bearer token, and writes DevControlFile.
func (c *devControl) serveControl(ctx context.Context, dataDir string, token string) (func(), error) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /simulate/{kind}", func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+token)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var out bytes.Buffer
		err := c.simulate(r.Context(), r.PathValue("kind"), r.URL.Query().Get("email"), &out)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err != nil {
			fmt.Fprintf(&out, "FAILED: %v\n", err)
			w.WriteHeader(http.StatusUnprocessableEntity)
		}
		_, _ = w.Write(out.Bytes())
	})
	// GET /calls?from=N: the provider calls from the Nth on, one a line,
	// and in X-Next-Call the index to ask from next time.
	mux.HandleFunc("GET /calls", func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+token)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		from, err := strconv.Atoi(r.URL.Query().Get("from"))
		next := c.st.calls.mark()
		if err != nil || from < 0 || from > next {
			from = next
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Next-Call", strconv.Itoa(next))
		for _, call := range c.st.calls.since(from)[:next-from] {
			fmt.Fprintf(w, "%s\n", call)
		}
	})
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	path := filepath.Join(dataDir, DevControlFile)
	b, _ := json.Marshal(devControlInfo{URL: "http://" + ln.Addr().String(), Token: token, Base: c.base,
		LumaWebhookSecret: c.st.lumaWebhookSecret})
	if err := writePrivateFile(path, string(b)+"\n"); err != nil {
		_ = srv.Close()
		return nil, err
	}
	return func() { _ = os.Remove(path); _ = srv.Close() }, nil
}

// knownSimulation reports whether kind is one `wdai dev simulate` accepts.
func knownSimulation(kind string) bool { return slices.Contains(simulations, kind) }

// peopleStore is the people store on the system's pool.
func (s *system) peopleStore() *postgres.PeopleStore { return postgres.NewPeopleStore(s.pool) }

// peopleByEmail finds the one person holding the verified address.
func (s *system) peopleByEmail(ctx context.Context, email string) (ports.Person, error) {
	return s.peopleStore().GetByEmail(ctx, email)
}
