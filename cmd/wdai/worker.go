package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/urfave/cli/v3"
	"golang.org/x/sync/errgroup"

	"github.com/womendefiningai/platform/adapters/cron"
	"github.com/womendefiningai/platform/adapters/httpapi"
	"github.com/womendefiningai/platform/adapters/messaging"
	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/ports"
)

func workerCommand() *cli.Command {
	return &cli.Command{
		Name:  "worker",
		Usage: "run only the message router and the cron scheduler",
		Action: func(ctx context.Context, _ *cli.Command) error {
			sys, closeSystem, err := openSystem(ctx)
			if err != nil {
				return err
			}
			defer closeSystem()
			// A pool too small for the consumers stops the start before
			// anything says the worker runs.
			if _, err := workerPoolSize(sys.cfg, len(messageHandlers(sys.app.Commands))); err != nil {
				return err
			}
			// The worker's providers and their circuit breakers are its
			// own: a split deployment scrapes them here.
			stopMetrics, err := serveMetrics(ctx, sys.cfg.MetricsAddr, workerMetrics(sys), sys.logger)
			if err != nil {
				return err
			}
			defer stopMetrics()
			defer startHealthSampler(ctx, sys, nil)() // stops before the pool closes
			sys.logger.Info("wdai worker running")
			return runWorker(ctx, sys)
		},
	}
}

// workerMetrics is the worker's /metrics: the Go runtime and process, each
// provider's circuit breaker and its calls by outcome.
func workerMetrics(sys *system) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), sys.breakers, sys.calls)
	return httpapi.MetricsHandler(reg)
}

// runWorker runs the router (and the cron scheduler) until ctx ends.
func runWorker(ctx context.Context, sys *system) error {
	// Each consumer holds a connection while it handles its claim, and its
	// handler needs another for its own transactions. The worker therefore
	// gets a pool of its own, sized for its consumers, and its stores and
	// units of work use it: HTTP requests never wait behind the worker, nor
	// the worker behind HTTP.
	handlers := messageHandlers(sys.app.Commands)
	conns, err := workerPoolSize(sys.cfg, len(handlers))
	if err != nil {
		return err
	}
	pc := sys.pool.Config()
	pc.MaxConns = conns
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return fmt.Errorf("worker pool: %w", err)
	}
	defer pool.Close()
	wsys, err := workerSystem(sys, pool)
	if err != nil {
		return err
	}
	router, err := messaging.NewRouter(pool, sys.logger, sys.alerter, routerConfig(sys.cfg))
	if err != nil {
		return err
	}
	for _, h := range messageHandlers(wsys.app.Commands) {
		// Registration takes no context: each delivery runs with its message's own.
		opts := []messaging.HandlerOption{messaging.WithConsumers(sys.cfg.WorkerConsumers)}
		if d, ok := handlerTimeouts[h.name]; ok {
			opts = append(opts, messaging.WithTimeout(d))
		}
		if hook, ok := deadLetterHooks[h.name]; ok {
			opts = append(opts, messaging.WithDeadLetterHook(hook))
		}
		if err := router.AddHandler(h.name, h.topic, h.fn, opts...); err != nil { //nolint:contextcheck // false positive: the handler closure gets msg.Context() per delivery
			return err
		}
	}
	sched, err := buildCron(wsys)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := router.Run(gctx); err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("message router: %w", err)
		}
		return nil
	})
	g.Go(func() error { return sched.Run(gctx) })
	g.Go(func() error { return runAlertEvaluator(gctx, wsys) })
	return g.Wait()
}

// routerConfig is the router's retry policy from the configuration: quick
// retries for unclassified errors, later re-delivery for transient ones.
func routerConfig(cfg config.Config) messaging.RouterConfig {
	return messaging.RouterConfig{
		MaxRetries:            routerMaxRetries,
		RetryInitialInterval:  cfg.WorkerRetryInitial,
		TransientRetryInitial: cfg.WorkerTransientRetryInitial,
		TransientRetryMax:     cfg.WorkerTransientRetryMax,
		TransientRetryBudget:  cfg.WorkerRetryBudget,
	}
}

// workerPoolSize is the worker pool's size: WORKER_DB_MAX_CONNS, or, when
// it is 0, what the consumers need. A size below that need is refused: with
// every connection held by a claim, handlers would wait for one until
// their messages' ack deadlines.
func workerPoolSize(cfg config.Config, handlers int) (int32, error) {
	// One claim connection per consumer (the scheduled messages' consumer
	// included), one for each consumer's handler, and 3 spare.
	consumers := cfg.WorkerConsumers*handlers + 1
	need := 2*consumers + 3
	if cfg.WorkerDBMaxConns == 0 {
		return int32(need), nil //nolint:gosec // bounded by config validation
	}
	if cfg.WorkerDBMaxConns < need {
		return 0, fmt.Errorf("WORKER_DB_MAX_CONNS=%d is too small for WORKER_CONSUMERS=%d on %d handlers: the worker needs at least %d connections "+
			"(%d consumers, each holding one for its claim and one for its handler, and 3 spare); raise it, lower WORKER_CONSUMERS, or set 0 to size it automatically",
			cfg.WorkerDBMaxConns, cfg.WorkerConsumers, handlers, need, consumers)
	}
	return int32(cfg.WorkerDBMaxConns), nil //nolint:gosec // bounded by config validation
}

