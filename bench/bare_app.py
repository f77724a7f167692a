"""WSGI module for the benchmark: the real application plus `/_bench/bare`, a route that returns a short
string, so both are served by the same gunicorn in the same run (`gunicorn bench.bare_app:app`)."""

from crowdfund import create_app

app = create_app()


@app.get("/_bench/bare")
def bare() -> str:
    return "ok"
