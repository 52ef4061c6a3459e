-- Per-caller rate limits, shared by every replica. One row per caller and
-- bucket, holding the GCRA's theoretical arrival time (tat): the allowance
-- is spent when tat runs more than one period ahead of now.
--
-- UNLOGGED: the table is written on every request; losing it in a crash
-- only forgets recent spending (every caller starts with a full allowance),
-- and skipping the write-ahead log halves the cost of each write.
-- fillfactor leaves room on each page so that the update, which changes no
-- indexed column, stays a HOT update.

-- +goose Up
CREATE UNLOGGED TABLE rate_limits (
    key     text PRIMARY KEY,
    tat     timestamptz NOT NULL,
    allowed boolean NOT NULL
) WITH (fillfactor = 70);

-- +goose Down
DROP TABLE rate_limits;
