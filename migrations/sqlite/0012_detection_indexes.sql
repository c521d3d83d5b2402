-- Alert detection's hourly reads (issue 26): the few raw rows of the latest collected hours
-- that say something is wrong (a null or zero count, no sale), found without visiting the
-- hour's other rows. The predicates are the ones `warehouse::detection` queries with, word
-- for word (SQLite uses a partial index only for a query whose WHERE repeats its terms).
CREATE INDEX raw.raw_visiteurs_bad_lot ON visiteurs (lot)
    WHERE nb_visiteurs IS NULL OR nb_visiteurs <= 0;
CREATE INDEX raw.raw_transactions_bad_lot ON transactions (lot)
    WHERE transactions IS NULL OR transactions <= 0;
