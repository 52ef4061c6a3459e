package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/ports"
)

// Defaults of RouterConfig.
const (
	defaultMaxRetries       = 3
	defaultRetryInitial     = 200 * time.Millisecond
	defaultRetryMax         = 5 * time.Second
	defaultRetryMultiplier  = 2.0
	defaultRetryJitter      = 0.5
	defaultHandlerTimeout   = 20 * time.Second
	defaultAckDeadline      = 30 * time.Second
	defaultPollInterval     = 250 * time.Millisecond
	defaultBatchSize        = 20
	defaultClaimBacklog     = 50
	defaultTransientInitial = time.Second
	defaultTransientMax     = time.Hour
	defaultTransientBudget  = 24 * time.Hour
	defaultResendInterval   = time.Second
	defaultCloseTimeout     = 30 * time.Second
	schedulerHandlerName    = "messaging.scheduler"
	deadLetterWriteMargin   = 5 * time.Second
	spareConnsPerRouterPool = 2
)

// RouterConfig tunes a Router. Zero values take the defaults given.
type RouterConfig struct {
	// MaxRetries is how many times a failed handler is tried again before
	// its message is dead-lettered (default 3, so 4 attempts in all; a
	// negative value means no retries). Errors marked ports.Permanent are
	// never retried.
	MaxRetries int
	// Retry waits grow from RetryInitialInterval (200ms) by RetryMultiplier
	// (2) up to RetryMaxInterval (5s), each spread by ±RetryJitter (0.5).
	RetryInitialInterval time.Duration
	RetryMaxInterval     time.Duration
	RetryMultiplier      float64
	RetryJitter          float64
	// HandlerTimeout bounds one delivery of a message, its quick retries
	// and their waits included (default 20s), for handlers without their
	// own (WithTimeout). Past it the delivery fails like an attempt.
	HandlerTimeout time.Duration
	// AckDeadline is how long a subscriber waits for a message's ack before
	// it gives up and delivers the message again later (default 30s). It
	// must exceed HandlerTimeout by 5s, the time left to record a dead
	// letter; a handler with a longer timeout gets the same slack on top.
	AckDeadline time.Duration
	// Transient errors (ports.TransientError) are not retried in place: the
	// message is re-delivered after a wait that grows from
	// TransientRetryInitial (1s) by RetryMultiplier up to
	// TransientRetryMax (1h), never shorter than the provider's RetryAfter.
	// It is dead-lettered only by a transient failure once
	// TransientRetryBudget (24h) has passed since its first failure; while
	// the provider's circuit breaker is open it is never dead-lettered.
	TransientRetryInitial time.Duration
	TransientRetryMax     time.Duration
	TransientRetryBudget  time.Duration
	// PollInterval is the wait between polls of an empty topic (default
	// 250ms); scheduled messages arrive within twice this after their time.
	PollInterval time.Duration
	// BatchSize is the most rows a consumer claims at once (default 10). A
	// claim is handled row by row, so a slow message delays the rest of its
	// claim: a claim therefore takes one row per ClaimBacklogPerRow queued
	// messages (default 100), at least 1. Below that backlog every claim is
	// one row and consumers are independent; a deep backlog is drained in
	// bigger claims, with fewer round trips per message. A negative
	// ClaimBacklogPerRow makes every claim BatchSize rows.
	BatchSize          int
	ClaimBacklogPerRow int
	// CloseTimeout bounds how long Close waits for running handlers (30s).
	CloseTimeout time.Duration
}

