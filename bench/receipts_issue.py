"""Benchmark the application's receipt issuing and its ZIP export from the database, each next to its baseline.

    .venv/bin/python bench/receipts_issue.py [issue|zip|all] [--workers 2] [--count 60] [--rounds 3] [--n 10000]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres; --server to change): creates the scratch database
`crowdfund_bench_receipts`, migrates it, and drops it again at the end (also on failure).

issue: receipts per second of the app's issuing, `crowdfund.services.receipts.issue_one` for one paid pledge:
    number it (a short transaction holding the issuer's counter row lock), render it with WeasyPrint
    (PDF/A-3b, outside any transaction), store bytes + SHA-256 (a second short transaction), in `--workers`
    processes, each with its own engine and session, all numbering in the same series. Measured with
    `bench/receipts.py`'s `compare_rates` in the same run and pool as WeasyPrint rendering the same kind of
    receipt HTML directly (plain call, fonts decoded every time) and with shared fonts. Target: >= 80 % of
    WeasyPrint direct. Afterwards the numbers are checked: consecutive, no gap, no duplicate.
zip: `--n` issued receipts (20 distinct real renders under distinct numbers) stored in the database, exported
    by `crowdfund.services.finance_exports.receipts_zip` (rows fetched in batches, streamed ZIP) and by Python's
    `zipfile` writing the same rows, each in a fresh child process reporting wall time and peak RSS (VmHWM).
    Targets: peak < 200 MB, time within 2x of zipfile.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] == str(Path(__file__).resolve().parent):
    sys.path[0] = str(ROOT)  # `bench/receipts.py` would otherwise shadow the `receipts` package
from psycopg import sql  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from bench.receipts import (  # noqa: E402
    DISTINCT,
    MIN_RENDER_RATIO,
    compare_rates,
    peak_rss,
    sample_receipt,
    weasyprint_direct,
    weasyprint_shared_fonts,
)
from bench.support import admin  # noqa: E402
from crowdfund.cli_finance import render_with_weasyprint  # noqa: E402
from crowdfund.db import make_engine  # noqa: E402
from crowdfund.migrate import upgrade_to_head  # noqa: E402
from crowdfund.models.contests import Contest, District  # noqa: E402
from crowdfund.models.pledges import Pledge  # noqa: E402
from crowdfund.models.projects import Project  # noqa: E402
from crowdfund.models.receipts import Receipt  # noqa: E402
from crowdfund.models.users import User  # noqa: E402
from crowdfund.services import receipts  # noqa: E402
from crowdfund.services.receipt_content import ReceiptSettings  # noqa: E402

DB_NAME = "crowdfund_bench_receipts"
MAX_PEAK_MB, MAX_ZIP_RATIO = 200, 2.0
_STATE: dict[str, object] = {}  # set before the pool forks: the URL, the pledge ids, the shared job counter


def seed(url: str, pledges: int) -> list[int]:
    """A contest, a funded project and `pledges` paid pledges of distinct backers, inserted in bulk."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        contest = conn.execute(insert(Contest).returning(Contest.id), [dict(
            slug="bench", name="Bench", submission_start=now, submission_end=now, review_end=now, funding_start=now,
            funding_end=now, jury_end=now, results_at=now, created_at=now, description="")]).scalar_one()
        district = conn.execute(insert(District).returning(District.id),
                                [dict(slug="mitte", name="Mitte")]).scalar_one()
        users = conn.execute(insert(User).returning(User.id), [
            dict(email=f"b{i}@example.org", name=f"Backer Nummer {i}", password_hash="x" * 20, active=True,
                 created_at=now, password_changed_at=now) for i in range(pledges + 1)]).scalars().all()
        project = conn.execute(insert(Project).returning(Project.id), [dict(
            slug="reparaturstation", title="Reparaturstation am Kulturbahnhof", pitch="p", description="",
            category="digital", state="funded", threshold_cents=100, currency="EUR", contest_id=contest,
            district_id=district, initiator_id=users[0], recipient_name="Verein für Stadtgrün Kassel e. V.",
            recipient_address="Friedrichsplatz 1\n34117 Kassel", recipient_tax_privileged=False, created_at=now,
            updated_at=now)]).scalar_one()
        ids = conn.execute(insert(Pledge).returning(Pledge.id), [dict(
            project_id=project, backer_id=users[i + 1], amount_cents=1000 + 137 * i, currency="EUR", status="paid",
            anonymous=False, message="", payment_method_type="card", payment_intent_id=f"pi_bench{i:08d}",
            paid_cents=1000 + 137 * i, refunded_cents=0, paid_at=now, created_at=now, updated_at=now)
            for i in range(pledges)]).scalars().all()
    engine.dispose()
    return sorted(ids)


