package slack_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	goslack "github.com/slack-go/slack"

	"github.com/womendefiningai/platform/adapters/slack"
	"github.com/womendefiningai/platform/adapters/slack/slackfake"
	"github.com/womendefiningai/platform/ports"
)

// fullUser is account i as users.list shows a member who filled in their
// profile: every field slack-go knows, with values of a realistic length
// (Gravatar-backed image URLs, which are longer than Slack's own, a title,
// a status with its emoji, pronouns, a phone number).
func fullUser(i int) goslack.User {
	yes := true
	none := ""
	img := func(px int) string {
		return fmt.Sprintf("https://secure.gravatar.com/avatar/%032x.jpg?s=%d&d=https%%3A%%2F%%2Fa.slack-edge.com%%2Fdf10d%%2Fimg%%2Favatars%%2Fava_0%03d-%d.png", i*7919, px, i%100, px)
	}
	name := fmt.Sprintf("Margaret Hamilton-Okonkwo %d", i)
	return goslack.User{
		ID: fmt.Sprintf("U0%09d", i), TeamID: "T0123ABCDE", Name: fmt.Sprintf("margaret.hamilton%d", i), Color: "9f69e7",
		RealName: name, TZ: "America/Los_Angeles", TZLabel: "Pacific Standard Time", TZOffset: -28800,
		IsEmailConfirmed: true, Has2FA: &yes, TwoFactorType: &none, Locale: "en-US", Updated: goslack.JSONTime(1764201600),
		WhoCanShareContactCard: "EVERYONE",
		Profile: goslack.UserProfile{
			FirstName: "Margaret", LastName: fmt.Sprintf("Hamilton-Okonkwo %d", i), RealName: name, RealNameNormalized: name,
			DisplayName: fmt.Sprintf("maggie.h%d", i), DisplayNameNormalized: fmt.Sprintf("maggie.h%d", i), Pronouns: "she/her",
			AvatarHash: fmt.Sprintf("g%011x", i), Email: fmt.Sprintf("margaret.hamilton-okonkwo%d@women-defining-ai.example.org", i),
			Skype: "maggie.hamilton.ok", Phone: "+1 (415) 555-0142",
			Image24: img(24), Image32: img(32), Image48: img(48), Image72: img(72), Image192: img(192), Image512: img(512),
			Image1024: img(1024), ImageOriginal: img(2048),
			Title:      "Senior Program Manager, Responsible AI Partnerships",
			StatusText: "At the community meetup until 5pm", StatusEmoji: ":speech_balloon:", StatusTextCanonical: "",
			StatusEmojiDisplayInfo: []goslack.UserProfileStatusEmojiDisplayInfo{{EmojiName: "speech_balloon", Unicode: "1f4ac"}},
			StartDate:              "2024-03-01", Team: "T0123ABCDE",
		},
	}
}

