"""The URL fetcher serves files inside the static directory and nothing else, before any I/O."""

from __future__ import annotations

import contextlib
import logging
import os
import socket

import pytest
from weasyprint.urls import FatalURLFetchingError

from receipts.pdf import RefusedURLError, StaticOnlyFetcher, render_pdf
from receipts.render import STATIC_DIR

STATIC_URL = STATIC_DIR.resolve().as_uri()
OUTSIDE_URLS = [
    "file:///etc/passwd",
    "http://example.com/x.png",
    "https://example.com/receipt.css",
    "http://127.0.0.1:9/x.png",
    "ftp://example.com/x",
    "data:text/css;base64,Ym9keXt9",
    "file://otherhost/etc/passwd",
    f"{STATIC_URL}/../pyproject.toml",
    f"{STATIC_URL}/css/../../pyproject.toml",
    f"{STATIC_URL}/css/%2e%2e/%2e%2e/pyproject.toml",
    f"{STATIC_URL}-evil/receipt.css",
    "file:static/css/receipt.css",
]


class DiskSpy:
    """Records os.stat/lstat/open calls made while `watching` is active."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.active = False

    def wrap(self, name, real):
        def recorder(*args, **kwargs):
            if self.active:
                self.calls.append((name, args[0] if args else None))
            return real(*args, **kwargs)

        return recorder

    @contextlib.contextmanager
    def watching(self):
        self.active = True
        try:
            yield
        finally:
            self.active = False


@pytest.fixture
def disk(monkeypatch):
    spy = DiskSpy()
    for name in ("stat", "lstat", "open"):
        monkeypatch.setattr(os, name, spy.wrap(name, getattr(os, name)))
    return spy


@pytest.fixture
def no_network(monkeypatch):
    attempts: list[object] = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError("network is not allowed in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.mark.parametrize("url", OUTSIDE_URLS)
def test_urls_outside_the_static_directory_are_refused_before_any_io(url, disk):
    fetcher = StaticOnlyFetcher(STATIC_DIR)
    refused = False
    with disk.watching():
        try:
            fetcher.fetch(url)
        except RefusedURLError:
            refused = True
    assert refused
    assert disk.calls == []


def test_the_disk_spy_does_see_a_served_file(disk):
    fetcher = StaticOnlyFetcher(STATIC_DIR)
    with disk.watching():
        fetcher.fetch(f"{STATIC_URL}/css/receipt.css")
    assert disk.calls


def test_a_file_inside_the_static_directory_is_served():
    response = StaticOnlyFetcher(STATIC_DIR).fetch(f"{STATIC_URL}/css/receipt.css")
    assert response.content_type == "text/css"
    assert b"Source Sans 3" in response.read()


def test_a_missing_file_inside_the_static_directory_is_refused():
    with pytest.raises(RefusedURLError):
        StaticOnlyFetcher(STATIC_DIR).fetch(f"{STATIC_URL}/css/missing.css")


def test_a_symlink_that_leaves_the_static_directory_is_refused(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (static / "link.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(RefusedURLError):
        StaticOnlyFetcher(static).fetch((static / "link.txt").as_uri())


@pytest.mark.parametrize("src", ["file:///etc/passwd", "http://example.com/x.png", "../pyproject.toml"])
def test_rendering_stops_on_a_refused_url_when_errors_are_fatal(src, no_network):
    html = f'<p>x</p><img src="{src}" alt="logo">'
    with pytest.raises(FatalURLFetchingError):
        render_pdf(html, STATIC_DIR, fail_on_errors=True)
    assert no_network == []


def test_refused_urls_are_logged_and_never_opened_when_errors_are_not_fatal(no_network, caplog):
    html = (
        '<link rel="stylesheet" href="https://example.com/evil.css">'
        '<img src="file:///etc/passwd" alt="a"><img src="http://example.com/x.png" alt="b">'
        '<img src="../pyproject.toml" alt="c"><p>still rendered</p>'
    )
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = render_pdf(html, STATIC_DIR)
    assert pdf.startswith(b"%PDF-")
    assert no_network == []
    assert caplog.text.count("refused") >= 4


def test_an_image_inside_the_static_directory_renders(no_network):
    pdf = render_pdf('<img src="favicon.svg" alt="logo">', STATIC_DIR, fail_on_errors=True)
    assert pdf.startswith(b"%PDF-")
