-- Issue 15. The analytics rows are found by their natural key, never by `id`: the unique
-- constraint on (date, store_id, sensor_id, heure) / (date, store_id, heure) is the key
-- every writer and reader uses. The primary-key index on `id` was a second b-tree written
-- for each of the 106,000 rows of a 1,000-store day (BENCHMARKS, session 7). `id` keeps
-- its column, its sequence and NOT NULL (the original's contract); only its index goes.
ALTER TABLE analytics.visiteurs DROP CONSTRAINT visiteurs_pkey;
ALTER TABLE analytics.transactions DROP CONSTRAINT transactions_pkey;
