"""Money over time as an inline SVG drawn on the server: no JavaScript, no chart library, no CDN.

Cumulative lines per day: money in (charged + matched), refunded, paid out, and what the platform holds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from xml.sax.saxutils import escape, quoteattr

from crowdfund.services.finance import Figures

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 280, 90, 16, 36, 36
LEGEND_Y = 8  # the legend sits above the plot, so no line runs through it
LINES: tuple[tuple[str, str, Callable[[Figures], int]], ...] = (
    ("in", "#1f6f43", lambda f: f.charged + f.matched),
    ("refunded", "#b3261e", lambda f: f.refunded),
    ("paid_out", "#2a4d9b", lambda f: f.paid_out),
    ("held", "#6b4e16", lambda f: f.outstanding),
)


def cumulative(days: Sequence[tuple[date, Figures]]) -> dict[str, list[int]]:
    """Return each line's running total, one value per day."""
    series: dict[str, list[int]] = {name: [] for name, _colour, _value in LINES}
    for name, _colour, value in LINES:
        running = 0
        for _day, figures in days:
            running += value(figures)
            series[name].append(running)
    return series


def _points(values: list[int], low: int, high: int) -> str:
    span_x = max(len(values) - 1, 1)
    span_y = max(high - low, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    return " ".join(f"{LEFT + plot_w * i / span_x:.1f},{TOP + plot_h * (high - v) / span_y:.1f}"
                    for i, v in enumerate(values))


def money_chart_svg(days: Sequence[tuple[date, Figures]], labels: dict[str, str], *,
                    money: Callable[[int], str], title: str) -> str:
    """Draw the chart; `labels` name the lines, `money` formats cents for the axis. Texts are escaped."""
    if not days:
        return ""
    series = cumulative(days)
    low = min(0, *(min(values) for values in series.values()))
    high = max(1, *(max(values) for values in series.values()))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'class="finance-chart" aria-label={quoteattr(title)}>', f"<title>{escape(title)}</title>",
             f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="#888"/>',
             f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#888"/>',
             _text(LEFT - 6, TOP + 10, money(high), "end"), _text(LEFT - 6, HEIGHT - BOTTOM, money(low), "end"),
             _text(LEFT, HEIGHT - 8, days[0][0].isoformat(), "start"),
             _text(WIDTH - RIGHT, HEIGHT - 8, days[-1][0].isoformat(), "end")]
    for index, (name, colour, _value) in enumerate(LINES):
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{_points(series[name], low, high)}"><title>{escape(labels[name])}</title></polyline>')
        parts.append(f'<rect x="{LEFT + 10 + index * 150}" y="{LEGEND_Y}" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(LEFT + 24 + index * 150, LEGEND_Y + 9, labels[name], "start"))
    parts.append("</svg>")
    return "".join(parts)


def _text(x: float, y: float, content: str, anchor: str) -> str:
    return f'<text x="{x}" y="{y}" font-size="11" text-anchor="{anchor}">{escape(content)}</text>'
