package ports

import "context"

//go:generate go tool mockgen -destination=mocks/tx.go -package=mocks . UnitOfWork,MembershipTx,PeopleTx,CustomerLinkTx,BillingInboxTx,JobTx,DeadLetterTx,EmailSyncTx

// UnitOfWork runs fn in one database transaction with S, the
// transaction-scoped set of stores a use case needs (MembershipTx,
// PeopleTx, ...): everything fn does through S commits together or not at
// all. A non-nil error from fn rolls back and is returned as is; otherwise
// the commit's own error is returned, so a failed commit never reads as
// success. Each use case names the narrowest S it needs.
type UnitOfWork[S any] interface {
	Do(ctx context.Context, fn func(ctx context.Context, s S) error) error
}

// Outbox publishes and schedules messages in the transaction: they are
// delivered if, and only if, it commits.
type Outbox interface {
	Publisher() Publisher
	Scheduler() Scheduler
}

// Audited records audit entries in the transaction.
type Audited interface {
	Audit() AuditLog
}

// MembershipTx changes a membership, queues what follows from the change
// and audits it.
type MembershipTx interface {
	Outbox
	Audited
	Memberships() Memberships
	Duplicates() DuplicateSubscriptions
	AccessGrants() AccessGrants
}

// PeopleTx changes people, queues what follows and audits it. WebhookInbox
// claims a delivery once, with the change it causes.
type PeopleTx interface {
	Outbox
	Audited
	People() People
	WebhookInbox() WebhookInbox
}

// CustomerLinkTx links a billing customer to a person and, in the same
// transaction, queues again the customer's billing events that waited for
// that link.
type CustomerLinkTx interface {
	PeopleTx
	BillingInbox() BillingInbox
}

// BillingInboxTx stores billing events and queues their processing.
type BillingInboxTx interface {
	Outbox
	BillingInbox() BillingInbox
}

// JobTx creates and moves job runs, queues them and audits it.
type JobTx interface {
	Outbox
	Audited
	JobRuns() JobRuns
}

// EmailSyncTx saves what was synced to the email list and, in the same
// transaction, records the intent of a call that must happen once.
type EmailSyncTx interface {
	Integrations() Integrations
	SideEffects() SideEffects
}

// DeadLetterTx resolves dead letters, moves their job runs and audits it.
type DeadLetterTx interface {
	Audited
	DeadLetters() DeadLetters
	JobRuns() JobRuns
}

// Configurable is a provider port that may be left without credentials.
// Unconfigured, every call returns ErrNotConfigured and Configured reports
// false, which the health view shows.
type Configurable interface {
	Configured() bool
}
