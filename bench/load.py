"""Load test: the last hour of a campaign, on gunicorn + PostgreSQL + localstripe, all on 127.0.0.1.

    .venv/bin/python bench/load.py [--clients 32] [--seconds 60] [--workers 4] [--think 0.25] [--projects 300]

1. creates the scratch database `bench_load` (dropped at the end, also on failure), migrates it, seeds the demo
   plus `--projects` synthetic live campaigns, moves the demo campaign `reparaturstation-am-kulturbahnhof` into
   its last hour and adds one backer (password + API token) per client;
2. starts localstripe and `gunicorn -w <workers> wsgi:app` (CROWDFUND_ENV=production) on free loopback ports;
3. runs `--clients` concurrent clients (threads + requests) for `--seconds`; each client waits a random think
   time of 0..2x`--think` seconds between actions (0: closed loop, as fast as the server answers) and mixes
   anonymous page views (home, list pages, the hot campaign, other campaigns, API) with its backer's own actions:
   pledge over the API (create -> confirm the SetupIntent at localstripe with a test card, as Stripe.js would ->
   confirm at the app), change a pledge with the web form (logged in), cancel over the API, and "my pledges";
4. checks afterwards that every campaign's total in the database equals what the clients were told, ends the hot
   campaign, runs `flask --app wsgi settle`, and checks that the ledger holds exactly the expected charges with
   one PaymentIntent per pledge at localstripe;
5. prints requests/s, p50/p95/p99 per kind and overall, errors, and PASS/FAIL against the targets of issue 7
   (0 errors, p99 < 300 ms over all app requests). Exit status 0 only if all pass.

The bench environment differs from production only where a loopback bench needs it: session cookies without
`Secure` (no TLS here) and a login rate limit that lets the clients (one IP) log in at start.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import requests
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import admin, free_port  # noqa: E402
from payments.localstripe_admin import confirm_card_setup, run_localstripe  # noqa: E402

BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
HOT = "reparaturstation-am-kulturbahnhof"
PASSWORD = "load test password 1"  # noqa: S105 - scratch users of a scratch database
MAX_P99_MS = 300.0
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PROVIDER_KINDS = {"localstripe: save card"}  # the browser's call to the provider, not an app request
# What a client does next, by weight: anonymous page views and its backer's own actions.
ACTIONS = {"home": 12, "list": 12, "campaign": 24, "other campaign": 10, "api": 12, "my pledges": 4,
           "pledge": 14, "change": 6, "cancel": 6}


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    slow: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if seconds * 1000 > MAX_P99_MS and kind not in PROVIDER_KINDS:
                self.slow.append(time.perf_counter())  # when a request over the p99 target ended

    def error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.samples) < 10:
                self.samples.append(f"{kind}: {detail[:300]}")


class Failed(Exception):
    """An answer the client did not expect (counted as an error of its kind)."""


@dataclass
class Backer:
    user_id: int
    email: str
    token: str


@dataclass
class World:
    base: str
    localstripe: str
    hot_rewards: list[tuple[int, int, int | None]]  # (id, min cents, quantity_total)
    others: list[str]
    list_pages: int


class Client:
    """One simulated person: anonymous page views, and pledges of its own backer account."""

    def __init__(self, number: int, backer: Backer, world: World, stats: Stats, think: float) -> None:
        self.backer, self.world, self.stats, self.think = backer, world, stats, think
        self.random = random.Random(number)
        self.anonymous = requests.Session()
        self.anonymous.headers["Accept-Language"] = "de"
        self.user = requests.Session()
        self.user.headers["Accept-Language"] = "de"
        self.api = {"Authorization": f"Bearer {backer.token}"}
        self.open: dict[str, tuple[int, int, int | None]] = {}  # slug -> (pledge id, cents, reward id)
        self.expected: dict[int, tuple[str, int]] = {}  # active pledge id -> (slug, cents)

    # -- plumbing ----------------------------------------------------------------------------------------------
    def call(self, kind: str, method: str, path: str, *, session: requests.Session | None = None,
             expect: tuple[int, ...] = (200,), **kwargs) -> requests.Response:
        started = time.perf_counter()
        try:
            response = (session or self.anonymous).request(method, self.world.base + path, timeout=30,
                                                           allow_redirects=False, **kwargs)
        except requests.RequestException as error:
            raise Failed(f"{method} {path}: {type(error).__name__}: {error}") from error
        elapsed = time.perf_counter() - started
        if response.status_code not in expect:
            raise Failed(f"{method} {path}: HTTP {response.status_code} {response.text[:200]!r}")
        self.stats.ok(kind, elapsed)
        return response

    def login(self) -> None:
        page = self.user.get(self.world.base + "/auth/login", timeout=30)
        token = CSRF_RE.search(page.text)
        if token is None:
            raise Failed("no CSRF token on the login page")
        answer = self.user.post(self.world.base + "/auth/login", timeout=30, allow_redirects=False,
                                data={"email": self.backer.email, "password": PASSWORD, "csrf_token": token.group(1)})
        if answer.status_code != 302:
            raise Failed(f"login answered {answer.status_code}")

    # -- the run -----------------------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """One of every action before the clock starts: each worker compiles its templates and statements and
        opens its connections (PostgreSQL, localstripe) outside the measured minute."""
        self.login()
        for action in (self.do_home, self.do_campaign, self.do_list, self.do_other_campaign, self.do_api,
                       self.do_pledge, self.do_change, self.do_my_pledges):
            action()

    def run(self, stop_at: float) -> None:
        kinds, weights = list(ACTIONS), list(ACTIONS.values())
        time.sleep(self.random.uniform(0, 2 * self.think))  # people do not all click at the same instant
        while time.perf_counter() < stop_at:
            kind = self.random.choices(kinds, weights)[0]
            try:
                getattr(self, "do_" + kind.replace(" ", "_"))()
            except Failed as error:
                self.stats.error(kind, str(error))
            if self.think:
                time.sleep(self.random.uniform(0, 2 * self.think))

    def do_home(self) -> None:
        self.call("home", "GET", "/")

    def do_list(self) -> None:
        page = self.random.randint(1, self.world.list_pages)
        self.call("list", "GET", "/projects" + (f"?page={page}" if page > 1 else ""))

    def do_campaign(self) -> None:
        self.call("campaign", "GET", f"/projects/{HOT}")

    def do_other_campaign(self) -> None:
        self.call("other campaign", "GET", f"/projects/{self.random.choice(self.world.others)}")

    def do_api(self) -> None:
        path = self.random.choice([f"/api/v1/projects/{HOT}", "/api/v1/projects",
                                   f"/api/v1/projects/{self.random.choice(self.world.others)}"])
        self.call("api", "GET", path)

    def do_my_pledges(self) -> None:
        self.call("my pledges", "GET", "/me/pledges", session=self.user)

    def do_pledge(self) -> None:
        slug = HOT if self.random.random() < 0.7 else self.random.choice(self.world.others)
        if slug in self.open:
            return self.do_change()
        amount, reward = self.random.choice([1_000, 2_000, 2_500, 5_000, 10_000]), None
        if slug == HOT and self.random.random() < 0.5:
            reward_id, minimum, _total = self.random.choice(self.world.hot_rewards)
            reward, amount = reward_id, max(amount, minimum)
        body = {"amount_cents": amount, "payment_method_type": "card", **({"reward_id": reward} if reward else {})}
        started = self.call("pledge: create", "POST", f"/api/v1/projects/{slug}/pledges", headers=self.api,
                            json=body, expect=(201, 409))
        if started.status_code == 409:
            if "sold_out" not in started.text:
                raise Failed(f"pledge refused: {started.text[:200]}")
            self.stats.refused["reward sold out"] += 1
            return None
        data = started.json()
        t0 = time.perf_counter()
        try:
            saved = confirm_card_setup(self.world.localstripe, data["client_secret"])
        except OSError as error:
            raise Failed(f"localstripe: {error}") from error
        self.stats.ok("localstripe: save card", time.perf_counter() - t0)
        if saved.get("status") != "succeeded":
            raise Failed(f"SetupIntent {saved.get('status')}")
        confirmed = self.call("pledge: confirm", "POST", f"/api/v1/pledges/{data['id']}/confirm", headers=self.api)
        if confirmed.json()["status"] != "active":
            raise Failed(f"confirm left the pledge {confirmed.json()['status']}")
        self.open[slug] = (data["id"], amount, reward)
        self.expected[data["id"]] = (slug, amount)
        return None

    def do_change(self) -> None:
        if not self.open:
            return self.do_pledge()
        slug = self.random.choice(sorted(self.open))
        pledge_id, amount, reward = self.open[slug]
        form = self.call("change", "GET", f"/pledges/{pledge_id}/edit", session=self.user)
        token = CSRF_RE.search(form.text)
        if token is None:
            raise Failed("no CSRF token on the change form")
        new_amount = amount + self.random.choice([500, 1_000, 2_500])
        data = {"amount_eur": f"{new_amount // 100},{new_amount % 100:02d}", "reward": str(reward or ""),
                "message": "", "csrf_token": token.group(1)}
        self.call("change", "POST", f"/pledges/{pledge_id}/edit", session=self.user, data=data, expect=(302,))
        self.open[slug] = (pledge_id, new_amount, reward)
        self.expected[pledge_id] = (slug, new_amount)
        return None

    def do_cancel(self) -> None:
        if not self.open:
            return self.do_pledge()
        slug = self.random.choice(sorted(self.open))
        pledge_id = self.open[slug][0]
        answer = self.call("cancel", "DELETE", f"/api/v1/pledges/{pledge_id}", headers=self.api)
        if answer.json()["status"] != "cancelled":
            raise Failed(f"cancel left the pledge {answer.json()['status']}")
        del self.open[slug], self.expected[pledge_id]
        return None


# --- set-up ---------------------------------------------------------------------------------------------------
def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, timeout=900)
    return done.stdout


def prepare(database_url: str, clients: int) -> tuple[list[Backer], list[tuple[int, int, int | None]], list[str]]:
    """Put the hot campaign into its last hour; one backer with password and API token per client."""
    from sqlalchemy import select

    from crowdfund.db import make_engine
    from crowdfund.models.projects import Project
    from crowdfund.models.rewards import Reward
    from crowdfund.services import accounts

    engine = make_engine(database_url)
    with engine.connect() as conn, conn.begin():
        from sqlalchemy.orm import Session

        session = Session(bind=conn)
        hot = session.scalars(select(Project).where(Project.slug == HOT)).one()
        hot.deadline = datetime.now(UTC) + timedelta(minutes=55)
        hot.threshold_cents = 10_000
        rewards = [(r.id, r.min_amount_cents, r.quantity_total)
                   for r in session.scalars(select(Reward).where(Reward.project_id == hot.id))]
        others = list(session.scalars(select(Project.slug).where(
            Project.slug.like("projektidee-%"), Project.state == "live")))
        backers = []
        for i in range(clients):
            user = accounts.register_user(session, email=f"load{i}@example.org", name=f"Load Backer {i}",
                                          password=PASSWORD)
            session.flush()
            raw, _row = accounts.create_api_token(session, user, "load test")
            backers.append(Backer(user.id, user.email, raw))
        session.flush()
    engine.dispose()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return backers, rewards, others


def start_gunicorn(env: dict[str, str], port: int, workers: int, threads: int, log: Path) -> subprocess.Popen:
    """`make serve`'s command on a free port; its output (the app logs every Stripe call) goes to `log`."""
    threaded = ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(workers), *threaded, "--bind", f"{HOST}:{port}",
             "--log-level", "warning", "--chdir", str(ROOT), "wsgi:app"],
            cwd=ROOT, env=env, start_new_session=True, stdout=out, stderr=out)