# --- (a) issuing, in the pool of bench/receipts.py ------------------------------------------------------------


def app_issue_receipt(_i: int) -> int:
    """Issue the next paid pledge's receipt as `issue-receipts` does: number, render, store."""
    if "factory" not in _STATE:  # one engine per worker process, created after the fork
        _STATE["factory"] = sessionmaker(bind=make_engine(str(_STATE["url"])), expire_on_commit=False)
    counter = _STATE["counter"]
    with counter.get_lock():  # type: ignore[attr-defined]
        index = counter.value  # type: ignore[attr-defined]
        counter.value += 1  # type: ignore[attr-defined]
    pledge_id = _STATE["pledges"][index]  # type: ignore[index]
    settings = ReceiptSettings(issuer_name="Verein für Stadtgrün Kassel e. V.",
                               issuer_address=("Friedrichsplatz 1", "34117 Kassel"))
    number = receipts.issue_one(_STATE["factory"], render_with_weasyprint,  # type: ignore[arg-type]
                                lambda s: receipts.number_payment_document(s, pledge_id, settings,
                                                                           today=date(2026, 3, 2)))
    assert number, f"pledge {pledge_id} got no receipt"
    return pledge_id


def check_numbers(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        sequences = conn.execute(select(Receipt.sequence).order_by(Receipt.sequence)).scalars().all()
        empty = conn.execute(text("SELECT count(*) FROM receipts WHERE pdf IS NULL")).scalar_one()
    engine.dispose()
    ok = sequences == list(range(1, len(sequences) + 1)) and empty == 0
    return f"{len(sequences)} receipts numbered 1..{len(sequences)}, no gap, no duplicate, all stored: " + (
        "OK" if ok else f"FAIL ({empty} without bytes)")


def bench_issue(args: argparse.Namespace, url: str) -> None:
    targets = {"app issue-receipts": app_issue_receipt, "WeasyPrint direct": weasyprint_direct,
               "WeasyPrint, shared fonts": weasyprint_shared_fonts}
    _STATE.update(url=url, pledges=seed(url, args.count * args.rounds),
                  counter=multiprocessing.get_context("fork").Value("i", 0))
    print(f"issuing: {args.workers} processes, {args.count} receipts per round, {args.rounds} rounds (PostgreSQL)")
    results = compare_rates(targets, count=args.count, workers=args.workers, rounds=args.rounds)
    medians = {name: statistics.median(rates) for name, rates in results.items()}
    for name, rates in results.items():
        print(f"  {name:26} {medians[name]:7.1f} receipts/s  (rounds: {', '.join(f'{r:.1f}' for r in rates)})")
    ratio = medians["app issue-receipts"] / medians["WeasyPrint direct"]
    verdict = "PASS" if ratio >= MIN_RENDER_RATIO else "FAIL"
    print(f"  app issue-receipts / WeasyPrint direct = {ratio:.0%} (target >= {MIN_RENDER_RATIO:.0%}): {verdict}")
    shared = medians["app issue-receipts"] / medians["WeasyPrint, shared fonts"]
    print(f"  app issue-receipts / WeasyPrint with shared fonts = {shared:.0%}")
    print(f"  {check_numbers(url)}")


# --- (b) ZIP export from the database ------------------------------------------------------------------------


def store_receipts(url: str, n: int) -> int:
    """Store `n` issued receipts (copies of 20 distinct real renders) in the database; return their total size."""
    from receipts.pdf import render_receipt_pdf
    from receipts.render import STATIC_DIR

    pdfs = [render_receipt_pdf(sample_receipt(i), STATIC_DIR) for i in range(DISTINCT)]
    pledge = seed(url, 1)[0]
    engine = make_engine(url)
    day, total = date(2026, 3, 2), 0
    with engine.begin() as conn:
        backer, project = conn.execute(text("SELECT backer_id, project_id FROM pledges WHERE id = :id"),
                                       {"id": pledge}).one()
        for start in range(0, n, 500):
            rows = []
            for i in range(start, min(n, start + 500)):
                pdf, digest = pdfs[i % DISTINCT]
                total += len(pdf)
                rows.append(dict(number=f"KS-2026-{i + 1:06d}", issuer_key="platform", year=2026, sequence=i + 1,
                                 kind="payment_confirmation", status="issued", source_key=f"bench-{i}",
                                 pledge_id=pledge, backer_id=backer, project_id=project, amount_cents=1000,
                                 currency="EUR", language="de", issue_date=day, content={}, pdf=pdf, sha256=digest,
                                 size_bytes=len(pdf), numbered_at=datetime.now(UTC), issued_at=datetime.now(UTC),
                                 retention_until=day + timedelta(days=3650), last_error=""))
            conn.execute(insert(Receipt), rows)
        conn.execute(text("ANALYZE receipts"))
    engine.dispose()
    return total


def zip_child(kind: str, url: str, target: Path) -> None:
    """Export in this fresh process and print time and peak RSS as JSON."""
    from sqlalchemy.orm import Session

    from crowdfund.services.finance import Period
    from crowdfund.services.finance_exports import receipts_zip

    engine = make_engine(url)
    period = Period(date(2026, 3, 1), date(2026, 3, 31))
    start = time.perf_counter()
    with Session(engine) as session, target.open("wb") as out:
        if kind == "receipts_zip":
            for chunk in receipts_zip(session, period):
                out.write(chunk)
        else:
            stmt = select(Receipt.number, Receipt.pdf).order_by(Receipt.number).execution_options(yield_per=100)
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
                for number, pdf in session.execute(stmt):
                    archive.writestr(f"{number}.pdf", pdf)
    elapsed = time.perf_counter() - start
    engine.dispose()
    print(json.dumps({"seconds": elapsed, "maxrss": peak_rss(), "size": target.stat().st_size}))


def bench_zip(args: argparse.Namespace, url: str) -> None:
    total = store_receipts(url, args.n)
    print(f"ZIP export from the database: {args.n} stored receipts, {total / 1e6:.1f} MB, {args.rounds} rounds")
    runs: dict[str, list[dict[str, float]]] = {"receipts_zip": [], "zipfile": []}
    with tempfile.TemporaryDirectory(prefix="bench-receipts-zip-") as tmp:
        target = Path(tmp) / "export.zip"
        for _ in range(args.rounds):
            for kind in runs:
                command = [sys.executable, __file__, "_zip-child", kind, url, str(target)]
                result = subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
                runs[kind].append(json.loads(result.stdout))
    seconds = {kind: statistics.median(r["seconds"] for r in rs) for kind, rs in runs.items()}
    for kind, rs in runs.items():
        print(f"  {kind:12} {seconds[kind]:6.2f} s   max RSS {max(r['maxrss'] for r in rs) / 2**20:6.1f} MB")
    ratio = seconds["receipts_zip"] / seconds["zipfile"]
    rss = max(r["maxrss"] for r in runs["receipts_zip"]) / 2**20
    verdict = "PASS" if ratio <= MAX_ZIP_RATIO and rss < MAX_PEAK_MB else "FAIL"
    print(f"  receipts_zip / zipfile time = {ratio:.2f}x (target <= {MAX_ZIP_RATIO}x), "
          f"peak RSS {rss:.0f} MB (target < {MAX_PEAK_MB} MB): {verdict}")


def with_database(server: str, work: object) -> None:
    """Create the scratch database, run `work(url)`, drop the database whatever happens."""
    admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))
    admin(server, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    try:
        url = f"{server}/{DB_NAME}"
        upgrade_to_head(url)
        work(url)  # type: ignore[operator]
    finally:
        admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_zip-child":
        zip_child(sys.argv[2], sys.argv[3], Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=["issue", "zip", "all"], default="all")
    parser.add_argument("--workers", type=int, default=2, help="issuing processes (default 2: both cores)")
    parser.add_argument("--count", type=int, default=60, help="receipts per target and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=10_000, help="stored receipts in the ZIP export")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    if args.what in ("issue", "all"):
        with_database(args.server, lambda url: bench_issue(args, url))
    if args.what in ("zip", "all"):
        with_database(args.server, lambda url: bench_zip(args, url))


if __name__ == "__main__":
    main()
