-- Store-level hourly rollup written by the nightly transform with the day's analytics rows
-- (same transaction): the dashboard's store-level figures read this.
CREATE TABLE analytics.store_hours (
    store_id     INTEGER NOT NULL,
    date         TEXT NOT NULL,
    hour         INTEGER NOT NULL,
    visitors     INTEGER NOT NULL,
    transactions INTEGER NOT NULL,
    revenue      REAL NOT NULL,
    PRIMARY KEY (date, store_id, hour)
);