// workerSystem is sys with its stores and units of work on the worker's
// pool. The providers (and their circuit breakers) and the alerter are
// shared with sys.
func workerSystem(sys *system, pool *pgxpool.Pool) (*system, error) {
	w := *sys
	w.pool = pool
	uow, err := newUnitOfWork(pool)
	if err != nil {
		return nil, err
	}
	w.uow = uow
	if w.app, err = buildApp(&w, sys.providers); err != nil {
		return nil, err
	}
	return &w, nil
}

// buildCron fires each job at its configured UTC times; each slot runs once
// across replicas because job_runs is unique on (job, slot).
func buildCron(sys *system) (*cron.Scheduler, error) {
	jobs := map[string][]cron.TimeOfDay{}
	for job, times := range map[string]string{
		jobEventApproval:   sys.cfg.CronLumaApproval,
		jobChatSync:        sys.cfg.CronSlackSync,
		jobEmailListResync: sys.cfg.CronMailchimpResync,
		jobBillingRecon:    sys.cfg.CronStripeReconcile,
		jobTiersSync:       sys.cfg.CronTiersSync,
	} {
		parsed, err := cron.ParseTimes(times)
		if err != nil {
			return nil, err
		}
		jobs[job] = parsed
	}
	return cron.New(cron.Config{
		Jobs: jobs,
		Enqueue: func(ctx context.Context, job string, slot time.Time) error {
			_, err := sys.app.Commands.EnqueueJob.Handle(ctx, application.EnqueueJobInput{Job: job, Slot: slot, Trigger: ports.TriggerCron, ActorKind: "system", ActorID: "cron"})
			return err
		},
		Logger:  sys.logger,
		CatchUp: sys.cfg.CronCatchUp,
	})
}

// messageHandler is one topic's handler: the use case, behind the
// translator that decodes its message body.
type messageHandler struct {
	name, topic string
	fn          messaging.HandlerFunc
}

// handlerTimeouts are the handlers whose delivery has its own time instead
// of the router's HandlerTimeout: a job.run message is one page of a job.
var handlerTimeouts = map[string]time.Duration{"jobs.run": jobPageTimeout}

// deadLetterHooks write, with a dead letter of the handler's message, what
// it means for the work the message carried.
var deadLetterHooks = map[string]messaging.DeadLetterHook{"jobs.run": jobRunDeadLettered}

// jobRunDeadLettered moves the run of a dead-lettered job.run message to
// dead_letter: a page that failed transiently until the retry budget ran out
// was recorded as retrying, and would read so for ever. A run that has
// moved on (completed, abandoned) keeps its status.
func jobRunDeadLettered(ctx context.Context, tx pgx.Tx, msg ports.Message) error {
	var p ports.JobRunPayload
	if err := json.Unmarshal(msg.Payload, &p); err != nil || p.RunID == "" {
		return nil //nolint:nilerr // a body that names no run is dead-lettered all the same
	}
	runs := postgres.NewJobRuns(tx)
	run, err := runs.Get(ctx, p.RunID)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return nil // a body naming no run is dead-lettered all the same
	case err != nil:
		return err
	case run.Status != ports.JobRetrying && run.Status != ports.JobProcessing:
		return nil
	}
	return runs.SetStatus(ctx, p.RunID, ports.JobDeadLetter)
}

// messageHandlers lists every topic the worker handles, with its use case.
func messageHandlers(c application.Commands) []messageHandler {
	return append([]messageHandler{
		{"jobs.run", ports.TopicJobRun, messaging.Decode(func(ctx context.Context, msg ports.Message, b ports.JobRunPayload) error {
			return c.RunJob.Handle(ctx, application.RunJobInput{MessageID: msg.ID, RunID: b.RunID, Page: b.Page})
		})},
		{"billing.process_event", ports.TopicBillingEvent, messaging.Decode(func(ctx context.Context, _ ports.Message, b ports.BillingEventMessage) error {
			return c.ProcessBillingEvent.Handle(ctx, application.ProcessBillingEventInput{EventID: b.EventID})
		})},
		{"billing.period_end", ports.TopicMembershipPeriodEnd, messaging.Decode(func(ctx context.Context, _ ports.Message, b ports.PeriodEndMessage) error {
			return c.ReachPeriodEnd.Handle(ctx, application.ReachPeriodEndInput{PersonID: b.PersonID, SubscriptionID: b.SubscriptionID})
		})},
		{"email.member_changed", ports.TopicMemberChanged, messaging.Decode(func(ctx context.Context, msg ports.Message, b ports.MemberChangedMessage) error {
			return c.SyncMemberEmail.Handle(ctx, application.SyncMemberEmailInput{MessageID: msg.ID, PersonID: b.PersonID, Reason: b.Reason, Events: b.Events})
		})},
		{"email.person_email_changed", ports.TopicPersonEmailChanged, messaging.Decode(func(ctx context.Context, _ ports.Message, b ports.PersonEmailChangedMessage) error {
			return c.MoveMemberEmail.Handle(ctx, application.MoveMemberEmailInput{PersonID: b.PersonID, PreviousEmail: b.PreviousEmail})
		})},
		{"events.decide_registered_guest", ports.TopicGuestRegistered, messaging.Decode(func(ctx context.Context, _ ports.Message, b ports.GuestRegisteredMessage) error {
			return c.DecideRegisteredGuest.Handle(ctx, application.DecideRegisteredGuestInput{DeliveryID: b.DeliveryID})
		})},
		{"email.person_deleted", ports.TopicPersonDeleted, messaging.Decode(func(ctx context.Context, _ ports.Message, b ports.PersonDeletedMessage) error {
			return c.ErasePerson.Handle(ctx, application.ErasePersonInput{PersonID: b.PersonID, Email: b.Email, CustomerID: b.CustomerID})
		})},
	}, accessHandlers(c)...)
}