def wait_until_up(port: int, deadline_s: float = 60.0) -> None:
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


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()  # the master stops its workers gracefully
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def drain_and_forget_queue(url: str, queue: str, wait_s: float = 30.0) -> None:
    """Let the worker finish the queued mails (at most `wait_s`), then delete the bench queue's registries (the
    job records expire on their own)."""
    import redis

    connection = redis.Redis.from_url(url)
    until = time.monotonic() + wait_s
    while connection.llen(f"rq:queue:{queue}") and time.monotonic() < until:
        time.sleep(0.2)
    left = connection.llen(f"rq:queue:{queue}")
    print(f"  job queue {queue}: {left} job(s) left unprocessed" if left else f"  job queue {queue}: drained")
    for key in connection.scan_iter(match=f"rq:*{queue}*"):
        connection.delete(key)
    connection.srem("rq:queues", f"rq:queue:{queue}")
    connection.close()


# --- CPU accounting --------------------------------------------------------------------------------------------
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def runqueue_seconds(pid: int) -> float:
    """Time the process's threads were ready to run but waited for a CPU (schedstat; 0 if unavailable)."""
    total = 0.0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        pass
    return total


def cpu_by_group(gunicorn: int, database: str) -> dict[str, float]:
    """CPU seconds so far of the gunicorn workers, the PostgreSQL backends serving `database`, localstripe and
    this process (the load generator)."""
    groups: dict[str, float] = defaultdict(float)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        pid = int(entry.name)
        if "wsgi worker" in cmdline:
            group = "RQ worker"
        elif parent == gunicorn:
            group = "gunicorn workers"
        elif cmdline.startswith("postgres: ") and f" {database} " in cmdline:
            group = "PostgreSQL backends"
        elif "payments.localstripe_server" in cmdline:
            group = "localstripe"
        else:
            continue
        groups[group] += cpu_seconds(pid)
        groups[group + " (waiting for a CPU)"] += runqueue_seconds(pid)
    groups["load generator"] = cpu_seconds(os.getpid())  # its client threads' waiting is not kept after they end
    return groups


