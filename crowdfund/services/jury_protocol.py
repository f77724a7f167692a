"""The jury protocol as PDF, rendered by the receipts package's WeasyPrint renderer.

The renderer is a port: `receipts.pdf.render_pdf` by default (imported on first use, WeasyPrint is heavy
to load), anything with its signature in tests. It reads stylesheets and fonts from the static directory
only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Renderer = Callable[..., bytes]


def default_renderer() -> Renderer:
    """Return receipts' WeasyPrint renderer (the one module allowed to import WeasyPrint)."""
    from receipts.pdf import render_pdf

    return render_pdf


def render_protocol(html: str, static_dir: Path | str, renderer: Renderer | None = None) -> bytes:
    """Render the protocol's HTML to PDF; relative URLs resolve inside `static_dir` and nowhere else."""
    render = renderer or default_renderer()
    return render(html, Path(static_dir), pdf_variant=None, fail_on_errors=True)
