-- Day-level rollups for the dashboard, written by the nightly transform in the same
-- transaction as the day's analytics rows (and rebuilt from analytics.* once on upgrade).
-- Hour columns are cumulative from opening: v12 = visitors from 09h through 12h, so any hour
-- range [a, b] is one subtraction, v_b - v_(a-1), and a year is 365 rows per series.
-- (v: visitors, t: transactions, r: revenue in euros.)

-- One row per sensor and day. `genuine` has bit (h - 9) set when hour h had a genuine
-- (not imputed) non-zero count: "active sensors" is one bitwise test per row.
CREATE TABLE analytics.sensor_days (
    store_id  INTEGER NOT NULL,
    sensor_id INTEGER NOT NULL,
    date      TEXT NOT NULL,
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
    genuine   INTEGER NOT NULL,
    PRIMARY KEY (store_id, sensor_id, date)
) WITHOUT ROWID;
CREATE INDEX analytics.sensor_days_date ON sensor_days (date);

-- One row per store and day (all of the store's sensors).
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
    r09 REAL NOT NULL,
    r10 REAL NOT NULL,
    r11 REAL NOT NULL,
    r12 REAL NOT NULL,
    r13 REAL NOT NULL,
    r14 REAL NOT NULL,
    r15 REAL NOT NULL,
    r16 REAL NOT NULL,
    r17 REAL NOT NULL,
    r18 REAL NOT NULL,
    r19 REAL NOT NULL,
    PRIMARY KEY (date, store_id)
) WITHOUT ROWID;
CREATE INDEX analytics.store_days_store_date ON store_days (store_id, date);

-- One row per store and calendar month (`month` is its first day): the sums of the
-- month's store_days, so a year-long ranking reads 12 rows per store plus the edge days.
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
    r09 REAL NOT NULL,
    r10 REAL NOT NULL,
    r11 REAL NOT NULL,
    r12 REAL NOT NULL,
    r13 REAL NOT NULL,
    r14 REAL NOT NULL,
    r15 REAL NOT NULL,
    r16 REAL NOT NULL,
    r17 REAL NOT NULL,
    r18 REAL NOT NULL,
    r19 REAL NOT NULL,
    PRIMARY KEY (month, store_id)
) WITHOUT ROWID;

-- The whole chain per date and hour (the all-stores view's hourly figures).
CREATE TABLE analytics.chain_hours (
    date         TEXT NOT NULL,
    hour         INTEGER NOT NULL,
    visitors     INTEGER NOT NULL,
    transactions INTEGER NOT NULL,
    revenue      REAL NOT NULL,
    PRIMARY KEY (date, hour)
) WITHOUT ROWID;

-- Every sensor seen in analytics (the candidates for "active sensors").
CREATE TABLE analytics.sensors (
    store_id  INTEGER NOT NULL,
    sensor_id INTEGER NOT NULL,
    PRIMARY KEY (store_id, sensor_id)
) WITHOUT ROWID;