# --- checks afterwards ----------------------------------------------------------------------------------------
def database_totals(database_url: str) -> tuple[dict[str, int], dict[int, int], dict[int, int]]:
    """(active cents by project slug, active pledges id -> cents, claimed units by reward id) in the database."""
    with psycopg.connect(database_url) as conn:
        by_slug = dict(conn.execute(
            "SELECT p.slug, sum(pl.amount_cents) FROM pledges pl JOIN projects p ON p.id = pl.project_id "
            "WHERE pl.status = 'active' GROUP BY p.slug").fetchall())
        active = dict(conn.execute("SELECT id, amount_cents FROM pledges WHERE status = 'active'").fetchall())
        claimed = dict(conn.execute("SELECT id, quantity_claimed FROM rewards").fetchall())
        holding = dict(conn.execute(
            "SELECT reward_id, count(*) FROM pledges WHERE reward_id IS NOT NULL "
            "AND status IN ('pending_setup', 'active') GROUP BY reward_id").fetchall())
    return by_slug, active, {r: claimed[r] - holding.get(r, 0) for r in claimed if claimed[r] != holding.get(r, 0)}


def all_payment_intents(localstripe: str) -> list[dict]:
    """Every PaymentIntent localstripe holds, page by page (its list API, as the Stripe SDK would call it)."""
    found: list[dict] = []
    after = ""
    while True:
        query = "limit=100" + (f"&starting_after={after}" if after else "")
        request = urllib.request.Request(f"{localstripe}/v1/payment_intents?{query}",
                                         headers={"Authorization": "Bearer sk_test_localstripe"})
        with urllib.request.urlopen(request, timeout=30) as response:
            page = json.load(response)
        found += page["data"]
        if not page.get("has_more") or not page["data"]:
            return found
        after = page["data"][-1]["id"]


