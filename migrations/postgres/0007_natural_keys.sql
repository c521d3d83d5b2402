-- Issue 15: the analytics rows of a day cost one b-tree entry each, not three.
--
-- `analytics.visiteurs` and `analytics.transactions` are written a day at a time (the
-- transform replaces a day whole, in one transaction) and read a day or a range of days at
-- a time; nothing looks a row up by `id` or by its natural key. Each row still paid for
-- two b-trees: the primary key on `id` and the unique constraint on the natural key. On a
-- 1,000-store day (106,000 visitor rows) they were two thirds of the COPY's time
-- (BENCHMARKS, session 7).
--
-- Both go; an index on `date` serves every reader and the day's DELETE. A day's rows stay
-- unique by construction: every day write takes the warehouse's write lock
-- (`pg_advisory_xact_lock`, analytics.rs) before it deletes the day, so two writers of
-- one day run one after the other and the second replaces the first's rows.
-- `id` keeps its column, its NOT NULL and its sequence (the original's contract); the
-- sequence hands each connection 1,000 ids at a time instead of one.
ALTER TABLE analytics.visiteurs DROP CONSTRAINT visiteurs_pkey;
ALTER TABLE analytics.visiteurs DROP CONSTRAINT visiteurs_date_store_id_sensor_id_heure_key;
CREATE INDEX visiteurs_date ON analytics.visiteurs (date);
ALTER SEQUENCE analytics.visiteurs_id_seq CACHE 1000;

ALTER TABLE analytics.transactions DROP CONSTRAINT transactions_pkey;
ALTER TABLE analytics.transactions DROP CONSTRAINT transactions_date_store_id_heure_key;
CREATE INDEX transactions_date ON analytics.transactions (date);
ALTER SEQUENCE analytics.transactions_id_seq CACHE 1000;
