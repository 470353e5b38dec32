-- Tributary outbox for PostgreSQL. The business system inserts a row here in the same transaction as its
-- business change; Tributary does the rest. Status columns are Tributary's; the others can be renamed through
-- tributary.pipelines.<name>.source.columns.* (or use source.layout=debezium for Debezium's outbox layout).
CREATE TABLE IF NOT EXISTS tributary_outbox (
    id              bigserial   PRIMARY KEY,                      -- also the version when there is no version column
    aggregate       text        NOT NULL,                         -- which pipeline the row belongs to
    business_key    text        NOT NULL,                         -- Kafka record key and target primary key
    version         bigint      NOT NULL,                         -- monotonic per business key
    operation       text        NOT NULL DEFAULT 'UPSERT',        -- UPSERT or DELETE
    payload         jsonb,                                        -- the row as JSON; may be NULL for DELETE
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    status          text        NOT NULL DEFAULT 'PENDING',       -- PENDING PROCESSING ENQUEUED SPOOLED PARKED DONE FAILED DEAD
    status_at       timestamptz NOT NULL DEFAULT now(),           -- when the row reached its status (retention, ack timeout)
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    claimed_by      text,
    claimed_at      timestamptz,
    last_error      text
) WITH (fillfactor = 50);  -- room on each page for the row versions a claim and an ack write (see V5 below)
-- Claims scan only unfinished rows; retention scans only final ones.
CREATE INDEX IF NOT EXISTS tributary_outbox_ready ON tributary_outbox (aggregate, id)
    WHERE status IN ('PENDING', 'FAILED');
-- Claimed rows, by claim time: a replica that died leaves them here until their lease expires.
CREATE INDEX IF NOT EXISTS tributary_outbox_leased ON tributary_outbox (claimed_at)
    WHERE status = 'PROCESSING';
CREATE INDEX CONCURRENTLY IF NOT EXISTS tributary_outbox_purge ON tributary_outbox (status, status_at)
    WHERE status IN ('DONE', 'DEAD', 'FILTERED');
-- Rows waiting for their ack (the re-drive and the backlog read them here, not by scanning the table).
CREATE INDEX CONCURRENTLY IF NOT EXISTS tributary_outbox_waiting ON tributary_outbox (status, status_at)
    WHERE status IN ('ENQUEUED', 'SPOOLED', 'PARKED');
--
-- Versions. Tributary records the version of each table it owns in a Flyway history table beside it
-- (tributary_outbox_tributary here). With source.create-table=true it applies what is missing at start-up:
--   V1  the table above with status_at, and the index tributary_outbox_finished (status, status_at)
--       WHERE status IN ('DONE', 'DEAD')
--   V2  tributary_outbox_purge as above (covers FILTERED rows), then
--       DROP INDEX CONCURRENTLY IF EXISTS tributary_outbox_finished
--   V3  tributary_outbox_waiting as above
--   V4  tributary_outbox_ready and tributary_outbox_leased as above (CONCURRENTLY), then
--       DROP INDEX CONCURRENTLY IF EXISTS tributary_outbox_due  -- (aggregate, id) WHERE status IN
--       ('PENDING', 'FAILED', 'PROCESSING'): claims stepped over every row in flight
--   V5  ALTER TABLE tributary_outbox SET (fillfactor = 50), a tuning: a claim and an ack each write a new version
--       of the row (never a HOT update: the status is in the partial indexes); with room on the page it stays
--       beside the old one, which cuts the write-ahead log per record by two fifths. A table with a fillfactor
--       of its own keeps it, and a table without one still runs (start-up warns, naming the statement).
-- With create-table=false (the business owns its DDL) it changes nothing and refuses to start naming each missing
-- version and its statements; without a history table it reads the versions from the table's structure, so a
-- table created from this file counts as V5.
