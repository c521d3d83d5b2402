-- DataMag360 warehouse, SQLite. The raw and analytics schemas are two attached database
-- files (ATTACH ... AS raw / AS analytics), so `raw.visiteurs` reads as on PostgreSQL.
-- Types: dates and times are ISO text (YYYY-MM-DD, HH:MM:SS), timestamps RFC 3339 text.

CREATE TABLE raw.visiteurs (
    store_id            INTEGER NOT NULL,
    sensor_id           INTEGER NOT NULL,
    date                TEXT NOT NULL,
    heure               TEXT NOT NULL,
    nb_visiteurs        INTEGER,
    timestamp_insertion TEXT NOT NULL,
    lot                 TEXT NOT NULL
);
CREATE INDEX raw.raw_visiteurs_lot ON visiteurs (lot);
CREATE INDEX raw.raw_visiteurs_date ON visiteurs (date);

CREATE TABLE raw.transactions (
    store_id            INTEGER NOT NULL,
    date                TEXT NOT NULL,
    heure               TEXT NOT NULL,
    transactions        INTEGER,
    chiffre_affaires    REAL,
    timestamp_insertion TEXT NOT NULL,
    lot                 TEXT NOT NULL
);
CREATE INDEX raw.raw_transactions_lot ON transactions (lot);
CREATE INDEX raw.raw_transactions_date ON transactions (date);

CREATE TABLE analytics.visiteurs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    store_id     INTEGER NOT NULL,
    sensor_id    INTEGER NOT NULL,
    date         TEXT NOT NULL,
    heure        TEXT NOT NULL,
    nb_visiteurs INTEGER NOT NULL,
    imputed      BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (date, store_id, sensor_id, heure)
);

CREATE TABLE analytics.transactions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    store_id         INTEGER NOT NULL,
    date             TEXT NOT NULL,
    heure            TEXT NOT NULL,
    nb_transactions  INTEGER NOT NULL,
    chiffre_affaires REAL NOT NULL,
    imputed          BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (date, store_id, heure)
);

CREATE TABLE analytics.quality (
    date  TEXT NOT NULL,
    feed  TEXT NOT NULL,
    rule  TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (date, feed, rule)
);

CREATE TABLE job_ledger (
    job             TEXT NOT NULL,
    partition       TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    rows_in         INTEGER,
    rows_out        INTEGER,
    started_at      TEXT,
    finished_at     TEXT,
    duration_ms     INTEGER,
    error           TEXT,
    next_attempt_at TEXT,
    PRIMARY KEY (job, partition)
);
CREATE INDEX job_ledger_recent ON job_ledger (started_at DESC);

CREATE TABLE pipeline_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
