"""Benchmark settlement (`flask settle`) against localstripe next to bare PaymentIntent creates (issue 4).

    .venv/bin/python bench/settlement.py [--pledges 5000] [--concurrency 4] [--ceiling N] [--limit-check 40]
                                         [--profile FILE]

In one run, on one localstripe process (loopback) and one scratch PostgreSQL database:

1. creates `crowdfund_bench_settle`, migrates it, starts localstripe, creates ONE customer there and bulk-inserts
   N backers and N active pledges (2,000 cents each) of one due campaign, all with that customer and localstripe's
   ready-made `pm_card_visa`;
2. ceiling A: N bare `StripeGateway.charge_off_session` calls (the adapter: `stripe` may only be imported there)
   from `--concurrency` threads, the number of sender threads settlement uses, on a fresh store (0 -> N);
3. settlement: a fresh child process builds the app from `ProductionConfig` (bench DB, localstripe, mail to the
   outbox directory) and runs `crowdfund.cli_payments.run_settlement(concurrency=...)`, what `flask settle
   --concurrency` runs; it reports the time of that call, its CPU time and its peak RSS (VmHWM); N -> 2N;
4. ceiling B: N more bare creates on the full store (2N -> 3N). localstripe slows as its store grows, so
   settlement is compared with the mean of A and B, which bracket its store size;
5. verifies: every pledge paid, exactly one PaymentIntent (succeeded) per pledge at localstripe (one listing);
6. rate limit: a second due campaign of `--limit-check-pledges` pledges settled with `--max-per-second`
   `--limit-check`: the charge calls (timed in the child by a wrapper around the app's gateway) must keep to the
   token bucket's bound (after the first call, at most burst + limit x elapsed; at most limit + burst within any
   one second) and average at least 90 % of the limit (the bucket does not lose time between batches).

Prints a table with PASS/FAIL against issue 4 (>= 70 % of the ceiling, peak < 300 MB); exit status 0 only if all
pass. The database is dropped and localstripe stopped at the end, also on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] == str(Path(__file__).resolve().parent):
    sys.path[0] = str(ROOT)
from psycopg import sql  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from bench.support import admin  # noqa: E402
from crowdfund.db import make_engine  # noqa: E402
from crowdfund.migrate import upgrade_to_head  # noqa: E402
from crowdfund.models.contests import Contest, District  # noqa: E402
from crowdfund.models.pledges import Pledge  # noqa: E402
from crowdfund.models.projects import Project  # noqa: E402
from crowdfund.models.users import User  # noqa: E402
from crowdfund.services.rate_limit import default_burst  # noqa: E402
from crowdfund.services.settlement import CONCURRENCY  # noqa: E402
from payments.localstripe_admin import run_localstripe  # noqa: E402
from payments.stripe_gateway import StripeGateway  # noqa: E402

DB_NAME = "crowdfund_bench_settle"
API_KEY = "sk_test_localstripe"
METHOD = "pm_card_visa"
AMOUNT = 2_000
MIN_RATIO, MAX_PEAK_MB = 0.70, 300.0


# --- setup ------------------------------------------------------------------------------------------------


def seed_world(factory: sessionmaker) -> tuple[int, int, int]:
    """A contest, a district and an initiator; return (contest id, district id, initiator id)."""
    now = datetime.now(UTC)
    day = timedelta(days=1)
    with factory() as session, session.begin():
        contest = Contest(slug="bench-contest", name="Bench", submission_start=now - 90 * day,
                          submission_end=now - 80 * day, review_end=now - 70 * day, funding_start=now - 60 * day,
                          funding_end=now + 30 * day, jury_end=now + 40 * day, results_at=now + 50 * day)
        district = District(name="Mitte", slug="mitte")
        initiator = User(email="initiator@example.org", name="Ida Initiator", password_hash="x" * 20)
        session.add_all([contest, district, initiator])
        session.flush()
        return contest.id, district.id, initiator.id


def seed_campaign(factory: sessionmaker, world: tuple[int, int, int], slug: str, n: int, customer_id: str) -> int:
    """One live campaign past its deadline with `n` active pledges saved at localstripe; return its id."""
    contest_id, district_id, initiator_id = world
    deadline = datetime.now(UTC) - timedelta(hours=1)
    with factory() as session, session.begin():
        project = Project(slug=slug, title=f"Bench {slug}", initiator_id=initiator_id, contest_id=contest_id,
                          district_id=district_id, state="live", threshold_cents=1_000, pitch="Bench.",
                          description="Bench.", category="digital", deadline=deadline,
                          published_at=deadline - timedelta(days=20))
        session.add(project)
        session.flush()
        project_id = project.id
        first = 0
        while first < n:
            size = min(1_000, n - first)
            users = [{"email": f"{slug}-{i}@example.org", "name": f"Backer {i}", "password_hash": "x" * 20}
                     for i in range(first, first + size)]
            ids = list(session.scalars(insert(User).returning(User.id), users))
            session.execute(insert(Pledge), [
                {"project_id": project_id, "backer_id": uid, "amount_cents": AMOUNT, "currency": "EUR",
                 "status": "active", "customer_id": customer_id, "payment_method_id": METHOD,
                 "payment_method_type": "card"} for uid in ids])
            first += size
    return project_id


# --- ceiling ----------------------------------------------------------------------------------------------


def ceiling(gateway: StripeGateway, customer_id: str, n: int, tag: str, concurrency: int) -> tuple[float, float]:
    """Bare PaymentIntent creates through the adapter from `concurrency` threads; return (creates per second,
    CPU milliseconds of this process per create)."""

    def create(i: int) -> None:
        info = gateway.charge_off_session(customer_id=customer_id, payment_method_id=METHOD, amount_cents=AMOUNT,
                                          currency="EUR", metadata={"ceiling": tag, "attempt": "1"},
                                          idempotency_key=f"ceiling-{tag}-{i}")
        assert info.status == "succeeded", info

    cpu, started = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(create, range(n)))
    return n / (time.perf_counter() - started), 1000 * (time.process_time() - cpu) / n


# --- settlement in a child process ------------------------------------------------------------------------


class TimedGateway:
    """The app's gateway with the start time of every charge call noted (bench instrumentation only)."""

    def __init__(self, inner: object) -> None:
        self.inner, self.sends = inner, []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def charge_off_session(self, **kwargs: object) -> object:
        self.sends.append(time.monotonic())
        return self.inner.charge_off_session(**kwargs)  # type: ignore[attr-defined]


