-- Issues 9 and 15.
--
-- 1. `sensor_months`: each sensor's `genuine` bits per calendar month (the OR of its days' in
--    `sensor_days`), so "active sensors" over a long period probes one small row per sensor
--    and month instead of the sensor's days. The transform keeps it up to date with the
--    day it writes (rollups.rs); filled here from the existing sensor-days.
-- 2. `visiteurs_store_date` is dropped: nothing reads `analytics.visiteurs` by store any more
--    (the dashboard and the export read the rollups), and every visitor row paid for it.

CREATE TABLE analytics.sensor_months (
    store_id  INTEGER NOT NULL,
    sensor_id INTEGER NOT NULL,
    month     DATE NOT NULL,
    genuine   INTEGER NOT NULL,
    PRIMARY KEY (store_id, sensor_id, month)
);

INSERT INTO analytics.sensor_months (store_id, sensor_id, month, genuine)
SELECT store_id, sensor_id, CAST(date_trunc('month', date) AS DATE),
       (MAX(genuine & 1) | MAX(genuine & 2) | MAX(genuine & 4) | MAX(genuine & 8) | MAX(genuine & 16) | MAX(genuine & 32) | MAX(genuine & 64) | MAX(genuine & 128) | MAX(genuine & 256) | MAX(genuine & 512) | MAX(genuine & 1024))
FROM analytics.sensor_days
GROUP BY store_id, sensor_id, CAST(date_trunc('month', date) AS DATE);

DROP INDEX analytics.visiteurs_store_date;
