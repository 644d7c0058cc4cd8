"""Server-rendered SVG charts: bars, stacked bars, lines and ranked horizontal bars.

No JavaScript and no CDN: each chart is one inline <svg> with a title, both
axes, tick labels, the unit on the value axis, a legend and a tooltip
(<title>) on every mark. All text is XML-escaped here; callers pass plain
strings (already translated).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Format = Callable[[float], str]

# Colour-blind-safe palette (Tableau 10), in the order series usually come.
BLUE, ORANGE, GREEN, RED, TEAL, GREY = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#9c9c9c",
)

WIDTH = 640
HEIGHT = 270
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 42, 60
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
MAX_X_LABELS = 10


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str


def plain_number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}".replace(",", " ")
    return f"{value:,.1f}".replace(",", " ").replace(".", ",")


def nice_scale(maximum: float, *, ticks: int = 5, integer: bool = False) -> tuple[float, float]:
    """(top of the axis, tick step): a 1-2-2.5-5 step so ticks read as round numbers."""
    if maximum <= 0 or math.isnan(maximum):
        return (ticks if integer else 1.0), (1.0 if integer else 1.0 / ticks)
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    top = step * math.ceil(maximum / step - 1e-9)
    return top, step


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = 12,
          extra: str = "") -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="#333" {extra}>{escape(text)}</text>'
    )


class _Frame:
    """The plot area of a chart with a vertical value axis."""

    def __init__(self, top_value: float) -> None:
        self.x0, self.x1 = LEFT, WIDTH - RIGHT
        self.y0, self.y1 = TOP, HEIGHT - BOTTOM
        self.top_value = top_value

    def y(self, value: float) -> float:
        return self.y1 - (self.y1 - self.y0) * (value / self.top_value if self.top_value else 0)

    def band(self, count: int) -> float:
        return (self.x1 - self.x0) / max(count, 1)


def _open(title: str, height: int = HEIGHT) -> tuple[list[str], str]:
    ident = f"chart-{uuid.uuid4().hex[:8]}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="{ident}" '
        f'class="chart" {FONT}>',
        f'<title id="{ident}">{escape(title)}</title>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fff"/>',
        _text(LEFT, 20, title, anchor="start", size=15, extra='font-weight="600"'),
    ]
    return parts, ident


def _legend(series: Sequence[Series]) -> list[str]:
    parts: list[str] = []
    x = WIDTH - RIGHT
    for item in reversed(series):
        width = 14 + 7 * len(item.name)
        x -= width + 12
        parts.append(f'<rect x="{x:.1f}" y="26" width="10" height="10" fill="{item.color}"/>')
        parts.append(_text(x + 14, 35, item.name, anchor="start"))
    return parts


def _value_axis(frame: _Frame, step: float, unit: str, fmt: Format) -> list[str]:
    parts: list[str] = []
    ticks = round(frame.top_value / step)
    for i in range(ticks + 1):
        value = step * i
        y = frame.y(value)
        parts.append(
            f'<line x1="{frame.x0}" y1="{y:.1f}" x2="{frame.x1}" y2="{y:.1f}" '
            f'stroke="{"#999" if i == 0 else "#e6e6e6"}" stroke-width="1"/>'
        )
        parts.append(_text(frame.x0 - 6, y + 4, fmt(value), anchor="end"))
    mid = (frame.y0 + frame.y1) / 2
    parts.append(_text(14, mid, unit, extra=f'transform="rotate(-90 14 {mid:.1f})"', size=11))
    parts.append(
        f'<line x1="{frame.x0}" y1="{frame.y0}" x2="{frame.x0}" y2="{frame.y1}" stroke="#999"/>'
    )
    return parts


def _category_axis(frame: _Frame, labels: Sequence[str], axis_title: str) -> list[str]:
    parts: list[str] = []
    band = frame.band(len(labels))
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = frame.x0 + band * (i + 0.5)
        parts.append(
            f'<line x1="{x:.1f}" y1="{frame.y1}" x2="{x:.1f}" y2="{frame.y1 + 4}" stroke="#999"/>'
        )
        parts.append(_text(x, frame.y1 + 16, label))
    parts.append(_text((frame.x0 + frame.x1) / 2, HEIGHT - 12, axis_title))
    return parts


def _empty(frame: _Frame, message: str) -> str:
    return _text((frame.x0 + frame.x1) / 2, (frame.y0 + frame.y1) / 2, message, size=13)


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str,
    axis_title: str,
    stacked: bool = False,
    integer: bool = True,
    fmt: Format = plain_number,
    maximum: float | None = None,
    empty: str = "",
) -> SafeString:
    """Vertical bars per category: side by side, or stacked when `stacked`."""
    totals = [
        (sum(v or 0 for v in column) if stacked else max((v or 0 for v in column), default=0))
        for column in zip(*(s.values for s in series), strict=True)
    ]
    # A little headroom, so the tallest bar does not touch the top of the frame.
    top, step = nice_scale(maximum or max(totals, default=0) * 1.05, integer=integer)
    frame = _Frame(top)
    parts, _ = _open(title)
    parts += _legend(series) if len(series) > 1 else []
    parts += _value_axis(frame, step, unit, fmt)
    band = frame.band(len(labels))
    groups = 1 if stacked else len(series)
    width = band * 0.8 / groups
    for i, label in enumerate(labels):
        base = 0.0
        for j, item in enumerate(series):
            value = item.values[i]
            if not value:
                continue
            x = frame.x0 + band * (i + 0.1) + (0 if stacked else j * width)
            y_top = frame.y(base + value)
            y_bottom = frame.y(base)
            parts.append(
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{max(width - 1, 1):.1f}" '
                f'height="{max(y_bottom - y_top, 0.5):.1f}" fill="{item.color}">'
                f"<title>{escape(f'{label} · {item.name}: {fmt(value)} {unit}')}</title></rect>"
            )
            if stacked:
                base += value
    if not any(totals):
        parts.append(_empty(frame, empty))
    parts += _category_axis(frame, labels, axis_title)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str,
    axis_title: str,
    fmt: Format = plain_number,
    empty: str = "",
) -> SafeString:
    """Lines over categories; a missing value (None) breaks the line."""
    values = [v for s in series for v in s.values if v is not None]
    top, step = nice_scale(max(values, default=0))
    frame = _Frame(top)
    parts, _ = _open(title)
    parts += _legend(series)
    parts += _value_axis(frame, step, unit, fmt)
    band = frame.band(len(labels))
    for item in series:
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, value in enumerate(item.values):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            x, y = frame.x0 + band * (i + 0.5), frame.y(value)
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{item.color}">'
                f"<title>{escape(f'{labels[i]} · {item.name}: {fmt(value)} {unit}')}</title>"
                "</circle>"
            )
        if segment:
            segments.append(segment)
        for points in segments:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{item.color}" '
                'stroke-width="2"/>'
            )
    if not values:
        parts.append(_empty(frame, empty))
    parts += _category_axis(frame, labels, axis_title)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def ranking_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    unit: str,
    color: str = BLUE,
    fmt: Format = plain_number,
    empty: str = "",
) -> SafeString:
    """Horizontal bars, largest first: for "top N" lists with long names."""
    row, label_width = 24, 250
    height = TOP + max(len(labels), 1) * row + 40
    x0, x1 = label_width, WIDTH - 70
    top, step = nice_scale(max(values, default=0), integer=True)
    parts, _ = _open(title, height)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + i * row
        width = (x1 - x0) * (value / top if top else 0)
        short = label if len(label) <= 30 else label[:29].rstrip() + "…"
        parts.append(_text(x0 - 8, y + 15, short, anchor="end", size=12))
        parts.append(
            f'<rect x="{x0}" y="{y + 4}" width="{max(width, 1):.1f}" height="{row - 8}" '
            f'fill="{color}"><title>{escape(f"{label}: {fmt(value)} {unit}")}</title></rect>'
        )
        parts.append(_text(x0 + width + 6, y + 15, fmt(value), anchor="start", size=12))
    if not labels:
        parts.append(_text(WIDTH / 2, TOP + row, empty, size=13))
    axis_y = TOP + max(len(labels), 1) * row + 4
    parts.append(f'<line x1="{x0}" y1="{axis_y}" x2="{x1}" y2="{axis_y}" stroke="#999"/>')
    ticks = round(top / step)
    for i in range(ticks + 1):
        x = x0 + (x1 - x0) * (step * i / top)
        parts.append(
            f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 4}" stroke="#999"/>'
        )
        parts.append(_text(x, axis_y + 16, fmt(step * i)))
    parts.append(_text((x0 + x1) / 2, axis_y + 32, unit))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()
