// Package application holds the use cases: one type per command or query,
// each in its own file with its input, a constructor that takes only the
// ports it uses, and Handle. Reading App tells what the system does.
package application

// App lists every use case by name.
type App struct {
	Commands Commands
	Queries  Queries
}

// Commands change state. Those marked "message" run in the worker, one per
// topic; the driving side decodes the message body into their input.
type Commands struct {
	// Identity and people.
	Authenticate    Authenticate    // a verified session becomes a principal (creates the person once)
	SyncIdentity    SyncIdentity    // identity-provider webhook: create, update or erase a person
	UpdateMyProfile UpdateMyProfile // the signed-in person's name
	SetMyVisibility SetMyVisibility // the signed-in member shows or hides in the directory
	SetPersonRole   SetPersonRole   // an admin gives a person a role

	// Billing and the membership lifecycle.
	IngestBillingEvent  IngestBillingEvent  // billing webhook: store the event and queue it, once
	ProcessBillingEvent ProcessBillingEvent // message: apply a stored billing event
	SyncSubscription    SyncSubscription    // apply the provider's current subscription to a membership
	CompleteCheckout    CompleteCheckout    // link a finished checkout's customer to a person
	NotifyPaymentFailed NotifyPaymentFailed // tell a member once per failed payment attempt
	ReachPeriodEnd      ReachPeriodEnd      // message: a scheduled cancellation's period ended
	StartCheckout       StartCheckout       // a hosted checkout for the signed-in person
	OpenBillingPortal   OpenBillingPortal   // the billing portal for the signed-in person
	ReconcileBilling    ReconcileBilling    // fetch the billing events the webhooks missed
	SyncTiers           SyncTiers           // keep the tiers in step with the billing catalogue

	// The access ledger: why each person has access.
	GrantAccess        GrantAccess        // an admin grants a scholarship (complimentary) or manual access; never touches billing
	RevokeAccess       RevokeAccess       // an admin ends such a grant now; other grants stand
	CheckAccess        CheckAccess        // message: a grant's window opened or closed; access starts or ends once
	RemindAccessEnding RemindAccessEnding // message: a scholarship ends soon; the email list's reminder journey

	// The email list.
	SyncMemberEmail SyncMemberEmail // message: a member changed; sync the list, trigger a journey once
	MoveMemberEmail MoveMemberEmail // message: a person's email changed
	ErasePerson     ErasePerson     // message: a person was erased; billing canceled, subscriber deleted permanently
	ResyncEmailList ResyncEmailList // push everyone to the list in bulk

	// The chat workspace.
	SyncChatStatus SyncChatStatus // job page: match visible members to chat accounts, keep their status

	// Community events.
	CreateEvent  CreateEvent  // a leader creates an event on the events platform, stored and audited, once per key
	DecideRSVPs  DecideRSVPs  // decide a page of guests once each: approve, decline or leave pending, audited
	ApproveRSVPs ApproveRSVPs // job page: the twice-daily approval of every upcoming event's pending guests
	// The registration webhook: store once, then decide within a minute
	// through DecideRSVPs' path for one guest.
	IngestGuestRegistration IngestGuestRegistration // registration webhook: store the registration and queue it, once
	DecideRegisteredGuest   DecideRegisteredGuest   // message: decide a stored registration's guest, once per guest

	// Jobs and dead letters.
	EnqueueJob        EnqueueJob        // create a job run for a slot and queue it
	RunJob            RunJob            // message: run a queued job run
	ReplayDeadLetter  ReplayDeadLetter  // an operator publishes a dead letter again
	AbandonDeadLetter AbandonDeadLetter // an operator gives up on a dead letter
	EvaluateAlerts    EvaluateAlerts    // each minute, on one replica: announce each measure's change of level once

	// Agents.
	CreateAgentKey    CreateAgentKey    // operators create an agent key, audited; its plaintext is shown once
	RevokeAgentKey    RevokeAgentKey    // operators revoke an agent key, audited
	AuthenticateAgent AuthenticateAgent // a bearer agent key becomes an agent principal
	RecordAgentCall   RecordAgentCall   // every agent call to the audit log
}

// Queries read state.
type Queries struct {
	ListMembershipTiers  ListMembershipTiers  // the public pricing page
	GetMe                GetMe                // the signed-in person
	GetMember            GetMember            // one person of the directory
	ListMembers          ListMembers          // a page of the directory
	GetMemberships       GetMemberships       // memberships by person, redacted, for a dataloader
	GetAccess            GetAccess            // why people have access: their own, or anyone's with members:read:pii
	FindPersonByEmail    FindPersonByEmail    // operators find a person (CLI)
	ListDeadLetters      ListDeadLetters      // operators list dead letters
	GetDeadLetter        GetDeadLetter        // operators show one dead letter
	ListJobs             ListJobs             // the registered jobs
	ListJobRuns          ListJobRuns          // operators list job runs with progress, counts and errors
	GetJobRun            GetJobRun            // operators show one job run
	GetChatLinks         GetChatLinks         // people's chat workspace status, redacted, for a dataloader
	GetChatSummary       GetChatSummary       // operators count people by chat workspace status
	ListEvents           ListEvents           // upcoming or past events with their RSVP counts
	GetEvent             GetEvent             // one event with its RSVP counts
	ListAuditLog         ListAuditLog         // leaders and operators read the audit log
	GetIntegrationHealth GetIntegrationHealth // operators read every integration's, job's and webhook's health
	ListAgentKeys        ListAgentKeys        // operators list agent keys (never their secrets)
	GetMembershipSummary GetMembershipSummary // finance agent: memberships by status and tier
	ListPastDueMembers   ListPastDueMembers   // finance agent: past_due members
	ListPaymentFailures  ListPaymentFailures  // finance agent: recent payment failure notices
	FindMemberByEmail    FindMemberByEmail    // support agent: the person with a verified address
	GetMemberTimeline    GetMemberTimeline    // support agent: a person's membership changes, RSVPs and syncs
	ListRSVPDecisions    ListRSVPDecisions    // engagement agent: recent RSVP decisions
	// ListDuplicateSubscriptions: operators list people holding more than one current subscription.
	ListDuplicateSubscriptions ListDuplicateSubscriptions
}
