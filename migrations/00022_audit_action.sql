-- The audit log is read by action (or an action prefix such as "rsvp."),
-- newest first: leaders review the approval job's decisions that way.

-- +goose Up
CREATE INDEX audit_log_action_idx ON audit_log (action text_pattern_ops, id DESC);

-- +goose Down
DROP INDEX audit_log_action_idx;
