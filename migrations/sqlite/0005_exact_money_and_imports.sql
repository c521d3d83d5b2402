-- Issue 12: nothing lost, nothing invented.
--
-- 1. Imports are identified by their content: `raw.imports` records each imported file once
--    (lot `import:<feed>:sha256:<hex>`, with the path and name it came from, for display),
--    and `seq` orders imports for the precedence rule (a newer import wins over an older
--    one; collected rows win over every import). Imported raw rows keep their line number,
--    so duplicates inside one file resolve by file order on every engine.
-- 2. Money is exact: integer cents (`chiffre_affaires_centimes`, `revenue_cents`, `c09…c19`)
--    from the cleaning through the rollups. Existing euro amounts are converted (rounded to
--    the cent, which they already were), and the day rollups are recreated empty: the
--    warehouse rebuilds them from analytics rows when it is opened (see rollups.rs).

CREATE TABLE raw.imports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    lot           TEXT NOT NULL UNIQUE,
    feed          TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    file_path     TEXT NOT NULL,
    rows_loaded   INTEGER NOT NULL,
    lines_bad     INTEGER NOT NULL,
    rows_outside_range INTEGER NOT NULL,
    imported_at   TEXT NOT NULL
);

ALTER TABLE raw.visiteurs ADD COLUMN line INTEGER;
ALTER TABLE raw.transactions ADD COLUMN line INTEGER;

ALTER TABLE analytics.transactions ADD COLUMN chiffre_affaires_centimes INTEGER NOT NULL DEFAULT 0;
UPDATE analytics.transactions SET chiffre_affaires_centimes = CAST(ROUND(CAST(chiffre_affaires * 100 AS NUMERIC)) AS INTEGER);
ALTER TABLE analytics.transactions DROP COLUMN chiffre_affaires;

ALTER TABLE analytics.store_hours ADD COLUMN revenue_cents INTEGER NOT NULL DEFAULT 0;
UPDATE analytics.store_hours SET revenue_cents = CAST(ROUND(CAST(revenue * 100 AS NUMERIC)) AS INTEGER);
ALTER TABLE analytics.store_hours DROP COLUMN revenue;

-- Day rollups with revenue in cents (c: revenue in cents; v: visitors; t: transactions).
DROP TABLE analytics.store_days;
DROP TABLE analytics.store_months;
DROP TABLE analytics.chain_hours;

CREATE TABLE analytics.store_days (
    store_id INTEGER NOT NULL,
    date     TEXT NOT NULL,
    v09 INTEGER NOT NULL,
    v10 INTEGER NOT NULL,
    v11 INTEGER NOT NULL,
    v12 INTEGER NOT NULL,
    v13 INTEGER NOT NULL,
    v14 INTEGER NOT NULL,
    v15 INTEGER NOT NULL,
    v16 INTEGER NOT NULL,
    v17 INTEGER NOT NULL,
    v18 INTEGER NOT NULL,
    v19 INTEGER NOT NULL,
    t09 INTEGER NOT NULL,
    t10 INTEGER NOT NULL,
    t11 INTEGER NOT NULL,
    t12 INTEGER NOT NULL,
    t13 INTEGER NOT NULL,
    t14 INTEGER NOT NULL,
    t15 INTEGER NOT NULL,
    t16 INTEGER NOT NULL,
    t17 INTEGER NOT NULL,
    t18 INTEGER NOT NULL,
    t19 INTEGER NOT NULL,
    c09 INTEGER NOT NULL,
    c10 INTEGER NOT NULL,
    c11 INTEGER NOT NULL,
    c12 INTEGER NOT NULL,
    c13 INTEGER NOT NULL,
    c14 INTEGER NOT NULL,
    c15 INTEGER NOT NULL,
    c16 INTEGER NOT NULL,
    c17 INTEGER NOT NULL,
    c18 INTEGER NOT NULL,
    c19 INTEGER NOT NULL,
    PRIMARY KEY (date, store_id)
) WITHOUT ROWID;
CREATE INDEX analytics.store_days_store_date ON store_days (store_id, date);

CREATE TABLE analytics.store_months (
    store_id INTEGER NOT NULL,
    month    TEXT NOT NULL,
    v09 INTEGER NOT NULL,
    v10 INTEGER NOT NULL,
    v11 INTEGER NOT NULL,
    v12 INTEGER NOT NULL,
    v13 INTEGER NOT NULL,
    v14 INTEGER NOT NULL,
    v15 INTEGER NOT NULL,
    v16 INTEGER NOT NULL,
    v17 INTEGER NOT NULL,
    v18 INTEGER NOT NULL,
    v19 INTEGER NOT NULL,
    t09 INTEGER NOT NULL,
    t10 INTEGER NOT NULL,
    t11 INTEGER NOT NULL,
    t12 INTEGER NOT NULL,
    t13 INTEGER NOT NULL,
    t14 INTEGER NOT NULL,
    t15 INTEGER NOT NULL,
    t16 INTEGER NOT NULL,
    t17 INTEGER NOT NULL,
    t18 INTEGER NOT NULL,
    t19 INTEGER NOT NULL,
    c09 INTEGER NOT NULL,
    c10 INTEGER NOT NULL,
    c11 INTEGER NOT NULL,
    c12 INTEGER NOT NULL,
    c13 INTEGER NOT NULL,
    c14 INTEGER NOT NULL,
    c15 INTEGER NOT NULL,
    c16 INTEGER NOT NULL,
    c17 INTEGER NOT NULL,
    c18 INTEGER NOT NULL,
    c19 INTEGER NOT NULL,
    PRIMARY KEY (month, store_id)
) WITHOUT ROWID;

CREATE TABLE analytics.chain_hours (
    date          TEXT NOT NULL,
    hour          INTEGER NOT NULL,
    visitors      INTEGER NOT NULL,
    transactions  INTEGER NOT NULL,
    revenue_cents INTEGER NOT NULL,
    PRIMARY KEY (date, hour)
) WITHOUT ROWID;