// listAnswer is a users.list answer with the members, as Slack encodes it.
func listAnswer(t testing.TB, members any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"ok": true, "members": members, "response_metadata": map[string]string{"next_cursor": "dXNlcjpVMDYxTkZUVDI="}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serve answers every call with body, whatever limit was asked for: a
// directory that ignores it.
func serve(t testing.TB, body []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestARealisticPageFitsTheCapWithHeadroom measures a page of 1,000 full
// profiles and holds the answer cap to at least three times it (and below
// the 32 MiB it was); the page is read whole.
func TestARealisticPageFitsTheCapWithHeadroom(t *testing.T) {
	t.Parallel()
	users := make([]goslack.User, ports.ChatPageMax)
	for i := range users {
		users[i] = fullUser(i)
	}
	body := listAnswer(t, users)
	t.Logf("a users.list page of 1,000 full profiles: %d bytes (%.2f MiB, %d bytes an account); cap %d MiB, %.1fx",
		len(body), float64(len(body))/(1<<20), len(body)/ports.ChatPageMax, slack.MaxResponseBytes>>20, float64(slack.MaxResponseBytes)/float64(len(body)))
	if slack.MaxResponseBytes < 3*len(body) || slack.MaxResponseBytes >= 32<<20 {
		t.Errorf("cap %d bytes for a realistic page of %d: want at least 3x the page and under 32 MiB", slack.MaxResponseBytes, len(body))
	}
	page, err := newDirectory(t, serve(t, body), slackfake.Token).ListUsers(t.Context(), "", ports.ChatPageMax)
	if err != nil || len(page.Users) != ports.ChatPageMax || page.Users[999].Email != "margaret.hamilton-okonkwo999@women-defining-ai.example.org" {
		t.Fatalf("ListUsers = %d users, %v; want all 1,000", len(page.Users), err)
	}
}

// TestMoreAccountsThanAskedForAreRefused: a page with one account more than
// the limit is refused, permanently (see directory.go), without the token.
func TestMoreAccountsThanAskedForAreRefused(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{25, ports.ChatPageMax} {
		users := make([]goslack.User, limit+1)
		for i := range users {
			users[i] = fullUser(i)
		}
		_, err := newDirectory(t, serve(t, listAnswer(t, users)), slackfake.Token).ListUsers(t.Context(), "", limit)
		if !ports.IsPermanent(err) || !strings.Contains(err.Error(), fmt.Sprintf("more than the %d asked for", limit)) || strings.Contains(err.Error(), slackfake.Token) {
			t.Errorf("%d accounts for a limit of %d: %v; want a permanent refusal that names the limit", limit+1, limit, err)
		}
	}
	users := make([]goslack.User, 25)
	for i := range users {
		users[i] = fullUser(i)
	}
	if page, err := newDirectory(t, serve(t, listAnswer(t, users)), slackfake.Token).ListUsers(t.Context(), "", 25); err != nil || len(page.Users) != 25 {
		t.Errorf("exactly the limit: %d users, %v", len(page.Users), err)
	}
}

// allocated returns the bytes the process allocated while f ran: an upper
// bound on how much the heap grew, at its peak, because of f.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestAHundredThousandAccountPageIsRefusedInBoundedMemory: users.list
// ignores the limit and sends 100,000 accounts in one page: small accounts
// of about 100 bytes (9.8 MB, under the cap, so the count refuses it),
// accounts with names too (past the cap, so the cap refuses it), and bare
// ids. Each is refused permanently, and the call allocates less than 5x the
// cap in all, which bounds the heap's growth (a page decoded whole
// allocated over 450 MiB). Measured: 22, 24 and 4 MiB; about double under
// the race detector (44, 49, 9). The control is a realistic page of 1,000
// full profiles, read in the same run (21 MiB; 27 under the race
// detector). Not parallel: the allocation count is the process's.
func TestAHundredThousandAccountPageIsRefusedInBoundedMemory(t *testing.T) {
	const n = 100_000
	small, named, bare := make([]map[string]any, n), make([]map[string]any, n), make([]map[string]any, n)
	for i := range n {
		id := fmt.Sprintf("U%08d", i)
		small[i] = map[string]any{"id": id, "name": fmt.Sprintf("user%d", i), "deleted": false, "profile": map[string]string{"email": fmt.Sprintf("user%d@example.org", i)}}
		named[i] = map[string]any{"id": id, "name": fmt.Sprintf("user%d", i), "real_name": fmt.Sprintf("Member Number %d", i), "deleted": false,
			"profile": map[string]string{"email": fmt.Sprintf("user%d@example.org", i), "real_name": fmt.Sprintf("Member Number %d", i)}}
		bare[i] = map[string]any{"id": id}
	}
	full := make([]goslack.User, ports.ChatPageMax)
	for i := range full {
		full[i] = fullUser(i)
	}
	cases := []struct {
		name  string
		body  []byte
		users int // 0: refused
	}{
		{"control: 1,000 full profiles", listAnswer(t, full), ports.ChatPageMax},
		{"100,000 small accounts", listAnswer(t, small), 0},
		{"100,000 named accounts", listAnswer(t, named), 0},
		{"100,000 bare ids", listAnswer(t, bare), 0},
	}
	for _, c := range cases {
		d := newDirectory(t, serve(t, c.body), slackfake.Token)
		var err error
		var page ports.ChatUserPage
		bytes := allocated(func() { page, err = d.ListUsers(t.Context(), "", ports.ChatPageMax) })
		t.Logf("%s: a page of %.1f MiB: %d users, %v; allocated %.1f MiB during the call (cap %d MiB)",
			c.name, float64(len(c.body))/(1<<20), len(page.Users), err, float64(bytes)/(1<<20), slack.MaxResponseBytes>>20)
		if c.users == 0 && (!ports.IsPermanent(err) || len(page.Users) != 0) || c.users > 0 && (err != nil || len(page.Users) != c.users) {
			t.Errorf("%s: %d users, %v; want %d (0: a permanent refusal)", c.name, len(page.Users), err, c.users)
		}
		if bytes > 5*slack.MaxResponseBytes {
			t.Errorf("%s: allocated %d bytes; want under 5x the cap (%d)", c.name, bytes, 5*slack.MaxResponseBytes)
		}
	}
}
