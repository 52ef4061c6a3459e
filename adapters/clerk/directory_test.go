package clerk_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/adapters/clerk"
	"github.com/womendefiningai/platform/adapters/clerk/clerkfake"
	"github.com/womendefiningai/platform/ports"
)

func newDirectory(t *testing.T, fake *clerkfake.Server) *clerk.Directory {
	t.Helper()
	d, err := clerk.NewDirectory(clerk.Config{SecretKey: fake.SecretKey(), APIURL: fake.URL(), HTTPClient: &http.Client{}})
	if err != nil {
		t.Fatalf("NewDirectory: %v", err)
	}
	return d
}

func TestDirectoryGetUserMapsTheClerkUser(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	d := newDirectory(t, fake)

	cases := []struct {
		name string
		user ports.IdentityUser
	}{
		{"primary is the second, verified address", ports.IdentityUser{
			ID: "user_2a",
			Emails: []ports.IdentityEmail{
				{Address: "old@example.test", Verified: false},
				{Address: "ada@example.test", Verified: true},
			},
			PrimaryEmail: "ada@example.test",
			FirstName:    "Ada",
			LastName:     "Lovelace",
		}},
		// Claiming an address is not owning it: an unverified primary is
		// no primary (the account takeover of issue 11).
		{"unverified primary", ports.IdentityUser{
			ID: "user_2b",
			Emails: []ports.IdentityEmail{
				{Address: "admin@example.test", Verified: false},
				{Address: "grace@example.test", Verified: true},
			},
			PrimaryEmail: "admin@example.test",
		}},
		{"no primary, no names", ports.IdentityUser{
			ID:     "user_2c",
			Emails: []ports.IdentityEmail{{Address: "x@example.test", Verified: true}},
		}},
		{"no email at all", ports.IdentityUser{ID: "user_2d", FirstName: "Solo"}},
		{"names with control characters and too long", ports.IdentityUser{ID: "user_2e", FirstName: "Ada\u0000\u001b[2J", LastName: strings.Repeat("ë", 150)}},
	}
	for _, tc := range cases {
		fake.AddUser(tc.user)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := d.GetUser(context.Background(), tc.user.ID)
			if err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			want := tc.user
			switch want.ID {
			case "user_2b":
				want.PrimaryEmail = ""
			case "user_2e": // repaired to the text rule: no controls, 100 characters
				want.FirstName, want.LastName = "Ada[2J", strings.Repeat("ë", 100)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("GetUser = %+v, want %+v", got, want)
			}
		})
	}
}

func TestDirectoryGetUserUnknown(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	d := newDirectory(t, fake)

	_, err := d.GetUser(context.Background(), "user_nobody")
	if !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("unknown id: error = %v, want ErrNotFound", err)
	}
	if fake.UserLookups() != 1 {
		t.Errorf("UserLookups = %d, want 1", fake.UserLookups())
	}

	fake.AddUser(ports.IdentityUser{ID: "user_gone"})
	fake.RemoveUser("user_gone")
	if _, err := d.GetUser(context.Background(), "user_gone"); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("deleted user: error = %v, want ErrNotFound", err)
	}

	// Ids that would change the request path are never sent.
	before := fake.UserLookups()
	for _, id := range []string{"", "../jwks", "user_1/x", "user_1?x=1", "user 1", "user_1%2F"} {
		if _, err := d.GetUser(context.Background(), id); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("GetUser(%q): error = %v, want ErrNotFound", id, err)
		}
	}
	if got := fake.UserLookups(); got != before {
		t.Errorf("malformed ids reached the API: %d lookups, want %d", got, before)
	}
}

func TestDirectoryWrongSecretKeyIsRefused(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	fake.AddUser(ports.IdentityUser{ID: "user_1"})
	d, err := clerk.NewDirectory(clerk.Config{SecretKey: "sk_test_wrong", APIURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}

	_, err = d.GetUser(context.Background(), "user_1")
	if err == nil || errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("wrong key: error = %v, want an error that is not ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "authentication_invalid") {
		t.Errorf("error = %q, want the status and Clerk's code", err)
	}
	if strings.Contains(err.Error(), "sk_test_wrong") {
		t.Errorf("error quotes the secret key: %q", err)
	}
	if fake.UserLookups() != 1 {
		t.Errorf("UserLookups = %d, want 1 (the refused call)", fake.UserLookups())
	}
}

func TestDirectoryUnreachableAPI(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	d := newDirectory(t, fake)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := d.GetUser(ctx, "user_1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: error = %v, want context.Canceled", err)
	}
}

func TestDirectoryOutageIsNotNotFound(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t)
	fake.AddUser(ports.IdentityUser{ID: "user_1"})
	fake.SetDown(true)
	d := newDirectory(t, fake)

	_, err := d.GetUser(context.Background(), "user_1")
	if err == nil || errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("Clerk down: error = %v, want an error that is not ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "503") {
		t.Errorf("error = %q, want the 503 status", err)
	}
}
