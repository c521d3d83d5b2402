-- DataMag360 warehouse, PostgreSQL. Schemas as in the original: raw (what arrived) and
-- analytics (clean, typed); the job ledger and settings live in the default schema.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS analytics;

-- `lot` names the source partition (collect:2025-03-14T10, import:<file>) so a re-run
-- replaces exactly what it wrote.
CREATE TABLE raw.visiteurs (
    store_id            BIGINT NOT NULL,
    sensor_id           BIGINT NOT NULL,
    date                TEXT NOT NULL,
    heure               TEXT NOT NULL,
    nb_visiteurs        BIGINT,
    timestamp_insertion TIMESTAMPTZ NOT NULL,
    lot                 TEXT NOT NULL
);
CREATE INDEX raw_visiteurs_lot ON raw.visiteurs (lot);
CREATE INDEX raw_visiteurs_date ON raw.visiteurs (date);

CREATE TABLE raw.transactions (
    store_id            BIGINT NOT NULL,
    date                TEXT NOT NULL,
    heure               TEXT NOT NULL,
    transactions        BIGINT,
    chiffre_affaires    DOUBLE PRECISION,
    timestamp_insertion TIMESTAMPTZ NOT NULL,
    lot                 TEXT NOT NULL
);
CREATE INDEX raw_transactions_lot ON raw.transactions (lot);
CREATE INDEX raw_transactions_date ON raw.transactions (date);

CREATE TABLE analytics.visiteurs (
    id           BIGSERIAL PRIMARY KEY,
    store_id     INTEGER NOT NULL,
    sensor_id    INTEGER NOT NULL,
    date         DATE NOT NULL,
    heure        TIME NOT NULL,
    nb_visiteurs INTEGER NOT NULL,
    imputed      BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (date, store_id, sensor_id, heure)
);

CREATE TABLE analytics.transactions (
    id               BIGSERIAL PRIMARY KEY,
    store_id         INTEGER NOT NULL,
    date             DATE NOT NULL,
    heure            TIME NOT NULL,
    nb_transactions  INTEGER NOT NULL,
    chiffre_affaires DOUBLE PRECISION NOT NULL,
    imputed          BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (date, store_id, heure)
);

-- Daily quality figures: one count per (day, feed, rule).
CREATE TABLE analytics.quality (
    date  DATE NOT NULL,
    feed  TEXT NOT NULL,
    rule  TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (date, feed, rule)
);

CREATE TABLE job_ledger (
    job             TEXT NOT NULL,
    partition       TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    rows_in         BIGINT,
    rows_out        BIGINT,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    duration_ms     BIGINT,
    error           TEXT,
    next_attempt_at TIMESTAMPTZ,
    PRIMARY KEY (job, partition)
);
CREATE INDEX job_ledger_recent ON job_ledger (started_at DESC);

CREATE TABLE pipeline_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
