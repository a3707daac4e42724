"""The analytics charts as inline SVG drawn on the server: no script, no chart library, the same
picture in every browser and in a saved page. Each chart is an image with a title and a
description (``role="img"``, ``aria-labelledby``) and its figures are the table printed beside it;
colours come from the console's stylesheet (``.chart-*`` classes)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from markupsafe import Markup, escape

WIDTH = 640
LABEL = 170  # room for the bar labels
VALUE = 80  # room for the value at the end of a bar
ROW = 26
LEFT = 60  # the stacked bars' labels are short (a currency)
_ids = count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as the table prints it


@dataclass(frozen=True)
class Segment:
    name: str
    value: float
    text: str


def _frame(title: str, desc: str, height: float, body: str) -> Markup:
    n = next(_ids)
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'aria-labelledby="chart-{n}-t chart-{n}-d" preserveAspectRatio="xMinYMin meet">'
        f'<title id="chart-{n}-t">{escape(title)}</title><desc id="chart-{n}-d">{escape(desc)}</desc>{body}</svg>'
    )


def _short(text: str, room: int) -> str:
    return text if len(text) <= room else text[: room - 1] + "…"


def bars(title: str, desc: str, items: Sequence[Bar]) -> Markup:
    """Horizontal bars, longest first as given, each labelled and with its value at its end."""
    top = max((b.value for b in items), default=0) or 1
    room = WIDTH - LABEL - VALUE
    body = []
    for i, bar in enumerate(items):
        y = 6 + i * ROW
        width = max(bar.value / top * room, 2 if bar.value else 0)
        body.append(
            f'<g class="chart-row"><title>{escape(bar.label)}: {escape(bar.text)}</title>'
            f'<text class="chart-label" x="{LABEL - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(_short(bar.label, 22))}</text>"
            f'<rect class="chart-bar" x="{LABEL}" y="{y + 3}" width="{width:.1f}" height="{ROW - 8}" rx="3"></rect>'
            f'<text class="chart-value" x="{LABEL + width + 6:.1f}" y="{y + 15}">{escape(bar.text)}</text></g>'
        )
    return _frame(title, desc, 12 + max(len(items), 1) * ROW, "".join(body))


def nice_step(top: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 × 10ⁿ) that covers ``top`` in about ``ticks`` steps."""
    if top <= 0:
        return 1
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def trend(title: str, desc: str, points: Sequence[Bar]) -> Markup:
    """A line over the periods (``label`` is the period), a dot per period, a light area below,
    horizontal grid lines at round values and a few period labels along the bottom."""
    height, left, right, top_pad, bottom = 220, 44, 16, 12, 28
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    step = nice_step(max((p.value for p in points), default=0))
    ceiling = step * max(1, math.ceil(max((p.value for p in points), default=0) / step))
    body = []
    for k in range(int(round(ceiling / step)) + 1):
        y = top_pad + plot_h - k * step / ceiling * plot_h
        body.append(f'<line class="chart-grid" x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}"></line>')
        body.append(f'<text class="chart-axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{k * step:g}</text>')
    gap = plot_w / max(len(points) - 1, 1)
    xy = [(left + i * gap, top_pad + plot_h - p.value / ceiling * plot_h) for i, p in enumerate(points)]
    if xy:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        base = top_pad + plot_h
        area = f"{xy[0][0]:.1f},{base} {line} {xy[-1][0]:.1f},{base}"
        body.append(f'<polygon class="chart-area" points="{area}"></polygon>')
        body.append(f'<polyline class="chart-line" points="{line}"></polyline>')
    for (x, y), point in zip(xy, points, strict=True):
        body.append(
            f'<circle class="chart-dot" cx="{x:.1f}" cy="{y:.1f}" r="{3 if len(points) <= 62 else 1.5}">'
            f"<title>{escape(point.label)}: {escape(point.text)}</title></circle>"
        )
    shown = sorted({0, len(points) - 1, *(round(len(points) * q / 4) for q in (1, 2, 3))} & set(range(len(points))))
    for i in shown:
        anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
        body.append(
            f'<text class="chart-axis" x="{xy[i][0]:.1f}" y="{height - 8}" text-anchor="{anchor}">'
            f"{escape(points[i].label)}</text>"
        )
    return _frame(title, desc, height, "".join(body))


def stacked(title: str, desc: str, rows: Sequence[tuple[str, Sequence[Segment]]], names: Sequence[str]) -> Markup:
    """One full-width bar per row (a currency) split into its parts (refunded, kept, …) by share,
    with a legend naming the parts in order (``chart-seg-<n>`` colours them)."""
    room = WIDTH - LEFT - 16
    body = []
    for i, (label, segments) in enumerate(rows):
        y = 6 + i * (ROW + 6)
        whole = sum(s.value for s in segments) or 1
        x = float(LEFT)
        body.append(f'<text class="chart-label" x="{LEFT - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>')
        for segment in segments:
            width = segment.value / whole * room
            if width <= 0:
                continue
            share = f"{segment.value / whole:.0%}"
            body.append(
                f'<rect class="chart-seg-{names.index(segment.name)}" x="{x:.1f}" y="{y + 2}" width="{width:.1f}" '
                f'height="{ROW - 4}"><title>{escape(label)} · {escape(segment.name)}: {escape(segment.text)} '
                f"({share})</title></rect>"
            )
            x += width
    legend_y = 14 + len(rows) * (ROW + 6)
    x = float(LEFT)
    for n, name in enumerate(names):
        need = 26 + 7.8 * len(name)  # the swatch, the words at 13 px, a gap
        if x + need > WIDTH and x > LEFT:
            x, legend_y = float(LEFT), legend_y + 18
        body.append(
            f'<rect class="chart-seg-{n}" x="{x:.1f}" y="{legend_y}" width="12" height="12" rx="2"></rect>'
            f'<text class="chart-legend" x="{x + 16:.1f}" y="{legend_y + 10}">{escape(name)}</text>'
        )
        x += need
    return _frame(title, desc, legend_y + 22, "".join(body))
