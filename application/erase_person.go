package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/womendefiningai/platform/ports"
)

// ErasePersonInput is a decoded person.deleted message: the erased person,
// the address they had (its last copy, for the email list) and their
// billing customer.
type ErasePersonInput struct {
	PersonID   string
	Email      string
	CustomerID string
}

// ErasePerson carries an erasure, already done here, to the providers:
// the person's current subscriptions are canceled (now, or at their period
// end by setting), the billing customer is deleted (or, when subscriptions
// run to their period end, its personal fields are cleared) and the email
// list deletes the subscriber permanently. Each step is audited; a step
// that fails is audited as failed and returned, so the worker retries the
// message (every step is idempotent) while the other steps are done.
type ErasePerson struct {
	billing     billingErasure
	list        ports.EmailList
	memberships ports.MembershipReader
	states      emailStates
	audit       ports.AuditLog
}

// billingErasure is the billing provider and how subscriptions end.
type billingErasure struct {
	ports.Billing
	atPeriodEnd bool
}

// ErasePersonDeps are the ports ErasePerson uses. AtPeriodEnd cancels the
// subscriptions at their period end instead of now.
type ErasePersonDeps struct {
	Billing      ports.Billing
	List         ports.EmailList
	Memberships  ports.MembershipReader
	Integrations ports.Integrations
	Audit        ports.AuditLog
	AtPeriodEnd  bool
}

// NewErasePerson refuses nil dependencies.
func NewErasePerson(d ErasePersonDeps) (ErasePerson, error) {
	if anyNil(d.Billing, d.List, d.Memberships, d.Integrations, d.Audit) {
		return ErasePerson{}, nilDependency("erase person")
	}
	return ErasePerson{billing: billingErasure{Billing: d.Billing, atPeriodEnd: d.AtPeriodEnd}, list: d.List, memberships: d.Memberships,
		states: emailStates{store: d.Integrations}, audit: d.Audit}, nil
}

// erased is the integration state of a provider step of an erasure that
// is done (for the email list: the subscriber is deleted permanently).
const erased = "erased"

// Handle erases the person at every provider.
func (h ErasePerson) Handle(ctx context.Context, in ErasePersonInput) error {
	if in.PersonID == "" {
		return malformed(ports.TopicPersonDeleted, "a person")
	}
	var errs []error
	for _, st := range []struct {
		integration, action string
		run                 func(context.Context, ErasePersonInput) stepResult
	}{
		{billingErasureIntegration, "person.erase.billing", h.eraseBilling},
		{EmailListIntegration, "person.erase.email_list", h.eraseEmail},
	} {
		// A step done by an earlier attempt (recorded on the person's
		// integration state) is not done again.
		cur, err := h.states.store.Get(ctx, in.PersonID, st.integration)
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		if err == nil && cur.Status == erased {
			continue
		}
		res := st.run(ctx, in)
		if res.err == nil {
			res.err = h.recordErased(ctx, in.PersonID, st.integration)
		}
		errs = append(errs, h.step(ctx, in.PersonID, st.action, res))
	}
	return errors.Join(errs...)
}

// billingErasure names the billing erasure's record in the integrations store.
const billingErasureIntegration = "billing_erasure"

// recordErased records a provider step as done: the integration's state
// is erased (overwriting whatever was there, once more on a race).
func (h ErasePerson) recordErased(ctx context.Context, personID, integration string) error {
	for range 2 {
		cur, err := h.states.store.Get(ctx, personID, integration)
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return err
		}
		if _, err = h.states.store.Put(ctx, ports.IntegrationState{PersonID: personID, Provider: integration, Status: erased,
			State: []byte("{}"), Version: cur.Version}); !errors.Is(err, ports.ErrStaleState) {
			return err
		}
	}
	return ports.ErrStaleState
}

// step audits the outcome of a step and returns its error.
func (h ErasePerson) step(ctx context.Context, personID, action string, res stepResult) error {
	e := ports.AuditEntry{Action: action, SubjectKind: "person", SubjectID: personID, Outcome: ports.OutcomeSuccess, Details: res.details}
	if res.err != nil {
		e.Outcome = ports.OutcomeFailure
		e.Details = map[string]any{"error_class": errorClass(res.err)}
	}
	if err := h.audit.Record(ctx, actor(identitySystem, e)); err != nil {
		return errors.Join(res.err, fmt.Errorf("audit %s: %w", action, err))
	}
	return res.err
}

type stepResult struct {
	details map[string]any
	err     error
}

// errorClass names an error for the audit without its text (which may
// quote provider data).
func errorClass(err error) string {
	switch {
	case ports.IsTransient(err):
		return "transient"
	case errors.Is(err, ports.ErrNotFound):
		return "not_found"
	default:
		return "failed"
	}
}

func (h ErasePerson) eraseBilling(ctx context.Context, in ErasePersonInput) stepResult {
	if !h.billing.Configured() {
		return stepResult{details: map[string]any{"skipped": "not configured"}}
	}
	m, err := h.memberships.Get(ctx, in.PersonID)
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return stepResult{err: err}
	}
	canceled := []string{}
	if m != nil {
		for _, s := range m.Subscriptions() {
			if !s.Status.IsMember() {
				continue
			}
			if err := h.billing.cancel(ctx, s.ID); err != nil {
				return stepResult{err: err}
			}
			canceled = append(canceled, s.ID)
		}
	}
	details := map[string]any{"subscriptions_canceled": canceled, "at_period_end": h.billing.atPeriodEnd}
	if in.CustomerID != "" {
		// Deleting the customer would end subscriptions left to run to
		// their period end: then only its personal fields are cleared.
		if err := h.billing.EraseCustomer(ctx, in.CustomerID, !h.billing.atPeriodEnd); err != nil {
			return stepResult{err: err}
		}
		details["customer"] = "deleted"
		if h.billing.atPeriodEnd {
			details["customer"] = "cleared"
		}
	}
	return stepResult{details: details}
}

// cancel cancels a subscription the provider still reports current (and,
// at period end, not yet set to end); one it no longer knows is done.
func (b billingErasure) cancel(ctx context.Context, id string) error {
	sub, err := b.GetSubscription(ctx, id)
	if errors.Is(err, ports.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !sub.Status.Status().IsMember() || (b.atPeriodEnd && sub.CancelAtPeriodEnd) {
		return nil
	}
	return b.CancelSubscription(ctx, id, b.atPeriodEnd)
}

func (h ErasePerson) eraseEmail(ctx context.Context, in ErasePersonInput) stepResult {
	if in.Email == "" {
		return stepResult{details: map[string]any{"skipped": "no address"}}
	}
	err := h.list.DeletePermanently(ctx, in.Email)
	if errors.Is(err, ports.ErrNotConfigured) {
		return stepResult{details: map[string]any{"skipped": "not configured"}}
	}
	if err != nil {
		return stepResult{err: err}
	}
	return stepResult{details: map[string]any{"deleted_permanently": true}}
}
