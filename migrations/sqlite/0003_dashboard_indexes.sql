-- One-store dashboard queries: seek by store, then date (the unique index leads with date).
CREATE INDEX analytics.visiteurs_store_date ON visiteurs (store_id, date);
CREATE INDEX analytics.store_hours_store_date ON store_hours (store_id, date);
