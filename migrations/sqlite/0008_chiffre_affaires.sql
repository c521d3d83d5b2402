-- Issue 23: `analytics.transactions.chiffre_affaires` readable again by SQL consumers.
--
-- The original's table had `chiffre_affaires` (euros, REAL); migration 0005 replaced it
-- with the exact integer `chiffre_affaires_centimes`, and BI queries of the old column
-- failed with "no such column". The cents stay what the pipeline writes and reads; the
-- euros are derived from them: the nearest double to the cents / 100, which prints as
-- the exact amount.
--
-- A VIRTUAL generated column: computed when read, nothing stored, nothing to compute when
-- the day's prepared INSERT (which names its columns) writes a row. (The number follows
-- PostgreSQL's 0008; SQLite has no 0007.)
ALTER TABLE analytics.transactions
    ADD COLUMN chiffre_affaires REAL
    GENERATED ALWAYS AS (chiffre_affaires_centimes / 100.0) VIRTUAL;
