-- Tiers follow the billing catalogue (`wdai tiers sync`): each keeps the
-- amount, currency and interval of its price, and a tier whose price was
-- archived is retired (active = false, retired_at set) instead of deleted,
-- so members still on that price keep their tier.

-- +goose Up
ALTER TABLE membership_tiers
    ADD COLUMN unit_amount    bigint CHECK (unit_amount > 0),
    ADD COLUMN currency       text CHECK (currency ~ '^[a-z]{3}$'),
    ADD COLUMN billing_interval text CHECK (billing_interval IN ('day', 'week', 'month', 'year')),
    ADD COLUMN interval_count integer CHECK (interval_count > 0),
    ADD COLUMN retired_at     timestamptz;

COMMENT ON COLUMN membership_tiers.stripe_price_id IS
    'Billing price id for checkout; NULL until `wdai tiers sync` (or an operator) sets one. Only tiers with a price are offered.';

-- +goose Down
ALTER TABLE membership_tiers
    DROP COLUMN unit_amount,
    DROP COLUMN currency,
    DROP COLUMN billing_interval,
    DROP COLUMN interval_count,
    DROP COLUMN retired_at;
