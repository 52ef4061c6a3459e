-- Jobs of any length run in pages, one message per page. After each page the
-- run keeps where it stopped (cursor) and how many pages it has done; the
-- counts live in summary. Before a page's first provider call, the run
-- records the page's intent: a token naming the attempt in flight and the
-- cursor the page leads to. A worker that dies after that point leaves the
-- token behind, and the attempt that resumes the run moves past the page
-- without sending it again.

-- +goose Up
ALTER TABLE job_runs
    ADD COLUMN cursor           text NOT NULL DEFAULT '',
    ADD COLUMN pages            integer NOT NULL DEFAULT 0 CHECK (pages >= 0),
    ADD COLUMN page_token       uuid,
    ADD COLUMN page_next        text,
    ADD COLUMN page_last        boolean,
    ADD COLUMN page_started_at  timestamptz,
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now();

-- +goose Down
ALTER TABLE job_runs
    DROP COLUMN updated_at,
    DROP COLUMN page_started_at,
    DROP COLUMN page_last,
    DROP COLUMN page_next,
    DROP COLUMN page_token,
    DROP COLUMN pages,
    DROP COLUMN cursor;
