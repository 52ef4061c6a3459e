// Package application holds the use cases: one type per command or query, each
// small and testable with mocked ports. Reading App tells what the system does.
package application

// App lists every use case by name.
type App struct {
	Commands Commands
	Queries  Queries
}

// Commands change state.
type Commands struct {
	ResolveDeadLetter ResolveDeadLetterHandler
	EnqueueJob        EnqueueJobHandler
	Billing           BillingHandler
	EmailSync         EmailSyncHandler
}

// Queries read state.
type Queries struct {
	MembershipTiers MembershipTiersHandler
	DeadLetters     DeadLettersHandler
	People          PeopleHandler
}
