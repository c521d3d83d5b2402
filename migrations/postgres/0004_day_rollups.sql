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
    date      DATE NOT NULL,
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
    genuine   INTEGER NOT NULL,
    PRIMARY KEY (store_id, sensor_id, date)
);
CREATE INDEX sensor_days_date ON analytics.sensor_days (date);

-- One row per store and day (all of the store's sensors).
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
    r09 DOUBLE PRECISION NOT NULL,
    r10 DOUBLE PRECISION NOT NULL,
    r11 DOUBLE PRECISION NOT NULL,
    r12 DOUBLE PRECISION NOT NULL,
    r13 DOUBLE PRECISION NOT NULL,
    r14 DOUBLE PRECISION NOT NULL,
    r15 DOUBLE PRECISION NOT NULL,
    r16 DOUBLE PRECISION NOT NULL,
    r17 DOUBLE PRECISION NOT NULL,
    r18 DOUBLE PRECISION NOT NULL,
    r19 DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (date, store_id)
);
CREATE INDEX store_days_store_date ON analytics.store_days (store_id, date);

-- One row per store and calendar month (`month` is its first day): the sums of the
-- month's store_days, so a year-long ranking reads 12 rows per store plus the edge days.
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
    r09 DOUBLE PRECISION NOT NULL,
    r10 DOUBLE PRECISION NOT NULL,
    r11 DOUBLE PRECISION NOT NULL,
    r12 DOUBLE PRECISION NOT NULL,
    r13 DOUBLE PRECISION NOT NULL,
    r14 DOUBLE PRECISION NOT NULL,
    r15 DOUBLE PRECISION NOT NULL,
    r16 DOUBLE PRECISION NOT NULL,
    r17 DOUBLE PRECISION NOT NULL,
    r18 DOUBLE PRECISION NOT NULL,
    r19 DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (month, store_id)
);

-- The whole chain per date and hour (the all-stores view's hourly figures).
CREATE TABLE analytics.chain_hours (
    date         DATE NOT NULL,
    hour         SMALLINT NOT NULL,
    visitors     BIGINT NOT NULL,
    transactions BIGINT NOT NULL,
    revenue      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (date, hour)
);

-- Every sensor seen in analytics (the candidates for "active sensors").
CREATE TABLE analytics.sensors (
    store_id  INTEGER NOT NULL,
    sensor_id INTEGER NOT NULL,
    PRIMARY KEY (store_id, sensor_id)
);
