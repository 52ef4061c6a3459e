-- The topic of stored billing events is named for what it carries, not for
-- the provider: "billing.event". Messages waiting in the queue keep their
-- table (renamed), and open dead letters follow the new name so that a
-- replay reaches the handler.

-- +goose Up
ALTER TABLE "watermill_stripe.event" RENAME TO "watermill_billing.event";
ALTER SEQUENCE "watermill_stripe.event_offset_seq" RENAME TO "watermill_billing.event_offset_seq";
UPDATE dead_letters SET topic = 'billing.event' WHERE topic = 'stripe.event';

-- +goose Down
UPDATE dead_letters SET topic = 'stripe.event' WHERE topic = 'billing.event';
ALTER SEQUENCE "watermill_billing.event_offset_seq" RENAME TO "watermill_stripe.event_offset_seq";
ALTER TABLE "watermill_billing.event" RENAME TO "watermill_stripe.event";
