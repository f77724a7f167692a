"""A stand-in for `receipts.pdf` in fast tests: the visible text of the HTML in a minimal PDF.

No WeasyPrint, no fonts, no URL is fetched; the output is deterministic, a few KB, produced in well under
a millisecond, and pdfplumber reads its text back. It is not PDF/A and not meant for backers.
"""

from __future__ import annotations

import hashlib
import textwrap
from html.parser import HTMLParser
from pathlib import Path

from receipts.documents import ReceiptData
from receipts.render import render_html

BLOCKS = {"p", "div", "br", "tr", "h1", "h2", "h3", "li", "section", "header", "table", "title"}
CELLS = {"td", "th"}
HIDDEN = {"head", "style", "script"}
LINES_PER_PAGE = 64
WIDTH = 110


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in HIDDEN
        if tag in BLOCKS:
            self.lines.append("")
        elif tag in CELLS:
            self.lines[-1] += " "

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in HIDDEN
        if tag in BLOCKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.lines[-1] += data


def visible_lines(html: str) -> list[str]:
    """Return the text lines a reader would see, one per block element, wrapped at 110 characters."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in parser.lines]
    return [part for line in lines if line for part in textwrap.wrap(line, WIDTH)]


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _page_stream(lines: list[str]) -> bytes:
    body = b"".join(_pdf_string(line) + b" '\n" for line in lines)
    return b"BT /F1 9 Tf 11 TL 50 810 Td\n" + body + b"ET"


def _assemble(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n%fake receipt\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def render_fake_pdf(
    html: str,
    static_dir: Path | None = None,
    *,
    pdf_variant: str | None = None,
    fail_on_errors: bool = False,
    reuse_fonts: bool = True,
) -> bytes:
    """Write the visible text of `html` into a plain PDF (same signature as `receipts.pdf.render_pdf`)."""
    lines = visible_lines(html) or [""]
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]
    first_page = 4
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, page in enumerate(pages):
        stream = _page_stream(page)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % (first_page + 2 * i + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    return _assemble(objects)


def render_fake_receipt_pdf(data: ReceiptData, static_dir: Path | None = None) -> tuple[bytes, str]:
    """Fake `receipts.pdf.render_receipt_pdf`: same HTML, plain text PDF, and its SHA-256."""
    pdf = render_fake_pdf(render_html(data), static_dir)
    return pdf, hashlib.sha256(pdf).hexdigest()