func (c RouterConfig) withDefaults() (RouterConfig, error) {
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = defaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	setDefault(&c.RetryInitialInterval, defaultRetryInitial)
	setDefault(&c.RetryMaxInterval, defaultRetryMax)
	setDefault(&c.RetryMultiplier, defaultRetryMultiplier)
	setDefault(&c.RetryJitter, defaultRetryJitter)
	setDefault(&c.HandlerTimeout, defaultHandlerTimeout)
	setDefault(&c.AckDeadline, defaultAckDeadline)
	setDefault(&c.PollInterval, defaultPollInterval)
	setDefault(&c.BatchSize, defaultBatchSize)
	setDefault(&c.ClaimBacklogPerRow, defaultClaimBacklog)
	setDefault(&c.CloseTimeout, defaultCloseTimeout)
	setDefault(&c.TransientRetryInitial, defaultTransientInitial)
	setDefault(&c.TransientRetryMax, defaultTransientMax)
	setDefault(&c.TransientRetryBudget, defaultTransientBudget)

	var errs []error
	if c.RetryMultiplier < 1 {
		errs = append(errs, fmt.Errorf("RetryMultiplier %v is below 1", c.RetryMultiplier))
	}
	if c.RetryJitter < 0 || c.RetryJitter >= 1 {
		errs = append(errs, fmt.Errorf("RetryJitter %v is outside [0, 1)", c.RetryJitter))
	}
	if c.RetryMaxInterval < c.RetryInitialInterval {
		errs = append(errs, fmt.Errorf("RetryMaxInterval %v is below RetryInitialInterval %v", c.RetryMaxInterval, c.RetryInitialInterval))
	}
	if err := c.checkTimeout(c.HandlerTimeout); err != nil {
		errs = append(errs, err)
	}
	if c.TransientRetryMax < c.TransientRetryInitial {
		errs = append(errs, fmt.Errorf("TransientRetryMax %v is below TransientRetryInitial %v", c.TransientRetryMax, c.TransientRetryInitial))
	}
	if c.BatchSize < 0 {
		errs = append(errs, fmt.Errorf("BatchSize %d is negative", c.BatchSize))
	}
	// Defect 4 (docs/messaging.md): the retries must end, and the dead
	// letter be written, while the subscriber still waits for the ack.
	if c.AckDeadline < c.HandlerTimeout+deadLetterWriteMargin {
		errs = append(errs, fmt.Errorf("AckDeadline %v must exceed HandlerTimeout %v by %v", c.AckDeadline, c.HandlerTimeout, deadLetterWriteMargin))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("messaging: router config: %w", errors.Join(errs...))
	}
	return c, nil
}

// checkTimeout refuses a handler timeout that the quick retries' waits
// could use up.
func (c RouterConfig) checkTimeout(timeout time.Duration) error {
	if waits := c.worstRetryWaits(); waits >= timeout {
		return fmt.Errorf("%d retries may wait %v, which leaves nothing of the handler timeout %v for the attempts", c.MaxRetries, waits, timeout)
	}
	return nil
}

// ackDeadline is the ack deadline of a handler with the given timeout: the
// configured slack over HandlerTimeout, on top of timeout.
func (c RouterConfig) ackDeadline(timeout time.Duration) time.Duration {
	return timeout + (c.AckDeadline - c.HandlerTimeout)
}

