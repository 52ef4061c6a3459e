package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/urfave/cli/v3"

	"github.com/womendefiningai/platform/adapters/httpapi"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/adapters/stripe"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/graph"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/ports"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "serve the HTTP API (GraphQL, webhooks, jobs, health, metrics) and, unless --no-worker, the worker",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-worker", Usage: "serve HTTP only; run \"wdai worker\" separately"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			env, err := setup()
			if err != nil {
				return err
			}
			return serve(ctx, env, !cmd.Bool("no-worker"))
		},
	}
}

func serve(ctx context.Context, env environment, withWorker bool) error {
	cfg, logger := env.cfg, env.logger
	// An operation of operations/ that the schema refuses stops the start,
	// before anything else happens.
	if _, err := loadTrustedDocuments(operationsFS); err != nil {
		return err
	}
	// Listen first: a taken port is reported before the database starts.
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.HTTPAddr)
	if err != nil {
		return listenError(cfg.HTTPAddr, err)
	}
	defer func() { _ = ln.Close() }()

	db, err := openDatabaseAnnounced(ctx, cfg, logger, true)
	if err != nil {
		return err
	}
	defer db.CloseContext(ctx) // ctx lends its values, not its cancellation

	migrator, err := postgres.NewMigrator(db.Pool)
	if err != nil {
		return err
	}
	defer func() { _ = migrator.Close() }()
	if err := prepareSchema(ctx, cfg, migrator, logger); err != nil {
		return err
	}

	sys, err := buildSystem(cfg, db.Pool, logger)
	if err != nil {
		return err
	}
	sys.graphiqlHeaders = env.graphiqlHeaders
	handler, metrics, err := buildHTTPAndMetrics(sys, migrator)
	if err != nil {
		return err
	}
	stopMetrics, err := serveMetrics(ctx, cfg.MetricsAddr, metrics, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()
	defer startHealthSampler(ctx, sys, sys.gatherer)() // stops before the pool closes
	// The worker stops after HTTP has drained (its own context), and before
	// the pool closes (deferred above, so it runs after this).
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorker()
	var workerDone chan error // nil without a worker: never ready in the select below
	if withWorker {
		workerDone = make(chan error, 1)
		go func() { workerDone <- runWorker(workerCtx, sys) }()
	}
	defer func() {
		stopWorker()
		if workerDone == nil {
			return
		}
		if err := <-workerDone; err != nil {
			logger.Error("worker stopped with an error", "error", err.Error())
		}
	}()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		// The request line and headers (a GET query string among them);
		// GraphQL bodies have their own cap (GRAPHQL_MAX_BODY_BYTES).
		MaxHeaderBytes: 128 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("wdai serving", "addr", ln.Addr().String(), "env", string(cfg.Env))
	announceGraphiQL(cfg, ln.Addr())
	if env.onReady != nil {
		env.onReady(sys, browserURL(ln.Addr()))
	}

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case err := <-workerDone:
		workerDone <- err // for the deferred wait
		if err == nil {
			err = errors.New("it returned without an error")
		}
		return fmt.Errorf("worker stopped: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	logger.Info("stopped")
	return nil // deferred: pools close, then the embedded cluster stops
}

// prepareSchema migrates up in development; production refuses to serve
// on a database that is behind.
func prepareSchema(ctx context.Context, cfg config.Config, m *postgres.Migrator, logger *slog.Logger) error {
	if cfg.Dev() {
		applied, err := m.Up(ctx)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			logger.Info("migrated", "versions", applied)
		}
		return nil
	}
	return m.CheckAtHead(ctx)
}

// buildHTTP returns the public handler.
func buildHTTP(sys *system, migrator *postgres.Migrator) (http.Handler, error) {
	public, _, err := buildHTTPAndMetrics(sys, migrator)
	return public, err
}