def max_in_one_second(times: list[float]) -> int:
    """The most calls that started within any one-second window."""
    most, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def settle_child(args: argparse.Namespace) -> None:
    """Runs in a fresh process: build the app as in production and settle once; print JSON."""
    from config import ProductionConfig
    from crowdfund import create_app
    from crowdfund.cli_payments import run_settlement

    environ = {"SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": args.database_url,
               "STRIPE_SECRET_KEY": API_KEY, "STRIPE_API_BASE": args.stripe_base, "INSTANCE_PATH": args.instance}
    app = create_app(ProductionConfig(environ))
    import logging
    logging.getLogger().setLevel(logging.WARNING)
    timed = app.extensions["payment_gateway"] = TimedGateway(app.extensions["payment_gateway"])
    with app.app_context():
        profiler = None
        if args.profile:
            import cProfile
            profiler = cProfile.Profile()
            profiler.enable()
        cpu, started, wall = time.process_time(), time.perf_counter(), datetime.now(UTC)
        if args.mail == "off":  # the charging alone: what `flask settle` runs, with a mail port that does nothing
            from crowdfund.db import utcnow
            from crowdfund.gateway import payment_gateway
            from crowdfund.services.settlement import settle
            report = settle(app.extensions["db_sessionmaker"], payment_gateway(), now=utcnow(), fix_window_days=7,
                            notify=lambda notice: None, max_per_second=args.max_per_second,
                            concurrency=args.concurrency)
        else:  # what `flask settle` runs; its mails go into the outbox inside each batch's transaction
            report = run_settlement(app, max_per_second=args.max_per_second, concurrency=args.concurrency,
                                    send_mail=False)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        # Then the outbox's delivery, as the worker's job does it (here: .eml files), timed on its own.
        from crowdfund import mail
        mail_started = time.perf_counter()
        mails_sent, mails_not_sent = mail.send_due(app, limit=None)
        mail_seconds = time.perf_counter() - mail_started
        with app.extensions["db_sessionmaker"]() as session:
            last_paid = session.scalar(select(func.max(Pledge.paid_at)))
    peak_kb = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                   if line.startswith("VmHWM:"))
    sends = sorted(timed.sends)
    send_rate = (len(sends) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 and sends[-1] > sends[0] else 0.0
    charged_by = (last_paid - wall).total_seconds() if last_paid is not None else seconds
    print(json.dumps({"seconds": seconds, "cpu": cpu, "charged": report.charged, "peak_mb": peak_kb / 1024,
                      "charged_by": charged_by, "send_rate": send_rate, "max_per_1s": max_in_one_second(sends),
                      "sends": len(sends), "mails_sent": mails_sent, "mails_not_sent": mails_not_sent,
                      "mail_seconds": mail_seconds,
                      "summary": report.summary()}))


def run_settle(url: str, stripe_base: str, instance: str, max_per_second: float, profile: str | None,
               concurrency: int, mail: str) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "_settle", "--database-url", url,
               "--stripe-base", stripe_base, "--instance", instance, "--max-per-second", str(max_per_second),
               "--concurrency", str(concurrency), "--mail", mail]
    if profile:
        command += ["--profile", profile]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1_800, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"settle child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- verification -----------------------------------------------------------------------------------------


