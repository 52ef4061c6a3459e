package membership_test

import (
	"testing"

	"github.com/womendefiningai/platform/domain/membership"
)

// TestDirectoryListing: a new membership is hidden (opt-in); an active
// hidden member with access may opt in; once shown they are listed while
// they have access; someone without access is never listed.
func TestDirectoryListing(t *testing.T) {
	t.Parallel()
	if membership.VisibleByDefault {
		t.Fatal("VisibleByDefault is true; the directory is opt-in")
	}
	for _, c := range []struct {
		hasAccess, visible bool
		want               membership.DirectoryListing
	}{
		{false, false, membership.ListingNotEligible},
		{true, false, membership.ListingOptInAvailable},
		{true, true, membership.ListingListed},
		{false, true, membership.ListingNotEligible}, // chose to be listed, but access ended
	} {
		if got := membership.ListingOf(c.hasAccess, c.visible); got != c.want {
			t.Errorf("ListingOf(%v, %v) = %s, want %s", c.hasAccess, c.visible, got, c.want)
		}
	}
}