// buildHTTPAndMetrics returns the public handler and the metrics handler,
// which is served only on METRICS_ADDR.
func buildHTTPAndMetrics(sys *system, migrator *postgres.Migrator) (http.Handler, http.Handler, error) {
	cfg, pool := sys.cfg, sys.pool
	// Every line logged with a request's context carries its request id.
	logger := slog.New(httpapi.ContextLogHandler(sys.logger.Handler()))
	reg := prometheus.NewRegistry()
	// sys.breakers: each provider's circuit breaker state.
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), sys.breakers)
	// sys.calls: every provider call by outcome; the health view as gauges.
	reg.MustRegister(sys.calls, newHealthCollector(sys))
	sys.gatherer = reg
	edge, err := buildGraphEdge(sys)
	if err != nil {
		return nil, nil, err
	}
	gql := graph.NewHandler(sys.app, edge.with(graph.Options{
		ComplexityLimit: cfg.GraphQLComplexityLimit,
		Limits: graph.Limits{
			MaxBodyBytes:    cfg.GraphQLMaxBodyBytes,
			MaxTokens:       cfg.GraphQLMaxTokens,
			QueryCacheBytes: cfg.GraphQLQueryCacheBytes,
		},
		Introspection: cfg.Dev(),
		Suggestions:   cfg.Dev(),
		Logger:        logger,
	}))
	routes := map[string]http.Handler{
		"/jobs/{name}": httpapi.JobsHandler(cfg.CronSecret, func(ctx context.Context, job string) (string, error) {
			// Rounded to the minute: an external scheduler's retry, or the
			// in-process cron firing the same slot, is one run.
			run, err := sys.app.Commands.EnqueueJob.Handle(ctx, application.EnqueueJobInput{Job: job, Slot: time.Now().UTC().Truncate(time.Minute),
				Trigger: ports.TriggerHTTP, ActorKind: "system", ActorID: "cron_secret"})
			return run.ID, err
		}, sys.app.Queries.ListJobs.Known, httpapi.WithJobsLogger(logger)),
		"/webhooks/clerk":  httpapi.NotConfigured("the Clerk webhook (CLERK_WEBHOOK_SECRET)"),
		"/webhooks/stripe": httpapi.NotConfigured("the Stripe webhook (STRIPE_WEBHOOK_SECRET)"),
	}
	// MCP for agents: the same trusted operations and checks as /graphql.
	routes["/mcp"] = httpapi.AuthenticateAgents(sys.app.Commands.AuthenticateAgent.Handle, logger,
		graph.MCPHandler(edge.docs, graph.Schema(), gql, graph.MCPOptions{Logger: logger}), httpapi.AgentKeyRequired())
	if secrets := splitSecrets(cfg.StripeWebhookSecret); len(secrets) > 0 {
		verifier, err := stripe.NewWebhookVerifier(secrets, stripe.DefaultWebhookTolerance)
		if err != nil {
			return nil, nil, err
		}
		routes["/webhooks/stripe"] = httpapi.BillingWebhookHandler(verifier.Parse, func(ctx context.Context, ev ports.BillingEvent) error {
			_, err := sys.app.Commands.IngestBillingEvent.Handle(ctx, application.IngestBillingEventInput{Event: ev, Source: application.SourceWebhook})
			return err
		}, logger)
	}
	if routes["/webhooks/luma"], err = eventsWebhook(sys); err != nil {
		return nil, nil, err
	}
	if sys.identityWebhook != nil {
		routes["/webhooks/clerk"] = httpapi.IdentityWebhookHandler(sys.identityWebhook.Parse, sys.app.Commands.SyncIdentity.Handle, logger)
	}
	public, err := httpapi.NewHandler(httpapi.Config{
		GraphQL: httpapi.AuthenticateAgents(sys.app.Commands.AuthenticateAgent.Handle, logger,
			gql, httpapi.Authenticate(sys.signIn, sys.app.Commands.Authenticate.Handle, logger,
				httpapi.OnFailedAuthentication(edge.refuseFailedAuth))(gql)),
		GraphiQL: cfg.Dev(), GraphiQLHeaders: sys.graphiqlHeaders,
		Logger:   logger,
		Registry: reg,
		Routes:   routes,
		Ready: []httpapi.Check{
			{Name: "database", Func: pool.Ping},
			{Name: "migrations", Func: migrator.CheckAtHead},
		},
	})
	if err != nil {
		return nil, nil, err
	}
	return public, httpapi.MetricsHandler(reg), nil
}

// serveMetrics serves /metrics on addr, a listener of its own that the
// scraper reaches and the public does not; an empty addr serves nothing.
// The returned func stops it.
func serveMetrics(ctx context.Context, addr string, h http.Handler, logger *slog.Logger) (func(), error) {
	if addr == "" {
		logger.Info("metrics are not served (METRICS_ADDR is empty)")
		return func() {}, nil
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on METRICS_ADDR %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	logger.Info("metrics serving", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// splitSecrets splits a comma-separated list of webhook secrets (several
// during a rotation), dropping blanks.
func splitSecrets(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
