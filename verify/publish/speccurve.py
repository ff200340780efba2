"""A specification curve as inline SVG: every setup of an exploration, sorted by ratio.

Top panel: one column per specification, its ratio as a marker on a log scale with the 95% CI as
a vertical whisker; the claimed ratio dashed, 1x solid, the region below 1 (the other side wins)
hatched. The marker says the rule's label on that setup without colour: filled = holds, hollow =
does not hold, a cross = inconclusive; the claim's own setup is a larger diamond. Bottom panel:
one row per factor level, a dot in the column of every specification at that level, so a reader
sees which choices sit on which side of the line (after Simonsohn, Simmons & Nelson 2020).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from kg.model import Label
from kg.rows import Specification
from verify.judge.robustness import level_name

LABEL_W = 210
COL_W = 7
TOP_H = 180
ROW_H = 12
PAD = 20
FACTOR_ORDER = ("subject", "baseline", "threads", "layout", "model", "batch", "input")


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _marker(spec: Specification, x: float, y: float) -> str:
    if spec.stated:
        pts = f"{_num(x)},{_num(y - 6)} {_num(x + 6)},{_num(y)} {_num(x)},{_num(y + 6)} {_num(x - 6)},{_num(y)}"
        return f'<polygon class="point stated" points="{pts}"/>'
    if spec.label == Label.HOLDS:
        return f'<circle class="point" cx="{_num(x)}" cy="{_num(y)}" r="2.8"/>'
    if spec.label == Label.DOES_NOT_HOLD:
        return f'<circle class="point hollow" cx="{_num(x)}" cy="{_num(y)}" r="2.8"/>'
    d = f"M{_num(x - 2.5)} {_num(y - 2.5)}L{_num(x + 2.5)} {_num(y + 2.5)}M{_num(x - 2.5)} {_num(y + 2.5)}L{_num(x + 2.5)} {_num(y - 2.5)}"
    return f'<path class="point cross" d="{d}"/>'


def factor_rows(specs: Sequence[Specification]) -> list[tuple[str, str]]:
    """(factor, level) pairs with two or more levels among the specifications, in display order."""
    out = []
    for factor in FACTOR_ORDER:
        levels = sorted({s.factors.get(factor, "") for s in specs} - {""},
                        key=lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0, v))  # fmt: skip
        if len(levels) >= 2:
            out += [(factor, level) for level in levels]
    return out


def spec_curve(
    specs: Sequence[Specification], *, chart_id: str, claimed: float, title: str, summary: str
) -> Markup:
    """The specification curve of one exploration, as an inline <svg>."""
    specs = sorted((s for s in specs if s.ratio > 0), key=lambda s: (s.ratio, s.ci_low))
    if not specs:
        return Markup("")
    values = [claimed, 1.0] + [v for s in specs for v in (s.ci_low, s.ci_high) if v > 0]
    lo, hi = min(values) / 1.2, max(values) * 1.2
    span = math.log(hi) - math.log(lo)

    def y(v: float) -> float:
        return PAD + (1 - (math.log(min(max(v, lo), hi)) - math.log(lo)) / span) * TOP_H

    def x(i: int) -> float:
        return LABEL_W + COL_W * (i + 0.5)

    rows = factor_rows(specs)
    width = LABEL_W + COL_W * len(specs) + PAD
    height = PAD + TOP_H + PAD + ROW_H * len(rows) + PAD
    pid = escape(chart_id)
    out = [
        f'<svg class="chart spec-curve" role="img" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="{pid}-t {pid}-d">',
        f'<title id="{pid}-t">{escape(title)}</title>',
        f'<desc id="{pid}-d">{escape(summary)}</desc>',
        f'<defs><pattern id="{pid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" class="hatch"/></pattern></defs>',
    ]
    x0, x1, y1 = LABEL_W, width - PAD, y(1.0)
    out.append(f'<rect class="reversal" x="{x0}" y="{_num(y1)}" width="{_num(x1 - x0)}" '
               f'height="{_num(PAD + TOP_H - y1)}" fill="url(#{pid}-hatch)"/>')  # fmt: skip
    for v, cls, name in ((1.0, "one", "1x"), (claimed, "claimed", f"claimed {claimed:g}x")):
        out.append(
            f'<line class="{cls}" x1="{x0}" x2="{_num(x1)}" y1="{_num(y(v))}" y2="{_num(y(v))}"/>'
        )
        out.append(
            f'<text class="axis" x="{x0 - 4}" y="{_num(y(v) + 4)}" text-anchor="end">{escape(name)}</text>'
        )
    for i, s in enumerate(specs):
        out.append(
            f'<line class="ci" x1="{_num(x(i))}" x2="{_num(x(i))}" y1="{_num(y(s.ci_low))}" y2="{_num(y(s.ci_high))}"/>'
        )
        out.append(_marker(s, x(i), y(s.ratio)))
    top = PAD + TOP_H + PAD
    for r, (factor, level) in enumerate(rows):
        yy = top + ROW_H * r + ROW_H / 2
        out.append(f'<text class="level" x="{x0 - 4}" y="{_num(yy + 3.5)}" text-anchor="end">'
                   f"{escape(level_name(factor, level))}</text>")  # fmt: skip
        for i, s in enumerate(specs):
            if s.factors.get(factor) == level:
                out.append(f'<circle class="dot" cx="{_num(x(i))}" cy="{_num(yy)}" r="2.2"/>')
    out.append("</svg>")
    return Markup("".join(out))
