-- +goose Up
-- A subscription the billing provider marks unpaid or paused suspends the
-- membership: still a member (not alumni), without a member's access, and
-- hidden from the directory. Rows that were past_due because of such a
-- subscription read suspended at their next snapshot (the reconciliation
-- re-reads every subscription).
ALTER TABLE memberships DROP CONSTRAINT memberships_status_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_status_check
    CHECK (status IN ('pending', 'active', 'past_due', 'suspended', 'canceled'));
ALTER TABLE memberships ADD CONSTRAINT memberships_suspended_hidden_check
    CHECK (status <> 'suspended' OR NOT visible);

-- +goose Down
UPDATE memberships SET status = 'past_due' WHERE status = 'suspended';
ALTER TABLE memberships DROP CONSTRAINT memberships_suspended_hidden_check;
ALTER TABLE memberships DROP CONSTRAINT memberships_status_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_status_check
    CHECK (status IN ('pending', 'active', 'past_due', 'canceled'));
