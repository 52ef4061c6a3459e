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
	cmds := sys.app.Commands
	for _, h := range []struct {
		name, topic string
		fn          messaging.HandlerFunc
	}{
		{"jobs.run", ports.TopicJobRun, sys.runJob.Handle},
		{"billing.process_event", ports.TopicStripeEvent, cmds.Billing.Process},
		{"billing.period_end", ports.TopicMembershipPeriodEnd, cmds.Billing.ReachPeriodEnd},
		{"email.member_changed", ports.TopicMemberChanged, cmds.EmailSync.HandleMemberChanged},
		{"email.person_email_changed", ports.TopicPersonEmailChanged, cmds.EmailSync.HandleEmailChanged},
		{"email.person_deleted", ports.TopicPersonDeleted, cmds.EmailSync.HandlePersonDeleted},
	} {
		if err := router.AddHandler(h.name, h.topic, h.fn, messaging.WithConsumers(sys.cfg.WorkerConsumers)); err != nil {
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
		application.JobLumaApproval:    sys.cfg.CronLumaApproval,
		application.JobSlackSync:       sys.cfg.CronSlackSync,
		application.JobMailchimpResync: sys.cfg.CronMailchimpResync,
		application.JobStripeReconcile: sys.cfg.CronStripeReconcile,
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
			_, err := sys.app.Commands.EnqueueJob.Handle(ctx, job, slot, ports.TriggerCron, "system", "cron")
			return err
		},
		Logger:  sys.logger,
		CatchUp: sys.cfg.CronCatchUp,
	})
}
