package membership_test

import (
	"testing"

	"github.com/womendefiningai/platform/domain/membership"
)

// TestDirectoryListing: a new membership is hidden (opt-in); an active
// hidden member may opt in; once shown they are listed; a member without
// an active membership cannot be shown.
func TestDirectoryListing(t *testing.T) {
	t.Parallel()
	if membership.VisibleByDefault {
		t.Fatal("VisibleByDefault is true; the directory is opt-in")
	}
	for _, c := range []struct {
		status  membership.Status
		visible bool
		want    membership.DirectoryListing
	}{
		{membership.StatusPending, false, membership.ListingNotEligible},
		{membership.StatusActive, false, membership.ListingOptInAvailable},
		{membership.StatusActive, true, membership.ListingListed},
		{membership.StatusPastDue, true, membership.ListingListed},
		{membership.StatusPastDue, false, membership.ListingNotEligible},
		{membership.StatusCanceled, false, membership.ListingNotEligible},
	} {
		if got := membership.ListingOf(c.status, c.visible); got != c.want {
			t.Errorf("ListingOf(%s, %v) = %s, want %s", c.status, c.visible, got, c.want)
		}
	}
}
