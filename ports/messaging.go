package ports

import (
	"context"
	"errors"
	"fmt"
	"time"
)

//go:generate go tool mockgen -destination=mocks/messaging.go -package=mocks . Publisher,Scheduler,Alerter,DeadLetters

// Topics the application publishes to and handles. Each one needs a message
// table: adding a topic is this constant, its line in messaging.Topics and a
// migration that calls messaging_create_topic('<name>'). A test in
// adapters/messaging fails until all three agree.
const (
	TopicBillingEvent        = "billing.event"         // a billing event stored in the inbox, to process
	TopicMemberChanged       = "member.changed"        // a membership changed (drives the email list and chat sync)
	TopicPersonEmailChanged  = "person.email_changed"  // a person's primary email changed
	TopicPersonDeleted       = "person.deleted"        // a person was deleted
	TopicMembershipPeriodEnd = "membership.period_end" // a scheduled cancellation reached its period end (scheduled)
	TopicJobRun              = "job.run"               // run one cron job slot
	TopicGuestRegistered     = "guest.registered"      // a guest registration stored in the guest inbox, to decide
)

// Message is one message as a handler receives it, or as it is published.
// Publishing, Topic is required and ID is optional (a new id is made when it
// is empty); a message published again with the same ID keeps that ID.
type Message struct {
	ID       string
	Topic    string
	Payload  []byte
	Metadata map[string]string
}

// Publisher makes messages durable for their topics' handlers. A
// transactional Publisher (built on a database transaction) stores them in
// that transaction: they are delivered if, and only if, it commits. One
// Publish call stores all of its messages or none of them.
type Publisher interface {
	Publish(ctx context.Context, msgs ...Message) error
}

// Scheduler publishes a message to topic at a later time: it is delivered no
// earlier than at. Like Publisher, a transactional Scheduler commits or rolls
// back with its transaction.
type Scheduler interface {
	ScheduleAt(ctx context.Context, topic string, payload []byte, at time.Time) error
}

// Permanent marks err as one that retrying cannot fix (a malformed payload, a
// rule the message breaks): the handler is not retried and the message goes
// straight to the dead letters. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Severity says how urgently a person must act on an alert.
type Severity string

// Severities, from least to most urgent.
const (
	SeverityInfo     Severity = "info"     // worth knowing; no action needed
	SeverityWarning  Severity = "warning"  // needs attention soon
	SeverityCritical Severity = "critical" // needs an operator now (for example a dead letter)
)

// Alert is a message to the operators. It must never carry payloads, email
// addresses or secrets: name things by id instead.
type Alert struct {
	Severity Severity
	Title    string
	Detail   string
	Fields   map[string]string
}

// Alerter tells the operators that something needs them.
type Alerter interface {
	Alert(ctx context.Context, a Alert) error
}

// DeadLetterStatus is the state of a dead letter.
type DeadLetterStatus string

// The states of a dead letter: open until an operator replays or abandons it.
const (
	DeadLetterOpen      DeadLetterStatus = "open"      // waiting for an operator
	DeadLetterReplayed  DeadLetterStatus = "replayed"  // published again to its topic
	DeadLetterAbandoned DeadLetterStatus = "abandoned" // given up on, with a reason
)

// ParseDeadLetterStatus parses "open", "replayed" or "abandoned".
func ParseDeadLetterStatus(s string) (DeadLetterStatus, error) {
	switch st := DeadLetterStatus(s); st {
	case DeadLetterOpen, DeadLetterReplayed, DeadLetterAbandoned:
		return st, nil
	default:
		return "", fmt.Errorf("unknown dead letter status %q", s)
	}
}

// DeadLetter is a message that a handler could not process: its retries ran
// out or it failed permanently.
type DeadLetter struct {
	ID             string
	MessageID      string
	Topic          string
	Handler        string
	Reason         string // the last error
	Payload        []byte
	Metadata       map[string]string
	FirstFailedAt  time.Time
	LastFailedAt   time.Time
	Attempts       int
	Status         DeadLetterStatus
	CreatedAt      time.Time
	ResolvedAt     time.Time // zero while open
	ResolvedBy     string
	ResolutionNote string
}

// ErrDeadLetterResolved is returned when replaying or abandoning a dead
// letter that is no longer open.
var ErrDeadLetterResolved = errors.New("dead letter is already resolved")

// DeadLetters is the operators' view of the dead-letter store. Get, Replay
// and Abandon return ErrNotFound for an unknown id.
type DeadLetters interface {
	// List returns the newest dead letters first; status "" lists all.
	List(ctx context.Context, status DeadLetterStatus, limit int) ([]DeadLetter, error)
	Get(ctx context.Context, id string) (DeadLetter, error)
	// Replay publishes the message again to its topic, with its payload and
	// metadata, and marks the dead letter replayed by `by`.
	Replay(ctx context.Context, id, by string) error
	// Abandon marks the dead letter abandoned by `by`, for reason.
	Abandon(ctx context.Context, id, by, reason string) error
}

type correlationKey struct{}

// WithCorrelationID returns ctx carrying a correlation id. Messages published
// with that ctx carry it, and their handlers' contexts carry it again.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationID returns the correlation id ctx carries, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}
