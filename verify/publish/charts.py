"""Inline SVG charts for the site, drawn in Python so the pages need no script to show them.

`ratio_chart` is a forest plot: one row per measured cell (batch / input size), grouped by
environment, the ratio as a marker with its 95% CI as a whisker, the claimed ratio as a dashed
line with its tolerance band, ratio = 1 as a solid line, and the region below 1 (the baseline
wins: a reversal) hatched. It reads without colour: environments differ by marker shape, lines by
dash pattern, regions by hatching, a legend names each mark, and every row carries its numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
LABEL_X = 230  # right edge of the cell labels; environment headings start at the left
PLOT_X0, PLOT_X1 = 240, 560
ROW_H = 24
TOP = 30
BOTTOM = 44
LEGEND_H = 24
MARKERS = ("circle", "square", "triangle", "diamond", "cross")
SYMBOLS = {"circle": "●", "square": "■", "triangle": "▲", "diamond": "◆", "cross": "✕"}


@dataclass(frozen=True)
class ChartRow:
    """One measured cell: where it ran, which cell, the ratio and its CI."""

    environment: str
    cell: str
    ratio: float
    low: float | None
    high: float | None
    marker: int = 0


def marker_symbol(kind: int) -> str:
    """The text symbol of a marker shape, for legends outside the SVG."""
    return SYMBOLS[MARKERS[kind % len(MARKERS)]]


def _fmt(x: float) -> str:
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def coord(x: float) -> str:
    """Coordinates rounded so the same input always gives the same bytes."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def log_ticks(lo: float, hi: float) -> list[float]:
    """Tick values for a log axis from lo to hi: 1, 2 and 5 per decade, or only powers of ten."""
    out = []
    for exp in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0**exp
            if lo <= v <= hi:
                out.append(v)
    if len(out) > 9:  # keep labels apart: only powers of ten
        out = [v for v in out if math.isclose(math.log10(v), round(math.log10(v)))]
    return out


def marker_svg(kind: int, x: float, y: float) -> str:
    """The SVG of marker shape `kind` (circle, square, ...) centred at (x, y)."""
    shape = MARKERS[kind % len(MARKERS)]
    if shape == "circle":
        return f'<circle class="point" cx="{coord(x)}" cy="{coord(y)}" r="5"/>'
    if shape == "square":
        return (
            f'<rect class="point" x="{coord(x - 4.5)}" y="{coord(y - 4.5)}" width="9" height="9"/>'
        )
    if shape == "triangle":
        pts = [(x, y - 6), (x + 6, y + 5), (x - 6, y + 5)]
    elif shape == "diamond":
        pts = [(x, y - 6), (x + 6, y), (x, y + 6), (x - 6, y)]
    else:
        d = f"M{coord(x - 5)} {coord(y - 5)}L{coord(x + 5)} {coord(y + 5)}M{coord(x - 5)} {coord(y + 5)}L{coord(x + 5)} {coord(y - 5)}"
        return f'<path class="point cross" d="{d}"/>'
    return f'<polygon class="point" points="{" ".join(f"{coord(a)},{coord(b)}" for a, b in pts)}"/>'


