package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/urfave/cli/v3"
	"golang.org/x/sync/errgroup"

	"github.com/womendefiningai/platform/adapters/cron"
	"github.com/womendefiningai/platform/adapters/messaging"
	"github.com/womendefiningai/platform/application"
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
			sys.logger.Info("wdai worker running")
			return runWorker(ctx, sys)
		},
	}
}

// runWorker runs the router (and the cron scheduler) until ctx ends.
func runWorker(ctx context.Context, sys *system) error {
	// Each consumer holds a connection while it works through a batch, so the
	// router gets a pool of its own, sized for its consumers, and HTTP
	// requests never wait behind it.
	pc := sys.pool.Config()
	pc.MaxConns = int32(sys.cfg.WorkerConsumers*len(messaging.Topics) + 3) //nolint:gosec // both bounded by config validation
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return fmt.Errorf("worker pool: %w", err)
	}
	defer pool.Close()
	router, err := messaging.NewRouter(pool, sys.logger, sys.alerter, messaging.RouterConfig{MaxRetries: routerMaxRetries, RetryInitialInterval: sys.cfg.WorkerRetryInitial})
	if err != nil {
		return err
	}
	for _, h := range messageHandlers(sys.app.Commands) {
		// Registration takes no context: each delivery runs with its message's own.
		if err := router.AddHandler(h.name, h.topic, h.fn, messaging.WithConsumers(sys.cfg.WorkerConsumers)); err != nil { //nolint:contextcheck // false positive: the handler closure gets msg.Context() per delivery
			return err
		}
	}
	sched, err := buildCron(sys)
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
	return g.Wait()
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

// messageHandlers lists every topic the worker handles, with its use case.
func messageHandlers(c application.Commands) []messageHandler {
	return []messageHandler{
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
		{"email.person_deleted", ports.TopicPersonDeleted, messaging.Decode(func(ctx context.Context, _ ports.Message, b ports.PersonDeletedMessage) error {
			return c.ArchiveMemberEmail.Handle(ctx, application.ArchiveMemberEmailInput{PersonID: b.PersonID, Email: b.Email})
		})},
	}
}
