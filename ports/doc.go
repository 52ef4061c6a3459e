// Package ports declares what the application needs from the world: stores,
// billing, email, events platform, chat directory, identity, publisher, clock
// and alerts. Each interface is named for the need, never for a vendor, and no
// vendor type crosses it. Adapters implement them; mocks for application tests
// are generated into ports/mocks by `make generate`.
package ports

import "errors"

// ErrNotFound is returned by stores when the requested record does not exist.
var ErrNotFound = errors.New("not found")

// ErrNotConfigured is returned by a provider adapter that has no
// credentials, and by the use cases that need it: callers answer "not
// configured" or record the work as skipped, never as a silent success.
var ErrNotConfigured = errors.New("integration not configured")
