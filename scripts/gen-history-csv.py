#!/usr/bin/env python3
"""Writes a historical visitors CSV of about SIZE megabytes in the original layout
(`store_id,sensor_id,date,heure,nb_visiteurs`), with the historical mess: three date
spellings, three hour spellings, missing values. Deterministic (fixed seed).

    scripts/gen-history-csv.py 100 /tmp/history-100mb.csv

Used to measure the streaming import's memory (BENCHMARKS.md, "Import").
"""
import datetime
import random
import sys

SENSORS = [12, 10, 10, 9, 8, 7, 8, 7, 7, 5]  # sensors per store, the embedded chain


def main() -> None:
    size = int(sys.argv[1]) * 1_000_000 if len(sys.argv) > 1 else 100_000_000
    out = sys.argv[2] if len(sys.argv) > 2 else "history.csv"
    rng = random.Random(12)
    day = datetime.date(2021, 1, 4)
    written = 0
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        header = "store_id,sensor_id,date,heure,nb_visiteurs\n"
        f.write(header)
        written += len(header)
        while written < size:
            spellings = [day.strftime("%Y-%m-%d"), day.strftime("%Y/%m/%d"), day.strftime("%d/%m/%Y")]
            lines = []
            for hour in range(24):
                hours = [f"{hour:02d}:00:00", f"{hour:02d}h00", f"{hour:02d}00"]
                for store, n in enumerate(SENSORS, start=1):
                    for sensor in range(1, n + 1):
                        value = "" if rng.random() < 0.04 else str(rng.randint(20, 120) if 9 <= hour <= 19 else 0)
                        lines.append(f"{store},{sensor},{rng.choice(spellings)},{rng.choice(hours)},{value}\n")
            chunk = "".join(lines)
            f.write(chunk)
            written += len(chunk)
            day += datetime.timedelta(days=1)


if __name__ == "__main__":
    main()
