package membership

// DirectoryListing says whether, and why not, a member appears in the
// member directory. The directory is opt-in: every membership starts
// hidden, an active member shows themselves, and losing access hides them
// again (they opt in anew once active).
type DirectoryListing int

// The listings.
const (
	// ListingNotEligible: hidden, and cannot be shown until the membership
	// is active.
	ListingNotEligible DirectoryListing = iota
	// ListingOptInAvailable: an active member who is hidden (a new member
	// who has not opted in, or one who opted out) and may opt in.
	ListingOptInAvailable
	// ListingListed: shown in the directory.
	ListingListed
)

// VisibleByDefault is whether a new member appears in the directory
// without opting in: no.
const VisibleByDefault = false

// ListingOf is the listing of a membership with that status and
// visibility.
func ListingOf(status Status, visible bool) DirectoryListing {
	switch {
	case visible:
		return ListingListed
	case status == StatusActive:
		return ListingOptInAvailable
	default:
		return ListingNotEligible
	}
}

// String is the listing's name.
func (l DirectoryListing) String() string {
	switch l {
	case ListingListed:
		return "listed"
	case ListingOptInAvailable:
		return "opt_in_available"
	default:
		return "not_eligible"
	}
}