def list_payment_intents(base: str) -> list[dict]:
    """Every PaymentIntent localstripe holds (one listing, 100 a page)."""
    out: list[dict] = []
    after = None
    while True:
        query = "limit=100" + (f"&starting_after={after}" if after else "")
        request = urllib.request.Request(f"{base}/v1/payment_intents?{query}",
                                         headers={"Authorization": f"Bearer {API_KEY}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            page = json.loads(response.read())
        out += page["data"]
        if not page.get("has_more") or not page["data"]:
            return out
        after = page["data"][-1]["id"]


def verify(factory: sessionmaker, base: str, project_id: int) -> tuple[bool, str]:
    with factory() as session:
        ids = set(session.scalars(select(Pledge.id).where(Pledge.project_id == project_id)))
        statuses = Counter(session.scalars(select(Pledge.status).where(Pledge.project_id == project_id)))
    per_pledge = Counter()
    not_succeeded = 0
    for pi in list_payment_intents(base):
        pledge = (pi.get("metadata") or {}).get("pledge_id", "")
        if pledge.isdigit() and int(pledge) in ids:
            per_pledge[int(pledge)] += 1
            not_succeeded += pi["status"] != "succeeded"
    once = sum(1 for pid in ids if per_pledge[pid] == 1)
    ok = statuses == Counter({"paid": len(ids)}) and once == len(ids) and not not_succeeded
    more = sum(1 for pid in ids if per_pledge[pid] > 1)
    return ok, (f"pledges {dict(statuses)}; PaymentIntents: exactly one for {once}/{len(ids)}, none for "
                f"{sum(1 for pid in ids if per_pledge[pid] == 0)}, more than one for {more}; "
                f"not succeeded {not_succeeded}")


# --- main -------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pledges", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY,
                        help="sender threads of settle and client threads of the ceiling (the same number)")
    parser.add_argument("--mail", choices=["app", "off"], default="app",
                        help="app: the configured mail port, as `flask settle` (default); off: a mail port that "
                             "does nothing, to see the charging alone")
    parser.add_argument("--ceiling", type=int, default=0, help="bare creates before and after (default: --pledges)")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--limit-check", type=float, default=40.0,
                        help="--max-per-second of the rate-limit check (below the unlimited rate, so it binds)")
    parser.add_argument("--limit-check-pledges", type=int, default=200, help="0 skips the rate-limit check")
    parser.add_argument("--profile", help="write a cProfile of the settlement child to this file")
    args = parser.parse_args()
    n, c = args.pledges, args.ceiling or args.pledges
    url = f"postgresql+psycopg://{args.server.split('://', 1)[1]}/{DB_NAME}"
    load = os.getloadavg()[0]
    admin(args.server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))
    admin(args.server, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    engine = None
    try:
        upgrade_to_head(url)
        engine = make_engine(url)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        with tempfile.TemporaryDirectory(prefix="bench-settle-") as instance, run_localstripe() as base:
            gateway = StripeGateway(API_KEY, api_base=base)
            customer_id = gateway.create_customer(email="bench@example.org", name="Bench Backer",
                                                  idempotency_key="bench-customer").id
            started = time.perf_counter()
            world = seed_world(factory)
            project_id = seed_campaign(factory, world, "bench-main", n, customer_id)
            print(f"setup: {n} pledges bulk-inserted in {time.perf_counter() - started:.1f} s; localstripe {base}")

            k = args.concurrency
            rate_a, cpu_a = ceiling(gateway, customer_id, c, "a", k)
            print(f"ceiling A ({c} creates, {k} threads, store 0 -> {c}): {rate_a:.1f}/s, "
                  f"client CPU {cpu_a:.2f} ms/create", flush=True)
            settled = run_settle(url, base, instance, 0.0, args.profile, k, args.mail)
            settle_rate = settled["charged"] / settled["seconds"]
            print(f"settle ({n} pledges, {k} sender threads, store {c} -> {c + n}): {settled['seconds']:.1f} s, "
                  f"{settle_rate:.1f}/s, CPU {1000 * settled['cpu'] / max(1, settled['charged']):.2f} ms/pledge, "
                  f"peak RSS {settled['peak_mb']:.1f} MB; last charge committed after {settled['charged_by']:.1f} s "
                  f"({settled['charged'] / settled['charged_by']:.1f}/s); then the outbox's delivery (the "
                  f"worker's job): {settled['mails_sent']} mails sent, {settled['mails_not_sent']} not, in "
                  f"{settled['mail_seconds']:.1f} s", flush=True)
            rate_b, cpu_b = ceiling(gateway, customer_id, c, "b", k)
            print(f"ceiling B ({c} creates, {k} threads, store {c + n} -> {2 * c + n}): {rate_b:.1f}/s, "
                  f"client CPU {cpu_b:.2f} ms/create", flush=True)
            started = time.perf_counter()
            ok_once, detail = verify(factory, base, project_id)
            print(f"verify ({time.perf_counter() - started:.1f} s): {detail}")

            limit = None
            if args.limit_check_pledges > 0:
                m = args.limit_check_pledges
                limited_id = seed_campaign(factory, world, "bench-limited", m, customer_id)
                limited = run_settle(url, base, instance, args.limit_check, None, k, args.mail)
                with factory() as session:
                    paid = session.scalar(select(func.count()).where(Pledge.project_id == limited_id,
                                                                     Pledge.status == "paid"))
                observed, sent = limited["charged"] / limited["seconds"], limited["send_rate"]
                burst = default_burst(args.limit_check)
                span = (limited["sends"] - 1) / sent if sent else 0.0
                within = limited["sends"] - 1 <= burst + args.limit_check * span + 1e-6  # the bucket's bound
                limit = (f"sent at {sent:.1f}/s, at most {limited['max_per_1s']} in 1 s; {paid}/{m} paid",
                         paid == m and within and sent >= args.limit_check * 0.9
                         and limited["max_per_1s"] <= args.limit_check + burst)
                print(f"rate-limited settle ({m} pledges, --max-per-second {args.limit_check:g}): "
                      f"{limited['seconds']:.1f} s for the whole run ({observed:.1f}/s); charges sent at {sent:.1f}/s "
                      f"(first to last call), at most {limited['max_per_1s']} within one second "
                      f"(allowed: {args.limit_check:g} + burst {burst:g}); {limited['sends']} calls in {span:.2f} s "
                      f"(allowed: 1 + burst + limit x time; and at least 90 % of the limit on average)")
    finally:
        if engine is not None:
            engine.dispose()
        admin(args.server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))

    mean = (rate_a + rate_b) / 2
    ratio = settle_rate / mean
    ratio_ok, mem_ok = ratio >= MIN_RATIO, settled["peak_mb"] < MAX_PEAK_MB
    print()
    print(f"{n} pledges, concurrency {args.concurrency} (ceiling threads = settle sender threads); load average "
          f"(1 min) before/after: {load:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print()
    def row(measure: str, value: str, result: str = "") -> None:
        print(f"| {measure:<24} | {value:<44} | {result:<6} |")

    row("measure", "value", "result")
    print(f"|{'-' * 26}|{'-' * 46}|{'-' * 8}|")
    row("ceiling A (fresh store)", f"{rate_a:.1f} creates/s")
    row("ceiling B (full store)", f"{rate_b:.1f} creates/s")
    row("ceiling (mean of A, B)", f"{mean:.1f} req/s")
    row("settle", f"{settle_rate:.1f} pledges/s ({settled['charged']} in {settled['seconds']:.1f} s)")
    row("settle / ceiling", f"{ratio:.0%} (vs A {settle_rate / rate_a:.0%}, vs B {settle_rate / rate_b:.0%}; "
        f"target >= {MIN_RATIO:.0%})", "PASS" if ratio_ok else "FAIL")
    row("mail delivery (worker)", f"{settled['mails_sent']} mails in {settled['mail_seconds']:.1f} s "
        f"({settled['mails_sent'] / max(settled['mail_seconds'], 1e-9):.0f}/s), after settle")
    row("peak RSS of settle", f"{settled['peak_mb']:.1f} MB (target < {MAX_PEAK_MB:.0f} MB)",
        "PASS" if mem_ok else "FAIL")
    row("paid, one PI per pledge", "yes" if ok_once else "NO (see verify above)", "PASS" if ok_once else "FAIL")
    all_ok = ratio_ok and mem_ok and ok_once
    if limit is not None:
        row(f"--max-per-second {args.limit_check:g}", limit[0], "PASS" if limit[1] else "FAIL")
        all_ok = all_ok and limit[1]
    print()
    print(settled["summary"])
    print("All targets met." if all_ok else "Some targets were missed (see FAIL).")
    return 0 if all_ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_settle":
        child = argparse.ArgumentParser()
        child.add_argument("_settle")
        child.add_argument("--database-url", required=True)
        child.add_argument("--stripe-base", required=True)
        child.add_argument("--instance", required=True)
        child.add_argument("--max-per-second", type=float, default=0.0)
        child.add_argument("--concurrency", type=int, default=1)
        child.add_argument("--mail", default="app")
        child.add_argument("--profile")
        settle_child(child.parse_args())
        sys.exit(0)
    sys.exit(main())
