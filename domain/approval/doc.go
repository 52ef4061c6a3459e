// Package approval decides what to do with a guest's RSVP to a community
// event: approve it, decline it, or leave it pending for an organiser.
//
// It decides: who is matched to the guest (by email, ignoring case and
// surrounding spaces, against every verified address of the person), who
// is approved (members in good standing, leaders and admins), and what
// happens to everyone else, according to a Policy.
//
// It does not look anybody up (the application finds the candidate person
// by email and passes them in), does not talk to the events platform, and
// does not record decisions; the application audits each Decision.
package approval
