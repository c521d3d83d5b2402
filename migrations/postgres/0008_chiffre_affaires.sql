-- Issue 23: `analytics.transactions.chiffre_affaires` readable again by SQL consumers.
--
-- The original's table had `chiffre_affaires` (euros); migration 0005 replaced it with the
-- exact integer `chiffre_affaires_centimes`, and BI queries of the old column failed with
-- "column does not exist". The cents stay what the pipeline writes and reads; the euros
-- are derived from them, exact to the cent (NUMERIC, not a float).
--
-- A STORED generated column: PostgreSQL 15 has no virtual ones. It is computed as the
-- day's binary COPY inserts its rows (the COPY names its columns, so it never writes this
-- one); a few microseconds per thousand rows.
ALTER TABLE analytics.transactions
    ADD COLUMN chiffre_affaires NUMERIC(14, 2)
    GENERATED ALWAYS AS (CAST(chiffre_affaires_centimes AS NUMERIC(14, 2)) / 100) STORED;
