"""Playwright drives Debian's Chromium (never a downloaded browser) against a live server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def requests_seen(page) -> list[str]:
    """Every URL the page requests; anything off loopback is aborted (and still recorded)."""
    seen: list[str] = []

    def route(r):
        seen.append(r.request.url)
        if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            return r.continue_()
        return r.abort()

    page.route("**/*", route)
    return seen


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """A German-speaking visitor, as most of the platform's users are."""
    return {**browser_context_args, "locale": "de-DE"}
