// Package chatstatus decides a member's status in the community's chat
// workspace from what the workspace's directory says about their account.
//
// A Link ties one person to at most one chat account. Its Status follows the
// seed's state diagram:
//
//	(new) → NotFound     no account matches the person
//	(new) → Active       an account matches
//	NotFound → Active    the account was created
//	Active → Inactive    the account was restricted
//	Inactive → Active    the restriction was removed
//	Active → Deactivated the account was deleted; Deactivated is permanent
//
// Every other step is forbidden (Allowed answers for one step).
//
// The workspace is read twice a day, so a sync may see an account after more
// than one step happened to it. Observe moves a link along the shortest path
// of allowed steps to the status the account shows (a restricted account
// seen for the first time was active first; an account deleted while
// restricted was active again first) and reports each step as a Change. A
// status that no path reaches is refused with a TransitionError and changes
// nothing: a deactivated link stays deactivated even if the account shows as
// active again, and a matched account never becomes NotFound (the directory
// keeps deleted accounts, so an account that stops matching is a changed
// address, not a vanished account).
//
// The package does not decide which account belongs to which person (the
// application matches verified addresses, ignoring case) nor what a change
// causes (auditing is the application's). Time is passed in.
package chatstatus
