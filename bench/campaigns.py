"""Benchmark the public campaign pages next to a bare Flask route, on PostgreSQL behind gunicorn.

    .venv/bin/python bench/campaigns.py [--projects 2000] [--clients 8] [--rounds 3] [--seconds 4]

Creates a scratch database, migrates it, runs `seed-demo --projects N`, serves `bench.bare_app:app` with
`gunicorn -w 2` on a free loopback port, and loads each target with keep-alive clients (threads with
http.client) in interleaved rounds, so drift on a shared machine hits every target alike. Prints req/s,
the ratio to the bare route, p50 and p99, and PASS/FAIL against the targets of issue 3 (>= 50 % of the
bare route's req/s, p99 < 100 ms). Stops by itself; the server and the database are removed at the end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import admin, free_port  # noqa: E402

BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
TARGETS = {
    "bare route": "/_bench/bare",
    "/projects": "/projects",
    "campaign page": "/projects/reparaturstation-am-kulturbahnhof",
    "/api/v1/projects": "/api/v1/projects",
}
MIN_RATIO, MAX_P99_MS = 0.5, 100.0


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0

    def add(self, other: Sample) -> None:
        self.latencies += other.latencies
        self.seconds += other.seconds
        self.errors += other.errors

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def run_cli(env: dict[str, str], *args: str) -> None:
    started = time.perf_counter()
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=600)
    print(f"  flask {' '.join(args)}: {time.perf_counter() - started:.1f} s")


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"{HOST}:{port}", "--log-level", "warning",
         "--chdir", str(ROOT), "bench.bare_app:app"],
        cwd=ROOT, env=env, start_new_session=True,
    )


def wait_until_up(port: int, deadline_s: float = 30.0) -> None:
    until = time.monotonic() + deadline_s
    while time.monotonic() < until:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def client(port: int, path: str, stop_at: float, budget: list[int], lock: threading.Lock, out: Sample) -> None:
    """One client: keep-alive when the server allows it (http.client reconnects after Connection: close)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    while time.perf_counter() < stop_at:
        with lock:
            if budget[0] <= 0:
                break
            budget[0] -= 1
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers={"Accept-Language": "de"})
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            ok = False
        elapsed = time.perf_counter() - started
        if ok:
            out.latencies.append(elapsed)
        else:
            out.errors += 1
    conn.close()


def load(port: int, path: str, clients: int, seconds: float, max_requests: int) -> Sample:
    """Run `clients` concurrent clients on `path` until `seconds` pass or `max_requests` are made."""
    samples = [Sample() for _ in range(clients)]
    budget, lock = [max_requests], threading.Lock()
    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(port, path, started + seconds, budget, lock, s))
               for s in samples]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = Sample(seconds=time.perf_counter() - started)
    for s in samples:
        total.latencies += s.latencies
        total.errors += s.errors
    return total


def measure(port: int, args: argparse.Namespace) -> dict[str, Sample]:
    results = {name: Sample() for name in TARGETS}
    for path in TARGETS.values():  # warm-up: imports, template compilation, connection pools
        load(port, path, args.clients, 1.0, 200)
    for round_no in range(1, args.rounds + 1):
        for name, path in TARGETS.items():
            sample = load(port, path, args.clients, args.seconds, args.max_requests)
            results[name].add(sample)
            print(f"  round {round_no}: {name:18} {sample.rps:8.1f} req/s")
    return results


def report(results: dict[str, Sample]) -> bool:
    bare = results["bare route"].rps
    columns = f"{'req/s':>8} | {'vs bare':>7} | {'p50 ms':>7} | {'p99 ms':>7} | {'errors':>6}"
    print(f"\n| {'target':18} | {columns} | result |")
    print(f"|{'-' * 20}|{'-' * 9}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 7}:|{'-' * 8}|")
    all_pass = True
    for name, s in results.items():
        ratio = s.rps / bare if bare else 0.0
        p99 = s.percentile_ms(0.99)
        ok = s.errors == 0 and p99 < MAX_P99_MS and (name == "bare route" or ratio >= MIN_RATIO)
        all_pass &= ok
        print(f"| {name:18} | {s.rps:8.1f} | {ratio:7.0%} | {s.percentile_ms(0.5):7.2f} | {p99:7.2f} "
              f"| {s.errors:6d} | {'PASS' if ok else 'FAIL':6} |")
    return all_pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="crowdfund_bench")
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="per target and round")
    parser.add_argument("--max-requests", type=int, default=50_000, help="per target and round")
    parser.add_argument("--cache-seconds", type=int, default=None,
                        help="PUBLIC_CACHE_SECONDS for the server (default: the app's; 0 measures every render)")
    args = parser.parse_args()

    database = sql.Identifier(args.database)
    env = {**os.environ, "CROWDFUND_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
           "DATABASE_URL": f"{args.server}/{args.database}", "PYTHONPATH": str(ROOT)}
    if args.cache_seconds is not None:
        env["BENCH_PUBLIC_CACHE_SECONDS"] = str(args.cache_seconds)
    print(f"Database {args.database}: create, migrate, seed {args.projects} extra projects")
    admin(args.server, sql.SQL("DROP DATABASE IF EXISTS {}").format(database))
    admin(args.server, sql.SQL("CREATE DATABASE {}").format(database))
    server = None
    try:
        run_cli(env, "init-db")
        run_cli(env, "seed-demo", "--projects", str(args.projects))
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("ANALYZE")  # what autovacuum would do soon after a bulk load: stable plans
        port = free_port()
        server = start_server(env, port, args.workers)
        wait_until_up(port)
        cache = "app default" if args.cache_seconds is None else f"{args.cache_seconds} s"
        print(f"gunicorn -w {args.workers} on {HOST}:{port}; {args.clients} clients, {args.rounds} rounds "
              f"of {args.seconds:g} s per target; public page cache: {cache}")
        load_before = os.getloadavg()[0]
        results = measure(port, args)
        print(f"load average (1 min) before/after: {load_before:.2f} / {os.getloadavg()[0]:.2f} on "
              f"{os.cpu_count()} CPUs; other processes on the machine share them")
        all_pass = report(results)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        admin(args.server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
    print("\nAll targets met." if all_pass else "\nSome targets were missed (see FAIL).")
    return 0 if all_pass else 1


if __name__ == "__main__":
    sys.exit(main())