def ratio_chart(
    rows: Sequence[ChartRow],
    *,
    chart_id: str,
    claimed: float,
    tolerance: float,
    subject: str,
    baseline: str,
    title: str,
    band: tuple[float, float] | None = None,
    tie: bool = False,
) -> Markup:
    """A forest plot of measured ratios against the claimed one, as an inline <svg>; `band` is
    the rule's tolerance band (default: the claim ± its tolerance); a `tie` claim (favours
    neither side) is drawn as that band around 1x, with no "reversed" region."""
    rows = [r for r in rows if r.ratio and r.ratio > 0]
    if not rows:
        return Markup("")
    band = band or (claimed * (1 - tolerance), claimed * (1 + tolerance))
    values = [*band, 1.0]
    for r in rows:
        values += [r.ratio] + [v for v in (r.low, r.high) if v and v > 0]
    lo, hi = min(values) / 1.3, max(values) * 1.3
    span = math.log(hi) - math.log(lo)

    def x(v: float) -> float:
        v = min(max(v, lo), hi)
        return PLOT_X0 + (math.log(v) - math.log(lo)) / span * (PLOT_X1 - PLOT_X0)

    layout = _layout(rows)
    plot_h = ROW_H * len(layout)
    y_end = TOP + plot_h
    pid = escape(chart_id)
    desc = (
        f"Ratio of {subject} to {baseline}, oriented so that above 1 means {subject} is better; "
        f"claimed {claimed:g}x (tolerance {tolerance:.0%}). "
        + "; ".join(_row_text(r) for r in rows)
        + "."
    )
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {y_end + BOTTOM + LEGEND_H}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="{pid}-t {pid}-d">',
        f'<title id="{pid}-t">{escape(title)}</title>',
        f'<desc id="{pid}-d">{escape(desc)}</desc>',
        "<defs>",
        f'<pattern id="{pid}-hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="8" class="hatch"/></pattern>',
        f'<pattern id="{pid}-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<circle cx="3" cy="3" r="1" class="dots"/></pattern>',
        "</defs>",
    ]
    x1 = x(1.0)
    if x1 > PLOT_X0 and not tie:
        out.append(
            f'<rect class="reversed" x="{PLOT_X0}" y="{TOP}" width="{coord(x1 - PLOT_X0)}" '
            f'height="{plot_h}" fill="url(#{pid}-hatch)"/>'
        )
    out += _band(band, x, claimed, tie, pid, y_end)
    out.append(f'<line class="unity" x1="{coord(x1)}" y1="{TOP}" x2="{coord(x1)}" y2="{y_end}"/>')
    out += _axis(log_ticks(lo, hi), x, y_end, subject)
    out += _rows(layout, x, tie)
    out += _legend(pid, y_end + BOTTOM, claimed, baseline, tie)
    out.append("</svg>")
    return Markup("\n".join(out))


def _band(band: tuple[float, float], x: Callable[[float], float], claimed: float, tie: bool, pid: str,
          y_end: int) -> list[str]:  # fmt: skip
    """The tolerance band (shaded, dotted, dashed edges) and the claimed line, or for a tie the
    band alone around 1x."""
    out: list[str] = []
    plot_h = y_end - TOP
    b0, b1 = x(band[0]), x(band[1])
    width = coord(max(b1 - b0, 1))
    out.append(
        f'<rect class="band-area" x="{coord(b0)}" y="{TOP}" width="{width}" height="{plot_h}"/>'
    )
    out.append(
        f'<rect class="band" x="{coord(b0)}" y="{TOP}" width="{width}" '
        f'height="{plot_h}" fill="url(#{pid}-dots)"/>'
    )
    for edge in (b0, b1):
        out.append(
            f'<line class="band-edge" x1="{coord(edge)}" y1="{TOP}" x2="{coord(edge)}" y2="{y_end}"/>'
        )
    xc = x(claimed)
    what = f"tie: {_fmt(band[0])}-{_fmt(band[1])}x" if tie else f"claimed {claimed:g}x"
    if not tie:
        out.append(
            f'<line class="claimed" x1="{coord(xc)}" y1="{TOP - 8}" x2="{coord(xc)}" y2="{y_end}"/>'
        )
    out.append(
        f'<text class="line-label" x="{coord(xc)}" y="{TOP - 12}" text-anchor="middle">{what}</text>'
    )
    return out


def _layout(rows: Sequence[ChartRow]) -> list[ChartRow | tuple[str, int]]:
    """Rows in order, with a heading line before each named environment's group."""
    out: list[ChartRow | tuple[str, int]] = []
    current = None
    for r in rows:
        if r.environment and r.environment != current:
            out.append((r.environment, r.marker))
        current = r.environment
        out.append(r)
    return out


def _row_text(r: ChartRow) -> str:
    ci = f", 95% CI {_fmt(r.low)} to {_fmt(r.high)}" if r.low and r.high else ", no CI"
    where = f"{r.environment}, " if r.environment else ""
    return f"{where}{r.cell or 'single cell'}: {_fmt(r.ratio)}x{ci}"


