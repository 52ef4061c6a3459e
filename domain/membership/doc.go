// Package membership decides a person's membership from everything their
// billing provider says about their subscriptions.
//
// A Membership is derived from all of a person's subscriptions (a double
// checkout can leave two), each known through its newest billing Snapshot.
// The membership follows the subscription in the best standing
// (active > past_due > suspended > pending > canceled), flags duplicates for an operator
// to refund, and reports every change as domain events (Activated,
// PaymentFailed, CancellationScheduled, Canceled, Reactivated, ...).
//
// The package decides: how provider statuses map onto membership statuses,
// which snapshot wins when deliveries arrive late, twice or out of order, when
// a scheduled cancellation takes effect, who may appear in the member
// directory, and who is alumni.
//
// It does not decide: which subscriptions belong to which person (the store
// and the billing adapter link them), what the events cause (emails, tags,
// delayed messages are the application's), or what tier a price buys (the
// adapter maps prices to tiers and uses UnknownTier when none matches).
//
// # Statuses
//
// Provider statuses map as follows: trialing and active → active; past_due →
// past_due; unpaid and paused → suspended; canceled and incomplete_expired →
// canceled; incomplete → pending. A past_due member keeps access while the
// provider retries the payment. Unpaid (the retries are exhausted) and paused
// (collection stopped) are suspended: the subscription still exists and
// resumes once a payment works, so the person is still a member and not
// alumni, but their access is suspended (Status.HasAccess), they are hidden
// from the directory, and Suspended is reported. A later active snapshot
// restores access and reports PaymentRecovered.
//
// A snapshot is read at its own time: an active or past_due subscription
// with a scheduled cancellation whose period end is not after the
// snapshot's time has already ended, and is read as canceled.
//
// # Ordering
//
// For each subscription only a snapshot at least as new as the last applied
// one is applied; an older one is refused with a StaleSnapshotError and
// changes nothing. Applying the same snapshot again is a no-op. Two
// different snapshots taken at the same instant are ordered by content (the
// later period end, then the later lifecycle status, then more payment
// attempts, then a scheduled cancellation, then the tier name), so the
// outcome never depends on delivery order.
package membership
