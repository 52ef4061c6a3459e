package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/adapters/luma/lumafake"
	"github.com/womendefiningai/platform/adapters/mailchimp/mailchimpfake"
	"github.com/womendefiningai/platform/adapters/slack/slackfake"
	"github.com/womendefiningai/platform/adapters/stripe/stripefake"
	"github.com/womendefiningai/platform/internal/config"
)

// devOwner runs the stand-ins outside tests: a misuse of a stand-in (the
// Fatal of a test) is a panic that the caller recovers into an error, and
// the cleanups run when `wdai dev` ends.
type devOwner struct {
	mu       sync.Mutex
	cleanups []func()
}

// standinMisuse is the panic value of a stand-in's Fatal.
type standinMisuse struct{ msg string }

func (o *devOwner) Helper()                   {}
func (o *devOwner) Fatal(args ...any)         { panic(standinMisuse{fmt.Sprint(args...)}) }
func (o *devOwner) Fatalf(f string, a ...any) { panic(standinMisuse{fmt.Sprintf(f, a...)}) }
func (o *devOwner) Cleanup(f func())          { o.mu.Lock(); o.cleanups = append(o.cleanups, f); o.mu.Unlock() }
func (o *devOwner) close() {
	o.mu.Lock()
	fs := o.cleanups
	o.cleanups = nil
	o.mu.Unlock()
	for _, f := range slices.Backward(fs) {
		f()
	}
}

// providerCall is one HTTP request a stand-in received (or, for webhooks,
// one request a stand-in sent to wdai).
type providerCall struct {
	Provider string
	Method   string
	Path     string
	Status   int
}

func (c providerCall) String() string {
	return fmt.Sprintf("%-9s %-6s %s -> %d", c.Provider, c.Method, c.Path, c.Status)
}

// callLog keeps every provider call of this `wdai dev`, in order.
type callLog struct {
	mu    sync.Mutex
	calls []providerCall
}

func (l *callLog) add(c providerCall) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

func (l *callLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.calls)
}

func (l *callLog) since(mark int) []providerCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls[mark:])
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// front puts a logging reverse proxy on loopback in front of a stand-in:
// every call the platform makes is logged (method, path and status: no
// query, header or body, which may hold addresses or keys) and recorded. It
// returns target's URL with the proxy's host.
func front(ctx context.Context, owner *devOwner, name, target string, calls *callLog, logger *slog.Logger) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(&url.URL{Scheme: u.Scheme, Host: u.Host})
		r.Out.Host = u.Host
	}}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		begin := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		proxy.ServeHTTP(rec, r)
		calls.add(providerCall{Provider: name, Method: r.Method, Path: r.URL.Path, Status: rec.status})
		logger.Info("provider call", "provider", name, "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "took", time.Since(begin).Round(time.Millisecond))
	})
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	owner.Cleanup(func() { _ = srv.Close() })
	out := *u
	out.Host = ln.Addr().String()
	return out.String(), nil
}

// devStack is the stand-ins of `wdai dev`, their fronts and the secrets
// they sign webhooks with.
type devStack struct {
	owner  *devOwner
	calls  *callLog
	stripe *stripefake.Server
	clerk  *clerkfake.Server
	mc     *mailchimpfake.Server
	luma   *lumafake.Server
	slack  *slackfake.Server

	stripeWebhookSecret string
	clerkWebhookSecret  string
	lumaWebhookSecret   string            // "whsec_" and the base64 of 24 random bytes, as Luma's
	urls                map[string]string // provider -> front URL
}

// Development Mailchimp list and journeys of the stand-in.
const (
	devMailchimpKey  = "0123456789abcdef0123456789abcdef-us1"
	devMailchimpList = "devlist"
)

// startDevStack starts every stand-in on loopback behind its logging front
// and points cfg at them.
func startDevStack(ctx context.Context, cfg *config.Config, logger *slog.Logger) (st *devStack, err error) {
	owner := &devOwner{}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("start the stand-ins: %v", r)
		}
		if err != nil {
			owner.close()
		}
	}()
	secret, lumaKey := make([]byte, 24), make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	if _, err := rand.Read(lumaKey); err != nil {
		return nil, err
	}
	st = &devStack{owner: owner, calls: &callLog{}, urls: map[string]string{},
		stripeWebhookSecret: "whsec_dev_" + hex.EncodeToString(secret), clerkWebhookSecret: clerkfake.NewWebhookSecret(),
		lumaWebhookSecret: "whsec_" + base64.StdEncoding.EncodeToString(lumaKey)}
	st.stripe = stripefake.New(owner)
	st.stripe.SetEventIDPrefix(fmt.Sprintf("evt_dev_%d_", time.Now().Unix()))
	st.clerk = clerkfake.New(owner)
	st.mc = mailchimpfake.New(owner, devMailchimpKey, devMailchimpList)
	st.luma = lumafake.New()
	owner.Cleanup(st.luma.Close)
	st.slack = slackfake.New()
	owner.Cleanup(st.slack.Close)

	for _, p := range []struct{ name, target string }{
		{"stripe", st.stripe.URL()}, {"clerk", st.clerk.URL()}, {"mailchimp", st.mc.URL()},
		{"luma", st.luma.URL}, {"slack", st.slack.URL()},
	} {
		if st.urls[p.name], err = front(ctx, owner, p.name, p.target, st.calls, logger); err != nil {
			return nil, err
		}
	}
	cfg.StripeSecretKey, cfg.StripeAPIURL, cfg.StripeWebhookSecret = st.stripe.SecretKey(), st.urls["stripe"], st.stripeWebhookSecret
	cfg.ClerkSecretKey, cfg.ClerkAPIURL, cfg.ClerkWebhookSecret = st.clerk.SecretKey(), st.urls["clerk"], st.clerkWebhookSecret
	cfg.ClerkIssuer, cfg.ClerkAuthorizedParties = clerkfake.DefaultIssuer, []string{clerkfake.DefaultAuthorizedParty}
	cfg.MailchimpAPIKey, cfg.MailchimpListID, cfg.MailchimpAPIURL = devMailchimpKey, devMailchimpList, st.urls["mailchimp"]
	cfg.MailchimpWelcomeJourneyID, cfg.MailchimpWelcomeStepID = "dev_welcome", "dev_welcome_step"
	cfg.MailchimpPaymentFailedJourneyID, cfg.MailchimpPaymentFailedStepID = "dev_payment_failed", "dev_payment_failed_step"
	cfg.MailchimpWinBackJourneyID, cfg.MailchimpWinBackStepID = "dev_win_back", "dev_win_back_step"
	cfg.LumaAPIKey, cfg.LumaAPIURL, cfg.LumaWebhookSecret = lumafake.DefaultKey, st.urls["luma"], st.lumaWebhookSecret
	cfg.SlackBotToken, cfg.SlackAPIURL = slackfake.Token, st.urls["slack"]
	if cfg.CronSecret == "" {
		cfg.CronSecret = hex.EncodeToString(secret)
	}
	return st, nil
}

// guard runs f, turning a stand-in's misuse panic into an error.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			m, ok := r.(standinMisuse)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("stand-in: %s", m.msg)
		}
	}()
	return f()
}
