package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/womendefiningai/platform/adapters/luma/lumafake"
	"github.com/womendefiningai/platform/ports"
)

// rsvpGuest registers the person as a guest, pending approval, of the
// latest event created through wdai (the events the Luma stand-in holds).
func (c *devControl) rsvpGuest(person ports.Person, email string, w io.Writer) (lumafake.Event, string, error) {
	events := c.st.luma.Events()
	if len(events) == 0 {
		return lumafake.Event{}, "", errors.New("no event yet: create one first (createEvent, as a leader)")
	}
	ev := events[len(events)-1]
	guest := c.st.luma.AddGuest(ev.ID, email, person.FirstName)
	fmt.Fprintf(w, "   luma: %s RSVPed to %q (%s), guest %s pending approval\n", email, ev.Name, ev.ID, guest)
	return ev, guest, nil
}

// rsvp registers the person as a guest, pending approval, of the latest
// event created through wdai, then runs the approval job and reports the
// decision.
func (c *devControl) rsvp(ctx context.Context, person ports.Person, email string, w io.Writer) error {
	ev, guest, err := c.rsvpGuest(person, email, w)
	if err != nil {
		return err
	}
	run, err := c.runJob(ctx, jobEventApproval, w)
	if err != nil {
		return err
	}
	var outcome, reason string
	err = c.sys.pool.QueryRow(ctx, `SELECT outcome, reason FROM rsvp_decisions WHERE guest_id = $1`, guest).Scan(&outcome, &reason)
	if err != nil {
		return fmt.Errorf("the approval run %s recorded no decision for guest %s: %w", run, guest, err)
	}
	g, _ := c.st.luma.Guest(ev.ID, guest)
	fmt.Fprintf(w, "   decision: %s (%s); guest status at luma: %s\n", outcome, reason, g.Status)
	return nil
}

// rsvpWebhook registers the person as a guest, pending approval, of the
// latest event created through wdai, and has the Luma stand-in send the
// guest's guest.registered webhook, signed with the development secret, to
// POST /webhooks/luma; the worker decides the guest from it, without a run
// of the approval job.
func (c *devControl) rsvpWebhook(ctx context.Context, person ports.Person, email string, w io.Writer) error {
	ev, guest, err := c.rsvpGuest(person, email, w)
	if err != nil {
		return err
	}
	delivery, status, err := c.st.luma.SendGuestRegistered(ctx, c.base+"webhooks/luma", c.st.lumaWebhookSecret, ev.ID, guest)
	if err != nil {
		return fmt.Errorf("deliver guest.registered: %w", err)
	}
	c.st.calls.add(providerCall{Provider: "luma->wdai", Method: http.MethodPost, Path: "/webhooks/luma guest.registered", Status: status})
	c.sys.logger.Info("stand-in sent a webhook", "provider", "luma", "type", "guest.registered", "delivery_id", delivery, "status", status)
	fmt.Fprintf(w, "   webhook sent: luma guest.registered %s -> %d\n", delivery, status)
	if status != http.StatusOK {
		return fmt.Errorf("wdai answered the guest.registered webhook with %d", status)
	}
	inbox, note, err := c.waitGuestInbox(ctx, delivery)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   guest inbox: %s %s\n", inbox, note)
	if inbox == "processed" {
		var outcome, reason, state string
		err = c.sys.pool.QueryRow(ctx, `SELECT outcome, reason, state FROM rsvp_decisions WHERE guest_id = $1`, guest).Scan(&outcome, &reason, &state)
		if err != nil {
			return fmt.Errorf("the webhook recorded no decision for guest %s: %w", guest, err)
		}
		fmt.Fprintf(w, "   decision: %s (%s), %s, by run webhook:%s\n", outcome, reason, state, delivery)
	}
	g, _ := c.st.luma.Guest(ev.ID, guest)
	fmt.Fprintf(w, "   guest status at luma: %s\n", g.Status)
	fmt.Fprintf(w, "   see it: GraphiQL auditLog(filter: {action: \"rsvp.\"}) (details.run webhook:%s), or the table rsvp_decisions\n", delivery)
	if inbox != "processed" {
		return fmt.Errorf("the registration was %s, not decided: %s", inbox, note)
	}
	return c.waitQuiet(ctx)
}

// waitGuestInbox waits until the worker has handled the stored
// registration of the delivery, and returns its status and note.
func (c *devControl) waitGuestInbox(ctx context.Context, delivery string) (string, string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var status, note string
		err := c.sys.pool.QueryRow(ctx, `SELECT status, note FROM guest_inbox WHERE delivery_id = $1`, delivery).Scan(&status, &note)
		if err != nil {
			return "", "", fmt.Errorf("the registration %s is not in the guest inbox: %w", delivery, err)
		}
		if status != "received" {
			return status, note, nil
		}
		if time.Now().After(deadline) {
			return "", "", fmt.Errorf("the registration %s was not decided within 30s", delivery)
		}
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
