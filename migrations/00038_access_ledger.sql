-- The access ledger (domain/ledger): every grant of a member's access is a
-- row with its source, its window [starts_at, ends_at) (ends_at NULL: open)
-- and who granted it and why. A person has access while any of their
-- grants is current. Rows are never deleted: ending a grant early moves
-- ends_at and records who ended it and why (revoked_*).
--
-- memberships.access_active is what the ledger said at its last
-- evaluation, so that the start and the end of access are announced and
-- audited once. Visibility in the directory is now a preference that only
-- counts while the person has access (the ledger decides), so a
-- scholarship holder without a subscription may be listed: the status
-- checks on visible go.

-- +goose Up
CREATE TABLE access_grants (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id     uuid NOT NULL REFERENCES people (id),
    source        text NOT NULL CHECK (source IN ('subscription', 'grace', 'complimentary', 'manual')),
    tier          text NOT NULL DEFAULT '' CHECK (length(tier) <= 100),
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz CHECK (ends_at >= starts_at),
    granted_by    text NOT NULL CHECK (granted_by <> '' AND length(granted_by) <= 200),
    reason        text NOT NULL CHECK (reason <> '' AND length(reason) <= 2000),
    revoked_at    timestamptz,
    revoked_by    text NOT NULL DEFAULT '' CHECK (length(revoked_by) <= 200),
    revoke_reason text NOT NULL DEFAULT '' CHECK (length(revoke_reason) <= 2000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (source NOT IN ('complimentary', 'grace') OR ends_at IS NOT NULL)
);
CREATE INDEX access_grants_person_idx ON access_grants (person_id, starts_at);
-- The grants that may still be current, for the directory's filter.
CREATE INDEX access_grants_open_idx ON access_grants (person_id) INCLUDE (starts_at, ends_at);

ALTER TABLE memberships ADD COLUMN access_active boolean NOT NULL DEFAULT false;
ALTER TABLE memberships DROP CONSTRAINT IF EXISTS memberships_check;
ALTER TABLE memberships DROP CONSTRAINT IF EXISTS memberships_suspended_hidden_check;

-- Members who paid before the ledger existed keep their access: an open
-- subscription grant (ending at the period end of a scheduled
-- cancellation), and a grace grant of the default seven days for those
-- past_due. The next billing event for each of them reconciles the rest.
INSERT INTO access_grants (person_id, source, tier, starts_at, ends_at, granted_by, reason)
SELECT person_id, 'subscription', tier, now(),
       CASE WHEN cancel_at_period_end THEN greatest(current_period_end, now()) END,
       'billing', 'subscription paid (before the access ledger)'
FROM memberships WHERE status = 'active';
INSERT INTO access_grants (person_id, source, tier, starts_at, ends_at, granted_by, reason)
SELECT person_id, 'grace', tier, now(), now() + interval '7 days',
       'billing', 'payment failed: grace period (before the access ledger)'
FROM memberships WHERE status = 'past_due';
UPDATE memberships SET access_active = true WHERE status IN ('active', 'past_due');

SELECT messaging_create_topic('access.check');
SELECT messaging_create_topic('access.reminder');

-- +goose Down
DROP TABLE IF EXISTS "watermill_access.check", "watermill_access.reminder";
UPDATE memberships SET visible = false WHERE status IN ('canceled', 'suspended', 'pending');
ALTER TABLE memberships DROP COLUMN access_active;
ALTER TABLE memberships ADD CONSTRAINT memberships_check CHECK (status <> 'canceled' OR NOT visible);
ALTER TABLE memberships ADD CONSTRAINT memberships_suspended_hidden_check CHECK (status <> 'suspended' OR NOT visible);
DROP TABLE access_grants;
