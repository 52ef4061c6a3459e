package membership

// DirectoryListing says whether, and why not, a member appears in the
// member directory. The directory is opt-in: every membership starts
// hidden, a person with access (the access ledger decides) shows
// themselves, and losing access hides them again (they opt in anew).
type DirectoryListing int

// The listings.
const (
	// ListingNotEligible: hidden, and cannot be shown without access.
	ListingNotEligible DirectoryListing = iota
	// ListingOptInAvailable: someone with access who is hidden (new, or
	// opted out) and may opt in.
	ListingOptInAvailable
	// ListingListed: shown in the directory.
	ListingListed
)

// VisibleByDefault is whether a new member appears in the directory
// without opting in: no.
const VisibleByDefault = false

// ListingOf is the listing of someone who has access or not, and chose to
// be visible or not.
func ListingOf(hasAccess, visible bool) DirectoryListing {
	switch {
	case visible && hasAccess:
		return ListingListed
	case hasAccess:
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