def settle_and_check(env: dict[str, str], database_url: str, localstripe: str,
                     expected_hot: dict[int, int]) -> list[str]:
    """End the hot campaign, settle it, and compare ledger, pledges and localstripe's PaymentIntents."""
    problems = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE projects SET deadline = now() - interval '1 minute' WHERE slug = %s", (HOT,))
    started = time.perf_counter()
    out = flask(env, "settle")
    print(f"  flask settle: {time.perf_counter() - started:.1f} s: {' '.join(out.split())[:200]}")
    with psycopg.connect(database_url) as conn:
        charges = dict(conn.execute(
            "SELECT l.pledge_id, sum(l.amount_cents) FROM ledger_entries l JOIN projects p ON p.id = l.project_id "
            "WHERE l.kind = 'charge' AND p.slug = %s GROUP BY l.pledge_id", (HOT,)).fetchall())
        statuses = dict(conn.execute(
            "SELECT pl.status, count(*) FROM pledges pl JOIN projects p ON p.id = pl.project_id WHERE p.slug = %s "
            "AND pl.status NOT IN ('cancelled') GROUP BY pl.status", (HOT,)).fetchall())
    intents: dict[int, list[str]] = defaultdict(list)
    for pi in all_payment_intents(localstripe):
        pledge_id = (pi.get("metadata") or {}).get("pledge_id")
        if pledge_id:
            intents[int(pledge_id)].append(pi["status"])
    if charges != expected_hot:
        problems.append(f"ledger charges of the hot campaign differ from the clients' pledges: "
                        f"{len(charges)} vs {len(expected_hot)} pledges, {sum(charges.values())} vs "
                        f"{sum(expected_hot.values())} cents")
    if statuses != ({"paid": len(expected_hot)} if expected_hot else {}):
        problems.append(f"hot campaign pledges after settlement: {statuses}")
    wrong = {p: s for p, s in intents.items() if p in expected_hot and s != ["succeeded"]}
    missing = set(expected_hot) - set(intents)
    if wrong or missing:
        problems.append(f"PaymentIntents: {len(wrong)} pledges not exactly one succeeded, {len(missing)} without")
    print(f"  settlement: {len(charges)} charges, {sum(charges.values()) / 100:.2f} EUR in the ledger; "
          f"PaymentIntents: exactly one succeeded for {len(expected_hot) - len(wrong) - len(missing)}"
          f"/{len(expected_hot)} pledges")
    return problems


