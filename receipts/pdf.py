"""PDF rendering with WeasyPrint: the only module that imports it.

Receipts are PDF/A-3b; stylesheet, fonts and images come from the static directory only, through a URL
fetcher that refuses everything else before any I/O (no network, no file outside the static root).
"""

from __future__ import annotations

import atexit
import hashlib
import mimetypes
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from receipts.documents import ReceiptData
from receipts.render import render_html

PDF_VARIANT = "pdf/a-3b"


class RefusedURLError(ValueError):
    """A resource outside the static directory was asked for."""


def _refused(url: str) -> RefusedURLError:
    return RefusedURLError(f"refused: {url[:200]}")  # a data: URL may be long; the log needs only its start


class StaticOnlyFetcher(URLFetcher):
    """Serve `file:` URLs inside `root` and refuse every other URL before touching disk or network.

    With `fail_on_errors=True` a refusal stops the rendering (WeasyPrint raises FatalURLFetchingError);
    otherwise WeasyPrint logs it and goes on without the resource.
    """

    def __init__(self, root: Path | str, **kwargs: object) -> None:
        super().__init__(allowed_protocols=("file",), **kwargs)
        self.root = Path(root).resolve()

    def local_path(self, url: str) -> Path:
        """Map a URL to a file inside the root, lexically first (no I/O), then after resolving symlinks."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise _refused(url)
        raw = url2pathname(parts.path)
        candidate = Path(os.path.normpath(raw))
        if "\x00" in raw or not candidate.is_absolute() or not candidate.is_relative_to(self.root):
            raise _refused(url)
        resolved = candidate.resolve()
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            raise _refused(url)
        return resolved

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Return the file's bytes, read directly (no urllib opener, so no proxy or handler is ever involved)."""
        path = self.local_path(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})


class _SharedFonts:
    """One FontConfiguration per process, so the WOFF2 fonts are decoded once, not on every render.

    Decoding the four Source Sans 3 faces costs about 120 ms, more than the rest of a receipt; the decoded
    files sit in the configuration's temporary folder, removed at exit. A lock keeps threads from sharing it
    at the same time, and a forked child builds its own instead of using (and later removing) its parent's.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.config: FontConfiguration | None = None
        self.pid = 0

    def get(self) -> FontConfiguration:
        if self.config is None or self.pid != os.getpid():
            self.config, self.pid = FontConfiguration(), os.getpid()
            atexit.register(self.close)
        return self.config

    def close(self) -> None:
        if self.pid != os.getpid():
            return
        config, self.config = self.config, None
        folder = getattr(config, "_folder", None)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


_FONTS = _SharedFonts()


def render_pdf(
    html: str,
    static_dir: Path,
    *,
    pdf_variant: str | None = PDF_VARIANT,
    fail_on_errors: bool = False,
    reuse_fonts: bool = True,
) -> bytes:
    """Render HTML to PDF bytes; relative URLs resolve against `static_dir`, and only files in it are read.

    `reuse_fonts=False` is WeasyPrint's plain `HTML(...).write_pdf()` (fonts decoded again every time).
    """
    static_dir = Path(static_dir).resolve()
    fetcher = StaticOnlyFetcher(static_dir, fail_on_errors=fail_on_errors)
    document = HTML(string=html, base_url=static_dir.as_uri() + "/", url_fetcher=fetcher)
    if not reuse_fonts:
        return document.write_pdf(pdf_variant=pdf_variant)
    with _FONTS.lock:
        return document.write_pdf(pdf_variant=pdf_variant, font_config=_FONTS.get())


def release_fonts() -> None:
    """Remove this process's decoded fonts now; a process that ends without running atexit handlers (a
    multiprocessing worker) should call it, or their temporary folder stays behind."""
    with _FONTS.lock:
        _FONTS.close()


def sha256_hex(data: bytes) -> str:
    """Hash stored document bytes; the digest is kept beside them to prove they never changed."""
    return hashlib.sha256(data).hexdigest()


def render_receipt_pdf(data: ReceiptData, static_dir: Path, *, fail_on_errors: bool = True) -> tuple[bytes, str]:
    """Render one receipt to PDF/A-3b and hash it: a missing stylesheet or font is an error, not a silent gap."""
    pdf = render_pdf(render_html(data), static_dir, fail_on_errors=fail_on_errors)
    return pdf, sha256_hex(pdf)
