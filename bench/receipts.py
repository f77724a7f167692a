"""Benchmark receipt rendering and the streamed ZIP export, each next to its baseline in the same run.

    .venv/bin/python bench/receipts.py [render|zip|all] [--workers 2] [--count 120] [--rounds 3] [--n 10000]

render: receipts per second of `receipts.pdf.render_receipt_pdf` (Jinja2 + WeasyPrint PDF/A-3b + SHA-256) in
    a process pool of `--workers` processes, next to WeasyPrint rendering the same receipt HTML directly
    (`HTML(...).write_pdf(pdf_variant="pdf/a-3b")`, which decodes the WOFF2 fonts on every call) and next to
    WeasyPrint with a shared font configuration. Rounds are interleaved so drift on a shared machine hits
    every target alike; the median rate of the rounds is printed. To measure the application's issuing
    (numbering + rendering + storing), pass a picklable callable taking the job index to `compare_rates()`.
zip: writes `--n` stored PDF files (20 distinct real receipts, copied under distinct numbers) to a temporary
    directory, then exports them to a ZIP with `receipts.zipstream.stream_zip` and with Python's `zipfile`
    writing the same files, each in a fresh child process that reports its time, peak RSS (VmHWM) and (in a
    separate run) the tracemalloc peak. Targets: peak < 200 MB and time within 2x of zipfile.
Stops by itself; the temporary directory is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] == str(Path(__file__).resolve().parent):
    sys.path[0] = str(ROOT)  # this file is named like the package it measures

from receipts.documents import (  # noqa: E402
    CancellationDetails,
    DocumentKind,
    DonationDetails,
    Party,
    ReceiptData,
)
from receipts.numbering import format_number  # noqa: E402
from receipts.render import STATIC_DIR, render_html  # noqa: E402
from receipts.zipstream import stream_zip  # noqa: E402

MAX_PEAK_MB, MAX_ZIP_RATIO, MIN_RENDER_RATIO = 200, 2.0, 0.8
DISTINCT = 20


def sample_receipt(i: int) -> ReceiptData:
    """Build the i-th sample receipt: mostly payment confirmations, some donation receipts and cancellations."""
    kinds = [DocumentKind.PAYMENT_CONFIRMATION] * 3 + [DocumentKind.DONATION_RECEIPT, DocumentKind.CANCELLATION]
    kind = kinds[i % 5]
    details: dict[str, object] = {}
    if kind is DocumentKind.DONATION_RECEIPT:
        details["donation"] = DonationDetails(
            "des Umweltschutzes", "Kassel-Hofgeismar", "026 250 12345", date(2025, 2, 14)
        )
    if kind is DocumentKind.CANCELLATION:
        details["cancellation"] = CancellationDetails(format_number("KS", 2026, i), 1000)
    return ReceiptData(
        kind=kind,
        number=format_number("KS", 2026, i + 1),
        issue_date=date(2026, 3, 2),
        payment_date=date(2026, 3, 1),
        issuer=Party("Verein für Stadtgrün Kassel e. V.", ("Friedrichsplatz 1", "34117 Kassel")),
        backer=Party(f"Backer Nummer {i}", (f"Königsstraße {i % 90 + 1}", "34117 Kassel")),
        amount_cents=1000 + 137 * i,
        project_title="Reparaturstation am Kulturbahnhof",
        payment_method="card" if i % 2 else "sepa_debit",
        provider_reference=f"pi_bench{i:08d}",
        language="de" if i % 4 else "en",
        **details,  # type: ignore[arg-type]
    )


# --- (a) rendering -------------------------------------------------------------------------------------
_HTML: list[str] = []


def _warm_worker() -> None:
    from receipts.pdf import release_fonts, render_pdf, render_receipt_pdf

    # Pool workers end without atexit handlers; a finalizer removes their decoded fonts on a clean exit.
    multiprocessing.util.Finalize(None, release_fonts, exitpriority=10)
    _HTML[:] = [render_html(sample_receipt(i)) for i in range(DISTINCT)]
    render_receipt_pdf(sample_receipt(0), STATIC_DIR)
    render_pdf(_HTML[0], STATIC_DIR, reuse_fonts=False)


def _worker_pid(_: int) -> int:
    time.sleep(0.05)
    return os.getpid()


def issue_with_render_receipt_pdf(i: int) -> int:
    """One receipt as the library renders it: data -> HTML -> PDF/A-3b -> SHA-256."""
    from receipts.pdf import render_receipt_pdf

    pdf, _digest = render_receipt_pdf(sample_receipt(i), STATIC_DIR)
    return len(pdf)


def weasyprint_direct(i: int) -> int:
    """The same receipt HTML rendered by WeasyPrint's plain call (a fresh font configuration every time)."""
    from receipts.pdf import render_pdf

    return len(render_pdf(_HTML[i % DISTINCT], STATIC_DIR, reuse_fonts=False))


