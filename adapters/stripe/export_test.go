package stripe

import (
	"context"
	"time"

	"github.com/womendefiningai/platform/ports"
)

// ListEventsOfTypes exposes the listing of any event types to the tests.
func (b *Billing) ListEventsOfTypes(ctx context.Context, since time.Time, types []string, fn func(ports.BillingEvent) error) error {
	return b.listEvents(ctx, since, "", types, fn)
}
