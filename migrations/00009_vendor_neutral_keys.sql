-- The application names its integrations by what they are for, not by
-- vendor: the email list's sync state, the identity provider's webhook
-- deliveries. A tier whose price is still the seeded placeholder has no
-- price (it cannot be bought until one is configured).

-- +goose Up
UPDATE integrations SET provider = 'email_list' WHERE provider = 'mailchimp';
UPDATE webhook_inbox SET source = 'identity' WHERE source = 'clerk';
UPDATE membership_tiers SET stripe_price_id = NULL WHERE stripe_price_id LIKE 'price_placeholder%';

-- +goose Down
UPDATE integrations SET provider = 'mailchimp' WHERE provider = 'email_list';
UPDATE webhook_inbox SET source = 'clerk' WHERE source = 'identity';
UPDATE membership_tiers SET stripe_price_id = 'price_placeholder_' || id WHERE stripe_price_id IS NULL;
