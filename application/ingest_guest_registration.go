package application

import (
	"context"

	"github.com/womendefiningai/platform/domain/usertext"
	"github.com/womendefiningai/platform/ports"
)

// Bounds of what a registration may name; the events platform's ids and
// statuses are far shorter.
const (
	maxDeliveryID     = 255
	maxPlatformID     = 200
	maxGuestStatusLen = 50
)

// IngestGuestRegistration stores a verified guest registration once per
// delivery id and, only when it is new, queues its decision, in one
// transaction: a registration acknowledged to the platform is never lost,
// and a redelivery does nothing. Only registrations are stored; the
// webhook acknowledges other types without calling it.
type IngestGuestRegistration struct {
	uow ports.UnitOfWork[ports.GuestInboxTx]
}

// NewIngestGuestRegistration refuses a nil unit of work.
func NewIngestGuestRegistration(uow ports.UnitOfWork[ports.GuestInboxTx]) (IngestGuestRegistration, error) {
	if anyNil(uow) {
		return IngestGuestRegistration{}, nilDependency("ingest guest registration")
	}
	return IngestGuestRegistration{uow: uow}, nil
}

// Handle reports false for a delivery id already stored. A registration
// naming no delivery, event or guest, or whose ids hold control or
// invisible characters or bytes that are not UTF-8, is refused
// (ErrInvalidInput) and nothing is stored. An email that could match no
// verified address (too long, control characters) is stored empty: the
// guest is decided as one no person matches, as the run would.
func (h IngestGuestRegistration) Handle(ctx context.Context, r ports.GuestRegistration) (bool, error) {
	if r.Type != ports.GuestRegistered {
		return false, invalid("guest registration of type %q", r.Type)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"delivery id", r.DeliveryID, maxDeliveryID}, {"event id", r.EventID, maxPlatformID},
		{"guest id", r.Guest.ID, maxPlatformID}, {"approval status", string(r.Guest.Status), maxGuestStatusLen},
	} {
		if f.v == "" && f.name != "approval status" {
			return false, invalid("guest registration without %s", f.name)
		}
		if err := usertext.Check(f.v, f.max); err != nil {
			return false, invalid("guest registration %s: %v", f.name, err)
		}
	}
	if usertext.Check(r.Guest.Email, maxGuestEmail) != nil {
		r.Guest.Email = ""
	}
	r.Guest.Name = "" // not needed to decide, so not kept
	msg, err := ports.NewMessage(ports.TopicGuestRegistered, ports.GuestRegisteredMessage{DeliveryID: r.DeliveryID})
	if err != nil {
		return false, err
	}
	var inserted bool
	err = h.uow.Do(ctx, func(ctx context.Context, tx ports.GuestInboxTx) error {
		var err error
		if inserted, err = tx.GuestInbox().Insert(ctx, r); err != nil || !inserted {
			return err
		}
		return tx.Publisher().Publish(ctx, msg)
	})
	return inserted && err == nil, err
}
