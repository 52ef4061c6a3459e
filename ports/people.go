package ports

import (
	"context"
	"errors"
	"time"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/domain/membership"
)

//go:generate go tool mockgen -destination=mocks/people.go -package=mocks . People,PersonReader,PersonFinder,IdentityPeople,PeopleDirectory,Memberships,MembershipReader,WebhookInbox

// Person is our record of a member, leader or admin.
type Person struct {
	ID                string
	IdentityUserID    string // "" when created from a checkout before sign-in
	PrimaryEmail      string // "" once erased
	Emails            []string
	FirstName         string
	LastName          string
	Role              access.Role
	BillingCustomerID string
	CreatedAt         time.Time
	Erased            bool
}

// PersonProfile is what a person may change about themselves.
type PersonProfile struct {
	FirstName string
	LastName  string
}

// IdentityUpsert is the result of applying an identity-provider user.
type IdentityUpsert struct {
	Person Person
	// Created is true when the person did not exist before.
	Created bool
	// PreviousPrimaryEmail is the primary email before the change ("" when
	// created or unchanged).
	PreviousPrimaryEmail string
}

// ErrInvalidCursor is returned for a page cursor the store did not make.
var ErrInvalidCursor = errors.New("invalid cursor")

// ErrAmbiguous is returned (wrapped, with the ids of the people) by a
// look-up that must find one person and finds several. Acting on any one of
// them would be a guess.
var ErrAmbiguous = errors.New("more than one person matches")

// SignedInPerson is a person as their session sees them: with their
// membership and whether they have access.
type SignedInPerson struct {
	Person
	// Membership is the summary of the membership (what the member sees of
	// it, as its last save recorded it), read with the person when
	// MembershipRead; nil when they have none.
	Membership     *membership.Summary
	MembershipRead bool
	// HasAccess says whether one of the person's grants of access
	// (domain/ledger) is current at the instant the read was asked about:
	// it decides what they may read. The grants themselves are read only
	// when asked for (AccessReader).
	HasAccess bool
}

// DirectoryFilter selects people for the member directory.
type DirectoryFilter struct {
	// IncludeHidden lists members who are not visible (admins only).
	IncludeHidden bool
	// At is the instant whose access decides who is listed: without
	// IncludeHidden, only visible people with a current grant of access
	// then (domain/ledger). Required without IncludeHidden.
	At time.Time
	// Statuses keeps only these membership statuses (empty: all).
	Statuses []membership.Status
	// After is the cursor of the last person of the previous page.
	After string
	Limit int
}

// DirectoryPage is one page of people, with the cursor of each.
type DirectoryPage struct {
	People  []Person
	Cursors []string
	HasMore bool
}

// PersonReader reads people by id. Get returns ErrNotFound.
type PersonReader interface {
	Get(ctx context.Context, id string) (Person, error)
	GetMany(ctx context.Context, ids []string) (map[string]Person, error)
}

// PersonFinder finds one person by something other than our id; each
// returns ErrNotFound when nobody matches.
type PersonFinder interface {
	// GetByEmail matches any verified address, ignoring case and spaces;
	// ErrAmbiguous when more than one person has it.
	GetByEmail(ctx context.Context, email string) (Person, error)
	GetByBillingCustomer(ctx context.Context, customerID string) (Person, error)
}

// IdentityPeople keeps people in step with the identity provider.
type IdentityPeople interface {
	// GetByIdentityID returns the person with their membership and
	// whether a grant of access is current at the instant at, in one read;
	// ErrNotFound for a user never seen.
	GetByIdentityID(ctx context.Context, identityUserID string, at time.Time) (SignedInPerson, error)
	// UpsertFromIdentity creates or updates the person with that identity
	// user id. Concurrent calls for one new user create exactly one person.
	UpsertFromIdentity(ctx context.Context, u IdentityUser) (IdentityUpsert, error)
	// Erase removes the personal data of the person with that identity user
	// id (also what other tables keep of it), keeping an anonymised row, and
	// returns the person as before. For an id never seen it stores an erased
	// placeholder, so a late creation cannot bring the person back, and
	// returns ErrNotFound.
	Erase(ctx context.Context, identityUserID string) (Person, error)
}

// PersonWriter changes people.
type PersonWriter interface {
	// Create makes a person who has not signed in yet (from a checkout).
	Create(ctx context.Context, email, firstName, lastName string) (Person, error)
	UpdateProfile(ctx context.Context, id string, p PersonProfile) (Person, error)
	SetRole(ctx context.Context, id string, role access.Role) (Person, error)
	SetBillingCustomer(ctx context.Context, id, customerID string) error
}

// PeopleDirectory pages through people for the member directory and for
// bulk syncs.
type PeopleDirectory interface {
	Directory(ctx context.Context, f DirectoryFilter) (DirectoryPage, error)
}

// People is the whole people store, as a transaction hands it out. Use
// cases outside a transaction take only the narrow interfaces above.
type People interface {
	PersonReader
	PersonFinder
	IdentityPeople
	PersonWriter
	PeopleDirectory
}

// MembershipReader reads memberships by person.
type MembershipReader interface {
	// Get returns the person's membership, or ErrNotFound.
	Get(ctx context.Context, personID string) (*membership.Membership, error)
	GetMany(ctx context.Context, personIDs []string) (map[string]*membership.Membership, error)
	// PersonForSubscription returns the person a subscription belongs to,
	// or ErrNotFound.
	PersonForSubscription(ctx context.Context, subscriptionID string) (string, error)
}

// Memberships stores membership.Membership entities by person.
type Memberships interface {
	MembershipReader
	// Update locks the person's membership (creating a pending one if there
	// is none), calls fn, and saves what fn left when it returns nil.
	Update(ctx context.Context, personID string, fn func(*membership.Membership) error) error
}

// WebhookInbox remembers deliveries already applied.
type WebhookInbox interface {
	// Claim records the delivery and reports false when it was seen before.
	Claim(ctx context.Context, source, deliveryID string) (bool, error)
}
