"""WSGI module for the benchmark: the real application plus `/_bench/bare`, a route that returns a short
string, so both are served by the same gunicorn in the same run (`gunicorn bench.bare_app:app`).

BENCH_PUBLIC_CACHE_SECONDS, if set, overrides PUBLIC_CACHE_SECONDS (0 measures every page render)."""

import os

from crowdfund import create_app

app = create_app()
if "BENCH_PUBLIC_CACHE_SECONDS" in os.environ:
    app.config["PUBLIC_CACHE_SECONDS"] = int(os.environ["BENCH_PUBLIC_CACHE_SECONDS"])


@app.get("/_bench/bare")
def bare() -> str:
    return "ok"
