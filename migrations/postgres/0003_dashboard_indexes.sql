-- One-store dashboard queries: seek by store, then date (the unique index leads with date).
CREATE INDEX visiteurs_store_date ON analytics.visiteurs (store_id, date);
CREATE INDEX store_hours_store_date ON analytics.store_hours (store_id, date);