// worstRetryWaits is the longest time the retries can spend waiting.
func (c RouterConfig) worstRetryWaits() time.Duration {
	var total time.Duration
	wait := c.RetryInitialInterval
	for range c.MaxRetries {
		total += time.Duration(float64(wait) * (1 + c.RetryJitter))
		wait = min(time.Duration(float64(wait)*c.RetryMultiplier), c.RetryMaxInterval)
	}
	return total
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// HandlerFunc handles one message. Return nil once it is processed; an error
// retries it (ports.Permanent(err) does not). Handlers are called at least
// once per message, possibly again after a crash or an ack deadline, so they
// must be idempotent, and must do their writes in their own transaction
// (the subscriber's transaction is not theirs to use).
type HandlerFunc func(ctx context.Context, msg ports.Message) error

// HandlerOption tunes one handler.
type HandlerOption func(*handlerOptions)

type handlerOptions struct {
	consumers    int
	timeout      time.Duration
	onDeadLetter DeadLetterHook
}

// DeadLetterHook is called when one of the handler's messages is
// dead-lettered, in the transaction that writes the dead letter and acks
// the message: what it writes commits with them (the state of the work the
// message carried, say). Its error rolls both back, and the message is
// delivered again.
type DeadLetterHook func(ctx context.Context, tx pgx.Tx, msg ports.Message) error

// WithDeadLetterHook calls fn in the transaction of each dead letter of the
// handler's messages.
func WithDeadLetterHook(fn DeadLetterHook) HandlerOption {
	return func(o *handlerOptions) { o.onDeadLetter = fn }
}

// WithConsumers runs n consumers of the handler's topic in this router, each
// on its own batch of rows (and its own connection while it holds a batch).
func WithConsumers(n int) HandlerOption {
	return func(o *handlerOptions) { o.consumers = n }
}

// WithTimeout bounds one delivery of the handler's messages (its quick
// retries included) by d instead of RouterConfig.HandlerTimeout. Its
// subscriber's ack deadline grows with it.
func WithTimeout(d time.Duration) HandlerOption {
	return func(o *handlerOptions) { o.timeout = d }
}

// Router delivers messages from PostgreSQL to handlers, through one
// middleware chain (outermost first):
//
//	correlation id → timeout → settle (defer or dead-letter) → retry → recoverer → handler
//
// It also moves scheduled messages to their topics when their time comes.
// Run any number of routers, in one process or many: each row is claimed by
// one consumer at a time.
type Router struct {
	pool    *pgxpool.Pool
	logger  *slog.Logger
	alerter ports.Alerter
	cfg     RouterConfig
	wr      *message.Router
	wlog    watermill.LoggerAdapter
	// stop ends the consumers' waits for a wakeup (wakeups.go) once the
	// router stops.
	stop     chan struct{}
	stopOnce sync.Once

	mu            sync.Mutex
	subs          []*wsql.Subscriber
	timeouts      map[string]time.Duration  // handler name → its timeout
	onDeadLetter  map[string]DeadLetterHook // handler name → its hook, if any
	started       bool                      // Run was called
	running       bool                      // Watermill's router was started
	names         map[string]bool
	topics        map[string]string // topic → handler name
	subscriptions int
}

// NewRouter builds a router on the application's pool. Dead letters go to
// the dead_letters table of the same database, each raising an alert
// through alerter.
func NewRouter(pool *pgxpool.Pool, logger *slog.Logger, alerter ports.Alerter, cfg RouterConfig) (*Router, error) {
	if pool == nil || logger == nil || alerter == nil {
		return nil, errors.New("messaging: NewRouter needs a pool, a logger and an alerter")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	wlog := watermill.NewSlogLoggerWithLevelMapping(logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	wr, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, wlog)
	if err != nil {
		return nil, fmt.Errorf("messaging: router: %w", err)
	}
	r := &Router{
		pool: pool, logger: logger, alerter: alerter, cfg: cfg, wr: wr, wlog: wlog,
		names: map[string]bool{}, topics: map[string]string{}, timeouts: map[string]time.Duration{},
		onDeadLetter: map[string]DeadLetterHook{}, stop: make(chan struct{}),
	}
	// Defect 4 (docs/messaging.md): the timeout sits outside the settle
	// step, so a handler's return does not cancel the context the dead
	// letter is written with (and that write is detached from cancellation
	// anyway). The settle step sits outside Retry, so it sees a message
	// only when its quick retries are spent (or skipped).
	wr.AddMiddleware(
		r.correlate,
		r.timeout,
		r.settle,
		r.retry,
		middleware.Recoverer,
	)
	if err := r.register(schedulerHandlerName, TopicDelayed, handlerOptions{consumers: 1, timeout: cfg.HandlerTimeout}, r.forwardScheduled); err != nil {
		return nil, err
	}
	return r, nil
}

var handlerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// AddHandler registers fn for topic under name (used in logs and dead
// letters). Call it before Run. A topic has one handler: the queue gives
// each message to one consumer, so a second handler would silently take
// half of the messages.
func (r *Router) AddHandler(name, topic string, fn HandlerFunc, opts ...HandlerOption) error {
	if !handlerName.MatchString(name) {
		return fmt.Errorf("messaging: handler name %q: use letters, digits, '.', '_' and '-'", name)
	}
	if fn == nil {
		return fmt.Errorf("messaging: handler %s is nil", name)
	}
	if err := checkDeliverable(topic); err != nil {
		return err
	}
	o := handlerOptions{consumers: 1, timeout: r.cfg.HandlerTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.consumers < 1 {
		return fmt.Errorf("messaging: handler %s: %d consumers", name, o.consumers)
	}
	if err := r.cfg.checkTimeout(o.timeout); err != nil {
		return fmt.Errorf("messaging: handler %s: %w", name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.started:
		return fmt.Errorf("messaging: handler %s added after Run", name)
	case r.names[name]:
		return fmt.Errorf("messaging: handler %s is already registered", name)
	case r.topics[topic] != "":
		return fmt.Errorf("messaging: topic %s already has handler %s", topic, r.topics[topic])
	}
	return r.registerLocked(name, topic, o, func(msg *message.Message) error {
		return fn(handlerContext{msg.Context()}, ports.Message{
			ID:       msg.UUID,
			Topic:    topic,
			Payload:  msg.Payload,
			Metadata: maps.Clone(map[string]string(msg.Metadata)),
		})
	})
}

func (r *Router) register(name, topic string, o handlerOptions, h message.NoPublishHandlerFunc) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.registerLocked(name, topic, o, h)
}

// registerLocked gives the handler a subscriber of its own, whose ack
// deadline follows the handler's timeout.
func (r *Router) registerLocked(name, topic string, o handlerOptions, h message.NoPublishHandlerFunc) error {
	ack := r.cfg.ackDeadline(o.timeout)
	sub, err := wsql.NewSubscriber(subscriberDB{pool: r.pool}, wsql.SubscriberConfig{
		AckDeadline:    &ack,
		PollInterval:   r.cfg.PollInterval,
		ResendInterval: defaultResendInterval,
		BackoffManager: &quietBackoff{poll: r.cfg.PollInterval, retry: time.Second, topic: topic, stop: r.stop},
		SchemaAdapter:  queueSchema{batchSize: r.cfg.BatchSize, backlogPerRow: max(r.cfg.ClaimBacklogPerRow, 0)},
		OffsetsAdapter: ackedRowsOnly{},
	}, r.wlog)
	if err != nil {
		return fmt.Errorf("messaging: subscriber of %s: %w", name, err)
	}
	r.subs = append(r.subs, sub)
	r.names[name] = true
	r.topics[topic] = name
	r.timeouts[name] = o.timeout
	if o.onDeadLetter != nil {
		r.onDeadLetter[name] = o.onDeadLetter
	}
	for i := 1; i <= o.consumers; i++ {
		wname := name
		if i > 1 {
			wname = fmt.Sprintf("%s#%d", name, i)
		}
		r.wr.AddConsumerHandler(wname, topic, sub, h)
	}
	r.subscriptions += o.consumers
	return nil
}

// Run delivers messages until Close is called or ctx is cancelled.
func (r *Router) Run(ctx context.Context) error {
	r.mu.Lock()
	r.started = true
	subs := r.subscriptions
	r.mu.Unlock()
	// Each consumer holds a connection while it works through a batch; the
	// handlers need connections of their own meanwhile.
	if maxConns := int(r.pool.Config().MaxConns); subs+spareConnsPerRouterPool > maxConns {
		return fmt.Errorf("messaging: %d consumers need a pool of at least %d connections, not %d",
			subs, subs+spareConnsPerRouterPool, maxConns)
	}
	r.mu.Lock()
	r.running = true
	r.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
			r.stopWaits()
		case <-r.stop:
		}
	}()
	if err := r.wr.Run(ctx); err != nil {
		return fmt.Errorf("messaging: router: %w", err)
	}
	return nil
}

// Running is closed once the router is running.
func (r *Router) Running() <-chan struct{} { return r.wr.Running() }

// Close stops delivery, lets running handlers finish (up to CloseTimeout)
// and records the acks of the messages handled. Messages delivered but not
// handled stay queued.
func (r *Router) Close() error {
	r.stopWaits()
	r.mu.Lock()
	r.started = true // no handlers after Close
	running := r.running
	r.mu.Unlock()
	if !running {
		var errs []error
		for _, sub := range r.subs {
			errs = append(errs, sub.Close())
		}
		return errors.Join(errs...)
	}
	if err := r.wr.Close(); err != nil {
		return fmt.Errorf("messaging: close router: %w", err)
	}
	return nil
}

// forwardScheduled moves a due scheduled message to its target topic, in the
// subscriber's transaction: the copy and the ack commit together.
func (r *Router) forwardScheduled(msg *message.Message) error {
	target := msg.Metadata.Get(metaTargetTopic)
	if err := checkDeliverable(target); err != nil {
		return ports.Permanent(err)
	}
	out := message.NewMessage(msg.UUID, msg.Payload)
	out.Metadata = maps.Clone(msg.Metadata)
	delete(out.Metadata, metaTargetTopic)
	delete(out.Metadata, metaDeliverAt)
	out.Metadata.Set("scheduled_for", msg.Metadata.Get(metaDeliverAt))
	out.SetContext(msg.Context())

	stx, err := subscriberTxFrom(msg.Context())
	if err != nil {
		return err
	}
	err = stx.within(msg.Context(), func(tx pgx.Tx) error {
		pub, err := wsql.NewPublisher(wsql.TxFromPgx(tx), wsql.PublisherConfig{SchemaAdapter: queueSchema{}}, nil)
		if err != nil {
			return err
		}
		if err := pub.Publish(target, out); err != nil {
			return fmt.Errorf("messaging: deliver scheduled message to %s: %w", target, err)
		}
		return nil
	})
	if err == nil {
		stx.afterCommit(func() { wakeups.signal(target) })
	}
	return err
}

// stopWaits ends every wait for a wakeup, for good.
func (r *Router) stopWaits() { r.stopOnce.Do(func() { close(r.stop) }) }

// quietBackoff is Watermill's default backoff without the error logged when
// a poll is cut short by shutdown. After an empty poll it waits here, for
// the poll interval or until a message committed to its topic by this
// process wakes it (wakeups.go), and then has the subscriber poll at once;
// a wakeup that came during the poll makes it poll again at once. Once the
// router stops it leaves the wait to the subscriber, which ends it on
// closing. The consumers of one subscriber share it: a wakeup during one's
// poll may be taken as another's, but then that other polls after the
// message committed.
type quietBackoff struct {
	poll, retry time.Duration
	topic       string
	stop        <-chan struct{}
	// since is the topic's signal count when a poll last started.
	since atomic.Uint64
}

func (b *quietBackoff) HandleError(logger watermill.LoggerAdapter, noMsg bool, err error) time.Duration {
	wait := b.backoff(logger, noMsg, err)
	b.since.Store(wakeups.seq(b.topic)) // the next poll starts after this
	return wait
}

func (b *quietBackoff) backoff(logger watermill.LoggerAdapter, noMsg bool, err error) time.Duration {
	switch {
	case err != nil && errors.Is(err, context.Canceled):
		return b.poll
	case err != nil:
		logger.Error("messaging: poll for messages", err, watermill.LogFields{"wait": b.retry})
		return b.retry
	case noMsg:
		if wakeups.wait(b.topic, b.since.Load(), b.poll, b.stop) {
			return 0
		}
		select {
		case <-b.stop:
			return b.poll
		default:
			return 0 // the interval has passed here
		}
	default:
		return 0
	}
}

// handlerOf returns the registered name of a Watermill handler ("name#2" is
// the second consumer of handler "name").
func handlerOf(watermillName string) string {
	name, _, _ := strings.Cut(watermillName, "#")
	return name
}
