-- Alert detection's hourly reads (issue 26): the few raw rows of the latest collected hours
-- that say something is wrong (a null or zero count, no sale), found without visiting the
-- hour's other rows (see `warehouse::detection`).
CREATE INDEX raw_visiteurs_bad_lot ON raw.visiteurs (lot)
    WHERE nb_visiteurs IS NULL OR nb_visiteurs <= 0;
CREATE INDEX raw_transactions_bad_lot ON raw.transactions (lot)
    WHERE transactions IS NULL OR transactions <= 0;
