package alert

import (
	"context"
	"errors"

	"github.com/womendefiningai/platform/ports"
)

// Fanout sends each alert to every alerter and joins their errors, so that
// one failing channel (Slack down) does not silence the others.
type Fanout []ports.Alerter

var _ ports.Alerter = Fanout(nil)

// Alert sends a to every alerter.
func (f Fanout) Alert(ctx context.Context, a ports.Alert) error {
	var errs []error
	for _, al := range f {
		if err := al.Alert(ctx, a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