def weasyprint_shared_fonts(i: int) -> int:
    """The same receipt HTML rendered by WeasyPrint with one font configuration per process."""
    from receipts.pdf import render_pdf

    return len(render_pdf(_HTML[i % DISTINCT], STATIC_DIR))


def rate(pool: multiprocessing.pool.Pool, job: Callable[[int], object], count: int) -> float:
    """Run `job(0..count-1)` on the pool and return jobs per second."""
    start = time.perf_counter()
    pool.map(job, range(count), chunksize=1)
    return count / (time.perf_counter() - start)


def compare_rates(
    targets: dict[str, Callable[[int], object]], *, count: int, workers: int, rounds: int
) -> dict[str, list[float]]:
    """Measure each target's jobs per second in interleaved rounds on one warmed process pool.

    Targets must be picklable module-level functions taking the job index; plug the application's
    issue-receipts step in here to compare it with WeasyPrint in the same run.
    """
    results: dict[str, list[float]] = {name: [] for name in targets}
    for i in range(DISTINCT):
        render_html(sample_receipt(i))  # fail here, not in a pool that respawns failing workers forever
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_warm_worker)
    try:
        warmed: set[int] = set()  # pids seen answering: each has finished its warm-up render
        while len(warmed) < workers:
            warmed |= set(pool.map(_worker_pid, range(workers * 4), chunksize=1))
        for _ in range(rounds):
            for name, job in targets.items():
                results[name].append(rate(pool, job, count))
    finally:
        pool.close()  # a clean exit runs the workers' finalizers (terminate() would skip them)
        pool.join()
    return results


def bench_render(args: argparse.Namespace) -> None:
    targets = {
        "render_receipt_pdf": issue_with_render_receipt_pdf,
        "WeasyPrint direct": weasyprint_direct,
        "WeasyPrint, shared fonts": weasyprint_shared_fonts,
    }
    print(f"rendering: {args.workers} processes, {args.count} receipts per round, {args.rounds} rounds")
    results = compare_rates(targets, count=args.count, workers=args.workers, rounds=args.rounds)
    medians = {name: statistics.median(rates) for name, rates in results.items()}
    for name, rates in results.items():
        print(f"  {name:26} {medians[name]:7.1f} receipts/s  (rounds: {', '.join(f'{r:.1f}' for r in rates)})")
    ratio = medians["render_receipt_pdf"] / medians["WeasyPrint direct"]
    verdict = "PASS" if ratio >= MIN_RENDER_RATIO else "FAIL"
    print(f"  render_receipt_pdf / WeasyPrint direct = {ratio:.0%} (target >= {MIN_RENDER_RATIO:.0%}): {verdict}")
    shared = medians["render_receipt_pdf"] / medians["WeasyPrint, shared fonts"]
    print(f"  render_receipt_pdf / WeasyPrint with shared fonts = {shared:.0%}")


