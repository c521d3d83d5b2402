-- Store-level hourly rollup written by the nightly transform with the day's analytics rows
-- (same transaction): the dashboard's store-level figures (conversion, revenue, ranking)
-- read this instead of scanning every sensor row.
CREATE TABLE analytics.store_hours (
    store_id     INTEGER NOT NULL,
    date         DATE NOT NULL,
    hour         SMALLINT NOT NULL,
    visitors     BIGINT NOT NULL,
    transactions BIGINT NOT NULL,
    revenue      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (date, store_id, hour)
);
