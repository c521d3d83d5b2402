-- Alerts (issue 26): what detection found, their lifecycle, silences, delivery channels and
-- deliveries. In the main file beside the ledger. Times are Unix seconds (UTC).

-- One row per alert, keyed by its dedupe key (rule, store[, sensor], first hour): every
-- replica and every re-run of detection inserts it if absent, so it exists once.
CREATE TABLE alerts (
    id              BIGSERIAL PRIMARY KEY,
    dedupe_key      TEXT NOT NULL UNIQUE,
    rule            TEXT NOT NULL,
    severity        TEXT NOT NULL,
    store_id        BIGINT NOT NULL,
    sensor_id       BIGINT,
    starts_at       BIGINT NOT NULL,
    ends_at         BIGINT,
    observed        DOUBLE PRECISION,
    expected        DOUBLE PRECISION,
    status          TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    -- The detection run that opened it ('detect:2025-03-14T10'): its digest names it.
    opened_run      TEXT NOT NULL,
    opened_at       BIGINT NOT NULL,
    -- The data time (the end of the partition looked at) of the first and latest runs that
    -- found it: an older run re-run later neither refreshes nor resolves it.
    first_seen      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT,
    ack_comment     TEXT,
    resolved_at     BIGINT,
    resolved_run    TEXT,
    -- The silence that covered it when opened: kept, never delivered.
    silence_id      BIGINT
);
CREATE INDEX alerts_status ON alerts (status, store_id);
CREATE INDEX alerts_store_start ON alerts (store_id, starts_at);
CREATE INDEX alerts_start ON alerts (starts_at);
CREATE INDEX alerts_opened_run ON alerts (opened_run, store_id);

-- A store, a sensor or the whole chain (store_id NULL) held back from delivery over a time
-- range; with weekdays (bit 0 = Monday … bit 6 = Sunday) and Paris local hours
-- [hour_from, hour_to) only then (a planned closure).
CREATE TABLE alert_silences (
    id          BIGSERIAL PRIMARY KEY,
    store_id    BIGINT,
    sensor_id   BIGINT,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    weekdays    BIGINT NOT NULL DEFAULT 0,
    hour_from   BIGINT,
    hour_to     BIGINT,
    reason      TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    lifted_at   BIGINT,
    lifted_by   TEXT,
    CHECK (sensor_id IS NULL OR store_id IS NOT NULL),
    CHECK (ends_at > starts_at)
);
CREATE INDEX alert_silences_end ON alert_silences (ends_at);

-- Where alerts go: a signed webhook, a Slack-compatible webhook or an email address, for a
-- set of stores (all_stores = 1: every store).
CREATE TABLE alert_channels (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('webhook', 'slack', 'email')),
    target      TEXT NOT NULL,
    -- The webhook's signing secret (whsec_…); never shown back in full.
    secret      TEXT,
    all_stores  BIGINT NOT NULL DEFAULT 1,
    stores      TEXT NOT NULL DEFAULT '',
    lang        TEXT NOT NULL DEFAULT 'fr',
    enabled     BIGINT NOT NULL DEFAULT 1,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

-- One message to one channel: a store's digest of one detection run (unique per channel,
-- run and store, so replicas enqueue it once) or a test. Claimed atomically before sending
-- (status 'sending' with a lease), retried with backoff while attempts remain.
CREATE TABLE alert_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    channel_id      BIGINT NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
    run             TEXT NOT NULL,
    store_id        BIGINT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    alert_count     BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    UNIQUE (channel_id, run, store_id)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_attempt_at);
CREATE INDEX alert_deliveries_created ON alert_deliveries (created_at);
-- Channel names are unique whatever their case, as on SQLite (COLLATE NOCASE).
CREATE UNIQUE INDEX alert_channels_name ON alert_channels (lower(name));
