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
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lot           TEXT NOT NULL UNIQUE,
    feed          TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    file_path     TEXT NOT NULL,
    rows_loaded   BIGINT NOT NULL,
    lines_bad     BIGINT NOT NULL,
    rows_outside_range BIGINT NOT NULL,
    imported_at   TIMESTAMPTZ NOT NULL
);

ALTER TABLE raw.visiteurs ADD COLUMN line BIGINT;
ALTER TABLE raw.transactions ADD COLUMN line BIGINT;

ALTER TABLE analytics.transactions ADD COLUMN chiffre_affaires_centimes BIGINT NOT NULL DEFAULT 0;
UPDATE analytics.transactions SET chiffre_affaires_centimes = CAST(ROUND(CAST(chiffre_affaires * 100 AS NUMERIC)) AS BIGINT);
ALTER TABLE analytics.transactions DROP COLUMN chiffre_affaires;

ALTER TABLE analytics.store_hours ADD COLUMN revenue_cents BIGINT NOT NULL DEFAULT 0;
UPDATE analytics.store_hours SET revenue_cents = CAST(ROUND(CAST(revenue * 100 AS NUMERIC)) AS BIGINT);
ALTER TABLE analytics.store_hours DROP COLUMN revenue;

-- Day rollups with revenue in cents (c: revenue in cents; v: visitors; t: transactions).
DROP TABLE analytics.store_days;
DROP TABLE analytics.store_months;
DROP TABLE analytics.chain_hours;

CREATE TABLE analytics.store_days (
    store_id INTEGER NOT NULL,
    date     DATE NOT NULL,
    v09 BIGINT NOT NULL,
    v10 BIGINT NOT NULL,
    v11 BIGINT NOT NULL,
    v12 BIGINT NOT NULL,
    v13 BIGINT NOT NULL,
    v14 BIGINT NOT NULL,
    v15 BIGINT NOT NULL,
    v16 BIGINT NOT NULL,
    v17 BIGINT NOT NULL,
    v18 BIGINT NOT NULL,
    v19 BIGINT NOT NULL,
    t09 BIGINT NOT NULL,
    t10 BIGINT NOT NULL,
    t11 BIGINT NOT NULL,
    t12 BIGINT NOT NULL,
    t13 BIGINT NOT NULL,
    t14 BIGINT NOT NULL,
    t15 BIGINT NOT NULL,
    t16 BIGINT NOT NULL,
    t17 BIGINT NOT NULL,
    t18 BIGINT NOT NULL,
    t19 BIGINT NOT NULL,
    c09 BIGINT NOT NULL,
    c10 BIGINT NOT NULL,
    c11 BIGINT NOT NULL,
    c12 BIGINT NOT NULL,
    c13 BIGINT NOT NULL,
    c14 BIGINT NOT NULL,
    c15 BIGINT NOT NULL,
    c16 BIGINT NOT NULL,
    c17 BIGINT NOT NULL,
    c18 BIGINT NOT NULL,
    c19 BIGINT NOT NULL,
    PRIMARY KEY (date, store_id)
);
CREATE INDEX store_days_store_date ON analytics.store_days (store_id, date);

CREATE TABLE analytics.store_months (
    store_id INTEGER NOT NULL,
    month    DATE NOT NULL,
    v09 BIGINT NOT NULL,
    v10 BIGINT NOT NULL,
    v11 BIGINT NOT NULL,
    v12 BIGINT NOT NULL,
    v13 BIGINT NOT NULL,
    v14 BIGINT NOT NULL,
    v15 BIGINT NOT NULL,
    v16 BIGINT NOT NULL,
    v17 BIGINT NOT NULL,
    v18 BIGINT NOT NULL,
    v19 BIGINT NOT NULL,
    t09 BIGINT NOT NULL,
    t10 BIGINT NOT NULL,
    t11 BIGINT NOT NULL,
    t12 BIGINT NOT NULL,
    t13 BIGINT NOT NULL,
    t14 BIGINT NOT NULL,
    t15 BIGINT NOT NULL,
    t16 BIGINT NOT NULL,
    t17 BIGINT NOT NULL,
    t18 BIGINT NOT NULL,
    t19 BIGINT NOT NULL,
    c09 BIGINT NOT NULL,
    c10 BIGINT NOT NULL,
    c11 BIGINT NOT NULL,
    c12 BIGINT NOT NULL,
    c13 BIGINT NOT NULL,
    c14 BIGINT NOT NULL,
    c15 BIGINT NOT NULL,
    c16 BIGINT NOT NULL,
    c17 BIGINT NOT NULL,
    c18 BIGINT NOT NULL,
    c19 BIGINT NOT NULL,
    PRIMARY KEY (month, store_id)
);

CREATE TABLE analytics.chain_hours (
    date          DATE NOT NULL,
    hour          SMALLINT NOT NULL,
    visitors      BIGINT NOT NULL,
    transactions  BIGINT NOT NULL,
    revenue_cents BIGINT NOT NULL,
    PRIMARY KEY (date, hour)
);