# --- (b) ZIP export ------------------------------------------------------------------------------------
def write_stored_receipts(directory: Path, n: int) -> int:
    """Write `n` receipt PDFs named by number, copies of 20 distinct real renders; return their total size."""
    from receipts.pdf import render_receipt_pdf

    pdfs = [render_receipt_pdf(sample_receipt(i), STATIC_DIR)[0] for i in range(DISTINCT)]
    total = 0
    for i in range(n):
        pdf = pdfs[i % DISTINCT]
        (directory / f"{format_number('KS', 2026, i + 1)}.pdf").write_bytes(pdf)
        total += len(pdf)
    return total


def export_with_stream_zip(files: list[Path], target: Path) -> None:
    with target.open("wb") as out:
        for chunk in stream_zip((path.name, path) for path in files):
            out.write(chunk)


def export_with_zipfile(files: list[Path], target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for path in files:
            archive.write(path, path.name)


def zip_child(kind: str, directory: Path, target: Path, trace: bool) -> None:
    """Run one export in this (fresh) process and print its figures as JSON."""
    export = export_with_stream_zip if kind == "stream_zip" else export_with_zipfile
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    export(sorted(directory.iterdir()), target)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    print(json.dumps({"seconds": elapsed, "tracemalloc_peak": peak, "maxrss": peak_rss()}))


def peak_rss() -> int:
    """Return this process's peak resident set in bytes.

    VmHWM belongs to the process image, so unlike ru_maxrss it does not include the RSS of the parent that
    forked this child before exec.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_zip_child(kind: str, directory: Path, target: Path, *, trace: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "_zip-child", kind, str(directory), str(target)] + (["--trace"] * trace)
    result = subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    target.unlink()
    return json.loads(result.stdout)


def bench_zip(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-receipts-") as tmp:
        directory, target = Path(tmp) / "stored", Path(tmp) / "export.zip"
        directory.mkdir()
        total = write_stored_receipts(directory, args.n)
        print(f"ZIP export: {args.n} stored receipts, {total / 1e6:.1f} MB, {args.rounds} interleaved rounds")
        runs: dict[str, list[dict[str, float]]] = {"stream_zip": [], "zipfile": []}
        for _ in range(args.rounds):
            for kind in runs:
                runs[kind].append(run_zip_child(kind, directory, target, trace=False))
        traced = {kind: run_zip_child(kind, directory, target, trace=True) for kind in runs}
    seconds = {kind: statistics.median(r["seconds"] for r in rs) for kind, rs in runs.items()}
    for kind, rs in runs.items():
        rss = max(r["maxrss"] for r in rs) / 2**20
        peak = traced[kind]["tracemalloc_peak"] / 2**20
        print(f"  {kind:10} {seconds[kind]:6.2f} s   max RSS {rss:6.1f} MB   tracemalloc peak {peak:6.2f} MB")
    ratio = seconds["stream_zip"] / seconds["zipfile"]
    rss = max(r["maxrss"] for r in runs["stream_zip"]) / 2**20
    verdict = "PASS" if ratio <= MAX_ZIP_RATIO and rss < MAX_PEAK_MB else "FAIL"
    print(
        f"  stream_zip / zipfile time = {ratio:.2f}x (target <= {MAX_ZIP_RATIO}x), "
        f"peak RSS {rss:.0f} MB (target < {MAX_PEAK_MB} MB): {verdict}"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_zip-child":
        kind, directory, target = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
        zip_child(kind, directory, target, trace="--trace" in sys.argv)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=["render", "zip", "all"], default="all")
    parser.add_argument("--workers", type=int, default=2, help="rendering processes (default 2: both cores)")
    parser.add_argument("--count", type=int, default=120, help="receipts per target and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=10_000, help="stored receipts in the ZIP export")
    args = parser.parse_args()
    if args.what in ("render", "all"):
        bench_render(args)
    if args.what in ("zip", "all"):
        bench_zip(args)


if __name__ == "__main__":
    main()
