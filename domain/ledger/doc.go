// Package ledger is the access ledger: the one place that decides whether a
// person has a member's access, and explains why.
//
// Every grant of access is a Grant with a source (a paid subscription, the
// grace window after a failed payment, a complimentary membership such as a
// scholarship, or a manual grant by an operator), a window [From, Until)
// and who granted it and why. A person has access at an instant exactly
// when some grant is current then (Grant.CurrentAt); Explain says so and
// names every current grant. An open window (zero Until) lasts until the
// grant is closed.
//
// Grants are never deleted. Ending one (Revoke, or Plan closing a
// subscription's grant) moves its Until to the moment it ended, so the
// ledger keeps the whole history. Grants of different sources are
// independent: ending one never ends another.
//
// Plan keeps the billing-derived grants in step with a membership:
//   - while the membership is active, one open subscription grant (closing
//     at the period end when a cancellation is scheduled);
//   - when a payment fails (the membership goes from active to past_due)
//     the subscription grant closes and a grace grant opens for the grace
//     period, whatever the billing provider's retry settings are: access
//     ends when the window does, even if the provider still retries, and
//     a window once open runs on if the provider gives up (suspended) or
//     cancels; a subscription suspended while paid up (paused) gets none;
//   - when payment recovers, the grace grant closes and a new subscription
//     grant opens.
//
// Complimentary and manual grants are made by an admin (NewGrant) and never
// touch the billing provider.
package ledger
