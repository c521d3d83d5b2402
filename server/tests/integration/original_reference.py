#!/usr/bin/env python3
"""What the original DataMag360 API answers, computed with CPython's own hashlib and random.

Stdlib only. Written from SEED.md ("Reproducing the original's numbers exactly"), not from
the Rust code it checks. Usage:

    original_reference.py magasins.csv capteurs.csv < queries > answers

Each query line: `visiteurs,<city_store>,<sensor_id or empty>,<YYYY-MM-DD>,<hour or empty>`
or `transactions,<city_store>,,<YYYY-MM-DD>,<hour>`. Each answer line, in order:
`closed` | `null` | `<int>` for visitors; `closed` | `<n>;<revenue repr>` for transactions.
"""
import csv
import datetime
import hashlib
import random
import sys

WEEKDAY = {0: 0.4, 1: 0.5, 2: 0.6, 3: 0.5, 4: 0.6}
HOUR = {9: 0.3, 10: 0.5, 11: 0.6, 12: 0.7, 13: 0.9, 14: 0.6, 15: 0.6, 16: 0.6,
        17: 0.9, 18: 0.9, 19: 0.7}


def seed(text):
    random.seed(int(hashlib.sha256(text.encode()).hexdigest(), 16))


def raw_count(store_id, sensor_id, date, hour):
    seed(f"{date.isoformat()}-{hour:02d}:00 {sensor_id} - {store_id}")
    if hour >= 19 or hour < 9:
        return 0 if random.random() > 0.001 else random.randint(1, 3)
    if random.random() > 0.08:
        return random.randint(90, 120)
    c = random.random()
    if c < 0.5:
        return None
    if c < 0.75:
        return random.randint(900, 1200)
    return random.randint(1, 2)


def sensor_value(stores, sensors, store_id, sensor_id, date, hour):
    """-1 on a weekend, None for a missing reading, else the scaled count."""
    if date.weekday() >= 5:
        return -1
    raw = raw_count(store_id, sensor_id, date, hour)
    if raw is None:
        return None
    coef = 1.0
    coef *= stores.get(store_id, 1.0)
    coef *= sensors.get((store_id, sensor_id), 1.0)
    coef *= WEEKDAY.get(date.weekday(), 1.0)
    coef *= HOUR.get(hour, 1.0)
    seed(f"{store_id}-{sensor_id}-{date.isoformat()}-{hour:02d}:00")
    coef *= random.uniform(0.95, 1.05)
    return int(raw * coef)


def transactions(stores, sensor_order, store_id, date, hour):
    if date.weekday() >= 5:
        return None
    if hour > 19 or hour < 9:
        return (0, 0)
    seed(f"{date.day}/{date.month}/{date.year}-{hour}-{store_id}")
    v = random.randint(90, 120)
    base = v * stores[store_id] * WEEKDAY[date.weekday()] * HOUR[hour]
    coef_sum = 0
    for c in sensor_order[store_id]:
        coef_sum += c
    total = int(base * coef_sum)
    n = int(total * random.uniform(0.15, 0.30))
    revenue = 0
    for _ in range(n):
        revenue += random.uniform(10, 120)
    return (n, round(revenue, 2))


def main():
    stores, by_city, sensors, sensor_order = {}, {}, {}, {}
    with open(sys.argv[1], newline="") as f:
        for row in csv.DictReader(f):
            sid = int(row["store_id"])
            stores[sid] = float(row["coef"])
            by_city[row["city_store"].strip().lower()] = sid
    with open(sys.argv[2], newline="") as f:
        for row in csv.DictReader(f):
            key = (int(row["store_id"]), int(row["sensor_id"]))
            sensors[key] = float(row["coef"])
            sensor_order.setdefault(key[0], []).append(float(row["coef"]))
    out = []
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        kind, city, sensor, day, hour = line.split(",")
        store_id = by_city[city.strip().lower()]
        date = datetime.date.fromisoformat(day)
        if kind == "transactions":
            t = transactions(stores, sensor_order, store_id, date, int(hour))
            out.append("closed" if t is None else f"{t[0]};{t[1]!r}")
            continue
        ids = [int(sensor)] if sensor else [s for (st, s) in sensors if st == store_id]
        hours = [int(hour)] if hour else list(range(9, 20))
        if date.weekday() >= 5:
            out.append("closed")
            continue
        if sensor and hour:
            v = sensor_value(stores, sensors, store_id, ids[0], date, hours[0])
            out.append("null" if v is None else str(v))
            continue
        # The day and store forms sum the values that are not null.
        total = 0
        for h in hours:
            for s in ids:
                v = sensor_value(stores, sensors, store_id, s, date, h)
                if v is not None:
                    total += v
        out.append(str(total))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
