-- What a billing event is about, in the application's words
-- (ports.BillingEventKind), stored with the event so that processing never
-- maps provider event types itself. The provider's type stays, for
-- operators. Existing rows are classified from their type.

-- +goose Up
ALTER TABLE billing_inbox ADD COLUMN kind text NOT NULL DEFAULT 'other';
UPDATE billing_inbox SET kind = CASE type
    WHEN 'customer.subscription.created' THEN 'subscription_changed'
    WHEN 'customer.subscription.updated' THEN 'subscription_changed'
    WHEN 'customer.subscription.deleted' THEN 'subscription_changed'
    WHEN 'checkout.session.completed'    THEN 'checkout_completed'
    WHEN 'invoice.payment_failed'        THEN 'payment_failed'
    ELSE 'other'
END;
ALTER TABLE billing_inbox ADD CONSTRAINT billing_inbox_kind_check
    CHECK (kind IN ('subscription_changed', 'checkout_completed', 'payment_failed', 'other'));

-- +goose Down
ALTER TABLE billing_inbox DROP COLUMN kind;