# --- report ---------------------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def report(stats: Stats, seconds: float) -> bool:
    print(f"\n| {'kind':22} | {'requests':>8} | {'req/s':>7} | {'p50 ms':>7} | {'p95 ms':>7} | {'p99 ms':>7} "
          f"| {'errors':>6} |")
    print(f"|{'-' * 24}|{'-' * 9}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 7}:|")
    app_all: list[float] = []
    kinds = sorted(set(stats.latencies) | set(stats.errors), key=lambda k: (k in PROVIDER_KINDS, k))
    for kind in kinds:
        values = stats.latencies.get(kind, [])
        if kind not in PROVIDER_KINDS:
            app_all += values
        print(f"| {kind:22} | {len(values):8d} | {len(values) / seconds:7.1f} | {percentile(values, 0.5):7.1f} "
              f"| {percentile(values, 0.95):7.1f} | {percentile(values, 0.99):7.1f} | {stats.errors.get(kind, 0):6d} |")
    errors = sum(stats.errors.values())
    p99 = percentile(app_all, 0.99)
    print(f"| {'ALL app requests':22} | {len(app_all):8d} | {len(app_all) / seconds:7.1f} "
          f"| {percentile(app_all, 0.5):7.1f} | {percentile(app_all, 0.95):7.1f} | {p99:7.1f} | {errors:6d} |")
    if stats.slow:
        started = min(stats.slow)
        by_second: dict[int, int] = defaultdict(int)
        for moment in stats.slow:
            by_second[int(moment - started)] += 1
        worst = sorted(by_second.items(), key=lambda kv: -kv[1])[:5]
        print(f"requests over {MAX_P99_MS:.0f} ms: {len(stats.slow)}, ending in {len(by_second)} distinct seconds "
              f"of the run; the busiest seconds (offset from the first: count): "
              + ", ".join(f"+{sec}s: {n}" for sec, n in worst))
    if stats.refused:
        print(f"refused as expected (not errors): {dict(stats.refused)}")
    for sample in stats.samples:
        print("  error:", sample)
    ok = errors == 0 and p99 < MAX_P99_MS
    print(f"\nerrors {errors} (target 0), p99 {p99:.1f} ms (target < {MAX_P99_MS:.0f} ms): {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="bench_load")
    parser.add_argument("--projects", type=int, default=300, help="synthetic live campaigns besides the demo")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (> 1: gthread workers)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=0.25,
                        help="mean think time per client in seconds (uniform 0..2x); 0 = closed loop")
    parser.add_argument("--no-settle", action="store_true", help="skip settling the hot campaign afterwards")
    parser.add_argument("--redis", default="", metavar="URL",
                        help="run background jobs (mail) on RQ at this Redis with a `flask --app wsgi worker`, as in "
                             "production (default: inline in the web request)")
    parser.add_argument("--keep-database", action="store_true", help="leave the database for profiling")
    args = parser.parse_args()
    if args.database in ("test", "postgres") or not args.database.startswith("bench"):
        parser.error("use a scratch database whose name starts with 'bench' (it is dropped)")

    database_url = f"{args.server}/{args.database}"
    instance = Path(tempfile.mkdtemp(prefix="crowdfund-load-"))
    env = {**os.environ, "CROWDFUND_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
           "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), "INSTANCE_PATH": str(instance),
           "SESSION_COOKIE_SECURE": "false", "REMEMBER_COOKIE_SECURE": "false",
           "LOGIN_RATE_LIMIT": "10000 per minute", "BASE_URL": "http://127.0.0.1"}
    database = sql.Identifier(args.database)
    print(f"Database {args.database}: create, migrate, seed the demo + {args.projects} campaigns")
    admin(args.server, sql.SQL("DROP DATABASE IF EXISTS {}").format(database))
    admin(args.server, sql.SQL("CREATE DATABASE {}").format(database))
    server = worker = None
    ok = False
    try:
        flask(env, "init-db")
        flask(env, "seed-demo", "--projects", str(args.projects))
        backers, rewards, others = prepare(database_url, args.clients)
        with run_localstripe() as localstripe:
            env.update(STRIPE_SECRET_KEY="sk_test_localstripe", STRIPE_PUBLISHABLE_KEY="pk_test_localstripe",  # noqa: S106
                       STRIPE_API_BASE=localstripe)
            port = free_port()
            server_log = instance / "gunicorn.log"
            if args.redis:
                env.update(REDIS_URL=args.redis, JOB_QUEUE=f"bench-load-{os.getpid()}")
                with server_log.open("ab") as out:
                    worker = subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                                              stdout=out, stderr=out, start_new_session=True)
            server = start_gunicorn(env, port, args.workers, args.threads, server_log)
            wait_until_up(port)
            world = World(f"http://{HOST}:{port}", localstripe, rewards, others, max(1, (args.projects + 6) // 20))
            stats = Stats()
            clients = [Client(i, b, world, stats, args.think) for i, b in enumerate(backers)]
            for c in clients:  # log in (password hashing) and warm every worker up before the clock starts
                c.warm_up()
            stats = Stats()
            for c in clients:
                c.stats = stats
            load_before = os.getloadavg()[0]
            print(f"background jobs: {'RQ on ' + args.redis + ' with one worker' if args.redis else 'inline'}")
            threads = f" --threads {args.threads}" if args.threads > 1 else ""
            print(f"gunicorn -w {args.workers}{threads} on {HOST}:{port}, localstripe {localstripe}"
                  f"; {args.clients} clients for {args.seconds:.0f} s, think time 0..{2 * args.think:.2f} s; "
                  f"{len(others)} other campaigns")
            cpu_before = cpu_by_group(server.pid, args.database)
            started = time.perf_counter()
            stop_at = started + args.seconds
            threads = [threading.Thread(target=c.run, args=(stop_at,)) for c in clients]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            cpu_after = cpu_by_group(server.pid, args.database)
            print(f"load average (1 min) before/after: {load_before:.2f} / {os.getloadavg()[0]:.2f} on "
                  f"{os.cpu_count()} CPUs; other processes on the machine share them")
            ok = report(stats, elapsed)
            requests_made = sum(len(v) for k, v in stats.latencies.items() if k not in PROVIDER_KINDS)
            used = {k: cpu_after[k] - cpu_before.get(k, 0.0) for k in cpu_after}
            print("CPU during the run (seconds on a CPU, and seconds ready to run but waiting for one):")
            for k in sorted(k for k in used if "waiting" not in k):
                waited = used.get(k + " (waiting for a CPU)", 0.0)
                print(f"  {k:20} {used[k]:6.1f} s on CPU ({used[k] / elapsed:4.0%} of a core, "
                      f"{1000 * used[k] / max(1, requests_made):4.1f} ms per app request), {waited:6.1f} s waiting")

            print("\nChecks afterwards:")
            expected: dict[int, tuple[str, int]] = {}
            for c in clients:
                expected.update(c.expected)
            by_slug, active, leaks = database_totals(database_url)
            want_by_slug: dict[str, int] = defaultdict(int)
            for slug, cents in expected.values():
                want_by_slug[slug] += cents
            problems = []
            if active != {p: cents for p, (_slug, cents) in expected.items()}:
                problems.append(f"active pledges in the database ({len(active)}) differ from the clients' "
                                f"({len(expected)})")
            if by_slug != dict(want_by_slug):
                problems.append("campaign totals in the database differ from the clients' pledges")
            if leaks:
                problems.append(f"reward units claimed without a pledge holding them: {leaks}")
            print(f"  {len(active)} active pledges, {sum(active.values()) / 100:.2f} EUR over {len(by_slug)} campaigns;"
                  f" hot campaign {by_slug.get(HOT, 0) / 100:.2f} EUR: "
                  f"{'equal to' if not problems else 'NOT equal to'} what the clients were told")
            stop(server)
            server = None
            if not args.no_settle:
                hot = {p: cents for p, (slug, cents) in expected.items() if slug == HOT}
                problems += settle_and_check(env, database_url, localstripe, hot)
            for problem in problems:
                print("  PROBLEM:", problem)
            if not ok or problems:
                errors = [line for line in server_log.read_text(errors="replace").splitlines()
                          if "ERROR" in line or "Traceback" in line]
                print(f"  server log: {len(errors)} ERROR/Traceback lines", *errors[:20], sep="\n    ")
            ok = ok and not problems
            print(f"\n{'All targets met.' if ok else 'Some targets were missed (see above).'}")
    finally:
        stop(server)
        if worker is not None and args.redis:
            drain_and_forget_queue(args.redis, env["JOB_QUEUE"])
        stop(worker)
        if not args.keep_database:
            admin(args.server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        shutil.rmtree(instance, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