def _axis(ticks: list[float], x, y_end: int, subject: str) -> list[str]:
    out = [f'<line class="axis" x1="{PLOT_X0}" y1="{y_end}" x2="{PLOT_X1}" y2="{y_end}"/>']
    for t in ticks:
        xt = coord(x(t))
        out.append(f'<line class="tick" x1="{xt}" y1="{y_end}" x2="{xt}" y2="{y_end + 5}"/>')
        out.append(
            f'<text class="tick-label" x="{xt}" y="{y_end + 18}" text-anchor="middle">{t:g}</text>'
        )
    out.append(
        f'<text class="axis-label" x="{(PLOT_X0 + PLOT_X1) // 2}" y="{y_end + 36}" '
        f'text-anchor="middle">ratio, log scale (above 1: {escape(subject)} better)</text>'
    )
    return out


def _rows(layout: Sequence[ChartRow | tuple[str, int]], x, tie: bool = False) -> list[str]:
    out = []
    for i, item in enumerate(layout):
        y = TOP + ROW_H * i + ROW_H / 2
        if isinstance(item, tuple):
            label, marker = item
            out.append(
                f'<text class="group-label" x="8" y="{coord(y + 4)}">'
                f"{marker_symbol(marker)} {escape(label)}</text>"
            )
            continue
        r = item
        cell = r.cell or "all"
        short = cell if len(cell) <= 30 else cell[:29] + "…"
        out.append(
            f'<g class="cell" data-ratio="{_fmt(r.ratio)}"><title>{escape(_row_text(r))}</title>'
        )
        out.append(
            f'<text class="row-label" x="{LABEL_X}" y="{coord(y + 4)}" text-anchor="end">'
            f"{escape(short)}</text>"
        )
        if r.low and r.high:
            a, b = coord(x(r.low)), coord(x(r.high))
            y0, y1, yy = coord(y - 5), coord(y + 5), coord(y)
            out.append(f'<line class="ci" x1="{a}" y1="{yy}" x2="{b}" y2="{yy}"/>')
            out.append(f'<line class="ci-cap" x1="{a}" y1="{y0}" x2="{a}" y2="{y1}"/>')
            out.append(f'<line class="ci-cap" x1="{b}" y1="{y0}" x2="{b}" y2="{y1}"/>')
        out.append(marker_svg(r.marker, x(r.ratio), y))
        ci = f" ({_fmt(r.low)}–{_fmt(r.high)})" if r.low and r.high else ""
        flag = " reversed" if (r.high or r.ratio) < 1 and not tie else ""
        out.append(
            f'<text class="value" x="{PLOT_X1 + 8}" y="{coord(y + 4)}">{_fmt(r.ratio)}x{ci}{flag}</text>'
        )
        out.append("</g>")
    return out


def _legend(pid, y: int, claimed: float, baseline: str, tie: bool = False) -> list[str]:
    """Sample marks with their meaning, so no line or region depends on colour to be read."""
    band = (
        f'<rect class="band-area" x="310" y="1" width="26" height="14"/>'
        f'<rect class="band" x="310" y="1" width="26" height="14" fill="url(#{pid}-dots)"/>'
    )
    if tie:  # a claim that favours neither side: only the band around 1x means anything
        return [
            f'<g class="legend" transform="translate(0 {y})">',
            '<line class="unity" x1="150" y1="8" x2="180" y2="8"/><text x="186" y="12">1x: no difference</text>',
            band + '<text x="342" y="12">tie band: neither meaningfully better</text>',
            "</g>",
        ]
    return [
        f'<g class="legend" transform="translate(0 {y})">',
        f'<line class="claimed" x1="10" y1="8" x2="40" y2="8"/><text x="46" y="12">claimed {claimed:g}x</text>',
        '<line class="unity" x1="150" y1="8" x2="180" y2="8"/><text x="186" y="12">1x: no difference</text>',
        band + '<text x="342" y="12">tolerance band</text>',
        f'<rect class="reversed" x="450" y="1" width="26" height="14" fill="url(#{pid}-hatch)"/>'
        f'<text x="482" y="12">reversed: {escape(baseline)} better</text>',
        "</g>",
    ]
