#!/usr/bin/env python3
"""Dashboard latency while a command runs (e.g. `datamag360 backup`), stdlib only.

    scripts/bench-dashboard-during.py PORT TO SECONDS [COMMAND...]

Sends POST /api/dashboard (all stores, the 365 days ending TO, hours 9-19) from
THREADS threads (environment, default 4; 1 compares with the dashboard's own p95 target,
which is for one client) back to back for SECONDS, starting COMMAND (if given) after one second, and
prints p50/p95/p99 and the count of the requests that ran while COMMAND ran, and of
those before it (the same load without it). The server must be running (start it with
`datamag360 serve --no-scheduler --port PORT --data-dir DIR`).
"""
import datetime
import http.client
import json
import subprocess
import sys
import threading
import time

port, to, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
command = sys.argv[4:]
start = (datetime.date.fromisoformat(to) - datetime.timedelta(days=364)).isoformat()
body = json.dumps({"query": {"store": None, "sensors": [], "from": start, "to": to,
                             "h0": 9, "h1": 19, "lang": "fr"}})
samples = []  # (start time, seconds)
lock = threading.Lock()
stop = time.monotonic() + seconds


def worker():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < stop:
        t0 = time.monotonic()
        conn.request("POST", "/api/dashboard", body, {"content-type": "application/json"})
        reply = conn.getresponse()
        reply.read()
        if reply.status != 200:
            raise SystemExit(f"HTTP {reply.status}")
        with lock:
            samples.append((t0, time.monotonic() - t0))


import os
threads = [threading.Thread(target=worker) for _ in range(int(os.environ.get("THREADS", "4")))]
for t in threads:
    t.start()
window = None
if command:
    time.sleep(1.0)
    c0 = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    window = (c0, time.monotonic())
    print(done.stdout.strip())
    print(f"command took {window[1] - window[0]:.2f} s, exit {done.returncode}")
for t in threads:
    t.join()


def report(name, values):
    values = sorted(values)
    if not values:
        print(f"{name}: no request")
        return
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))] * 1000
    print(f"{name}: {len(values)} requests, p50 {pick(0.50):.1f} ms, "
          f"p95 {pick(0.95):.1f} ms, p99 {pick(0.99):.1f} ms")


if window:
    report("during the command", [d for t, d in samples if window[0] <= t <= window[1]])
    report("before it", [d for t, d in samples if t < window[0]])
else:
    report("all", [d for _, d in samples])
