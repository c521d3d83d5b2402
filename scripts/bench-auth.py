#!/usr/bin/env python3
"""What sign-in costs (issue 24), against the real binary on loopback.

    scripts/bench-auth.py BIN [RUNS]

BIN is a datamag360 binary (release for figures worth writing down). The script backfills
a week into a fresh data directory, copies it, adds accounts to the copies, and serves
three (no scheduler):
  - "open": the copy without accounts, on loopback (local mode: no sign-in, no session read,
    one COUNT(*) of accounts per request);
  - "off": a copy with accounts served with DATAMAG_AUTH=off (the gate looks nothing up:
    what a request cost before access existed, in the same build);
  - "signed in": a copy with accounts, every request carrying a session cookie.
It then measures, RUNS times each, sequentially (one request at a time, so the figures are
latencies, not throughput), the servers taking turns in blocks of RUNS/10 so that a busy
moment of the machine falls on all of them alike:
  - POST /login (argon2id verification included), from the form to the 303;
  - POST /api/dashboard for the default week of all stores, and for a manager's two stores;
  - GET /dashboard (the server-rendered page) for the same week.
It prints the median and p95 of each, and the p95 that signing in adds over "off".
"""

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

BIN = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 200
PASSWORD = "a long enough password"
FROM, TO = "2025-03-03", "2025-03-09"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(args, env, stdin=None):
    subprocess.run([BIN] + args, env={**os.environ, **env, "RUST_LOG": "warn"}, input=stdin,
                   check=True, capture_output=True, text=True)


def serve(data, extra=None):
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--port", str(port), "--no-scheduler"],
                            env={**os.environ, "DATAMAG_DATA_DIR": data, "RUST_LOG": "warn",
                                 "HOST": "127.0.0.1", **(extra or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def samples(port, method, path, body=None, headers=None, runs=RUNS, expect=200):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        r.read()
        times.append((time.perf_counter() - t) * 1000)
        if r.status != expect:
            raise SystemExit(f"{method} {path}: {r.status}, expected {expect}")
    return times


def summary(times):
    times = sorted(times)
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)]


def timed(port, method, path, body=None, headers=None, runs=RUNS, expect=200):
    return summary(samples(port, method, path, body, headers, runs, expect))


def in_turns(cases, runs=RUNS, blocks=10):
    """Each case is (port, method, path, body, headers); they take turns, RUNS/blocks
    requests at a time, after one warm-up block each. Returns each case's (median, p95)."""
    per = max(runs // blocks, 1)
    out = [[] for _ in cases]
    for c in cases:
        samples(*c, runs=per)
    for _ in range(blocks):
        for i, c in enumerate(cases):
            out[i] += samples(*c, runs=per)
    return [summary(t) for t in out]


def main():
    work = tempfile.mkdtemp(prefix="bench-auth-")
    open_dir = os.path.join(work, "open")
    signed_dir = os.path.join(work, "signed")
    off_dir = os.path.join(work, "off")
    run(["backfill", "--from", FROM, "--to", TO], {"DATAMAG_DATA_DIR": open_dir})
    shutil.copytree(open_dir, signed_dir)
    for name, role, stores in [("sam", "analyst", ""), ("lea", "manager", "Paris,Lyon")]:
        run(["user", "add", name, "--role", role, "--manages", stores, "--password-stdin"],
            {"DATAMAG_DATA_DIR": signed_dir}, PASSWORD + "\n")
    shutil.copytree(signed_dir, off_dir)
    p_open, port_open = serve(open_dir)
    p_signed, port_signed = serve(signed_dir)
    p_off, port_off = serve(off_dir, {"DATAMAG_AUTH": "off"})
    try:
        origin = {"Origin": f"http://127.0.0.1:{port_signed}",
                  "Content-Type": "application/x-www-form-urlencoded"}
        form = urllib.parse.urlencode({"username": "sam", "password": PASSWORD, "next": "/dashboard"})
        login = timed(port_signed, "POST", "/login", form, origin, runs=min(RUNS, 40), expect=303)

        def cookie_of(user):
            c = http.client.HTTPConnection("127.0.0.1", port_signed)
            body = urllib.parse.urlencode({"username": user, "password": PASSWORD})
            c.request("POST", "/login", body=body, headers=origin)
            r = c.getresponse()
            r.read()
            value = r.getheader("Set-Cookie").split(";")[0]
            return {"Cookie": value}

        sam, lea = cookie_of("sam"), cookie_of("lea")
        query = {"query": {"store": None, "sensors": [], "from": FROM, "to": TO, "h0": 9, "h1": 19,
                           "cmp": None, "sensors_for": None, "lang": "fr"}}
        body = json.dumps(query)

        def api(port, extra):
            headers = {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}", **extra}
            return (port, "POST", "/api/dashboard", body, headers)

        def page(port, extra):
            return (port, "GET", f"/dashboard?from={FROM}&to={TO}", None, extra)

        api_off, api_open, api_sam, api_lea = in_turns(
            [api(port_off, {}), api(port_open, {}), api(port_signed, sam), api(port_signed, lea)])
        page_off, page_open, page_sam = in_turns(
            [page(port_off, {}), page(port_open, {}), page(port_signed, sam)])
        rows = [
            ("POST /login (argon2id verify)", login),
            ("POST /api/dashboard, week, all stores: DATAMAG_AUTH=off", api_off),
            ("POST /api/dashboard, week, all stores: open (local mode)", api_open),
            ("POST /api/dashboard, week, all stores: signed in (analyst)", api_sam),
            ("POST /api/dashboard, week: signed in (manager of 2 stores)", api_lea),
            ("GET /dashboard, week: DATAMAG_AUTH=off", page_off),
            ("GET /dashboard, week: open (local mode)", page_open),
            ("GET /dashboard, week: signed in (analyst)", page_sam),
        ]
        print(f"runs: {RUNS} sequential requests each, in turns (sign-in: {min(RUNS, 40)})")
        for name, (median, p95) in rows:
            print(f"{name:<62} median {median:7.2f} ms   p95 {p95:7.2f} ms")
        print(f"added by signing in over DATAMAG_AUTH=off, API: median {api_sam[0] - api_off[0]:+.2f} ms, "
              f"p95 {api_sam[1] - api_off[1]:+.2f} ms; page: median {page_sam[0] - page_off[0]:+.2f} ms, "
              f"p95 {page_sam[1] - page_off[1]:+.2f} ms")
    finally:
        p_open.kill()
        p_signed.kill()
        p_off.kill()
        shutil.rmtree(work, ignore_errors=True)


main()
