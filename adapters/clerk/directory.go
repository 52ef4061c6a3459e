package clerk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	clerksdk "github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/user"

	"github.com/womendefiningai/platform/domain/usertext"
	"github.com/womendefiningai/platform/ports"
)

// userIDPattern is the shape of a Clerk user id (user_2abc...). An id that
// does not fit is not sent: it would change the request path.
var userIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// Directory looks users up with the Clerk users API. It implements
// ports.IdentityDirectory.
type Directory struct {
	users *user.Client
}

var _ ports.IdentityDirectory = (*Directory)(nil)

// NewDirectory returns a Directory calling {cfg.APIURL}/users with
// cfg.SecretKey. It ignores cfg.Leeway and cfg.Clock.
func NewDirectory(cfg Config) (*Directory, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Directory{users: user.NewClient(cfg.clientConfig())}, nil
}

// UnconfiguredDirectory returns the Directory of a server without a Clerk
// key: GetUser returns ports.ErrNotConfigured.
func UnconfiguredDirectory() *Directory { return &Directory{} }

// Configured reports whether the Directory has a key.
func (d *Directory) Configured() bool { return d.users != nil }

// GetUser returns the user with Clerk id id, or an error wrapping
// ports.ErrNotFound when Clerk knows no such user (deleted users included).
func (d *Directory) GetUser(ctx context.Context, id string) (ports.IdentityUser, error) {
	if !d.Configured() {
		return ports.IdentityUser{}, fmt.Errorf("clerk: get user: %w", ports.ErrNotConfigured)
	}
	if !userIDPattern.MatchString(id) {
		return ports.IdentityUser{}, fmt.Errorf("clerk: get user: malformed id: %w", ports.ErrNotFound)
	}
	u, err := d.users.Get(ctx, id)
	if err != nil {
		var apiErr *clerksdk.APIErrorResponse
		if errors.As(err, &apiErr) && apiErr.HTTPStatusCode == http.StatusNotFound {
			return ports.IdentityUser{}, fmt.Errorf("clerk: get user %s: %w", id, ports.ErrNotFound)
		}
		return ports.IdentityUser{}, fmt.Errorf("clerk: get user %s: %w", id, describe(err))
	}
	if u.ID != id {
		return ports.IdentityUser{}, fmt.Errorf("clerk: get user %s: answer is about another user", id)
	}
	return identityUser(u), nil
}

// identityUser maps a Clerk user, from the API or a webhook. Only a
// verified address becomes the primary email: anyone can add an address
// they do not own to a Clerk account, and until they prove it (Clerk's
// verification status "verified") it says nothing about who they are.
func identityUser(u *clerksdk.User) ports.IdentityUser {
	// Names are whatever the user typed at Clerk: repaired to the text
	// rule, as a NUL would not even be storable.
	out := ports.IdentityUser{ID: u.ID, FirstName: usertext.Clean(deref(u.FirstName), usertext.MaxNameLength),
		LastName: usertext.Clean(deref(u.LastName), usertext.MaxNameLength)}
	primaryID := deref(u.PrimaryEmailAddressID)
	for _, e := range u.EmailAddresses {
		if e == nil {
			continue
		}
		verified := e.Verification != nil && e.Verification.Status == "verified"
		out.Emails = append(out.Emails, ports.IdentityEmail{Address: e.EmailAddress, Verified: verified})
		if verified && primaryID != "" && e.ID == primaryID {
			out.PrimaryEmail = e.EmailAddress
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
