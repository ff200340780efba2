"""Ratio against framework version: for a check run in environments with different versions of a
framework it compares, the deciding cell's ratio and 95% CI of each environment's newest run on a
log axis, one mark per environment, over the versions in order. Drawn like the forest plot
(verify.publish.charts): marker shapes tell environments apart, the band is shaded, 1x is solid
and the claimed ratio dashed, and every mark carries its numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

from kg.environments import BY_PACKAGE, TEXT_FRAMEWORKS, row_versions, short_version
from kg.model import Check, Quantifier
from kg.textutil import natural_key
from verify.judge.explain import tier_framework
from verify.judge.numbers import num, times
from verify.publish.charts import coord, log_ticks, marker_svg, marker_symbol
from verify.publish.checkview import deciding, latest_by_check
from verify.publish.sitedata import SiteData, safe_name

WIDTH, X0, X1 = 720, 70, 600
TOP, PLOT_H, BOTTOM = 24, 200, 48


@dataclass(frozen=True)
class VersionPoint:
    """One environment's newest run of a check: the version, the deciding cell and its numbers."""

    version: str
    env_label: str
    cell: str
    ratio: float
    low: float
    high: float
    marker: int


@dataclass(frozen=True)
class VersionPlot:
    """A check's ratio-against-version chart, its framework's name and its legend."""

    check: Check
    framework: str
    svg: Markup
    legend: list[dict[str, str]]


def _points(data: SiteData, claim_id: str, check: Check) -> tuple[str, list[VersionPoint]]:
    """The framework whose version varies across the check's environments, and one point per
    environment that has a version of it and a deciding cell."""
    rule = check.rule
    found = []
    for env_id, by_check in latest_by_check(data, claim_id).items():
        run, env = by_check.get(check.check_id), data.environments.get(env_id)
        chosen = deciding(rule, data.measurements.get(run.run, [])) if run else None
        if env and chosen and chosen.ratio and chosen.ci_low and chosen.ci_high:
            found.append((env_id, row_versions(env), chosen))
    mine = [tier_framework(rule.subject), tier_framework(rule.baseline)]
    for fw in dict.fromkeys([f for f in mine if f in TEXT_FRAMEWORKS] + list(TEXT_FRAMEWORKS)):
        have = [(e, v[fw], m) for e, v, m in found if v.get(fw)]
        if len({short_version(str(v)) for _, v, _ in have}) < 2:
            continue
        have.sort(key=lambda t: (natural_key(short_version(str(t[1]))), data.env_order.index(t[0])))
        points = [VersionPoint(short_version(str(v)), data.env_label(e), m.cell or "",
                               float(m.ratio or 0), float(m.ci_low or 0), float(m.ci_high or 0), i)
                  for i, (e, v, m) in enumerate(have)]  # fmt: skip
        return fw, points
    return "", []


def version_plots(data: SiteData, claim_id: str) -> list[VersionPlot]:
    """One plot per ratio check of the claim that ran under two or more versions of a framework."""
    out = []
    several = len(data.claims[claim_id].checks) > 1
    for check in data.claims[claim_id].checks:
        if check.rule.quantifier == Quantifier.EXISTS:
            continue
        fw, points = _points(data, claim_id, check)
        if not points:
            continue
        name = BY_PACKAGE[fw].name
        title = f"Ratio against {name} version for {claim_id}" + (
            f", check {check.check_id}" if several else ""
        )
        pid = f"versions-{safe_name(claim_id)}-{safe_name(check.check_id)}"
        svg = version_svg(points, check, name, title, pid)
        legend = [{"symbol": marker_symbol(p.marker), "label": p.env_label} for p in points]
        out.append(VersionPlot(check, name, svg, legend))
    return out


def version_svg(points: list[VersionPoint], check: Check, name: str, title: str,
                pid: str) -> Markup:  # fmt: skip
    """The SVG: versions left to right (environments of one version side by side), the ratio on
    a log scale upwards, each mark with its CI whisker and its value."""
    rule = check.rule
    values = [1.0, rule.floor, rule.ceiling] + [v for p in points for v in (p.low, p.high)]
    lo, hi = min(v for v in values if v > 0) / 1.3, max(values) * 1.3
    span = math.log(hi) - math.log(lo)

    def y(v: float) -> float:
        v = min(max(v, lo), hi)
        return TOP + PLOT_H - (math.log(v) - math.log(lo)) / span * PLOT_H

    versions = list(dict.fromkeys(p.version for p in points))
    slot = (X1 - X0) / len(versions)
    desc = (f"The deciding cell's ratio of each environment's newest run against the {name}"
            f" version, log scale, above 1 the subject better; band {num(rule.floor)}-"
            f"{times(rule.ceiling)}. " + "; ".join(
                f"{name} {p.version}, {p.env_label}: {times(p.ratio)} at {p.cell}"
                f" (95% CI {num(p.low)}-{times(p.high)})" for p in points) + ".")  # fmt: skip
    bottom = TOP + PLOT_H
    out = [
        f'<svg class="version-plot" role="img" viewBox="0 0 {WIDTH} {bottom + BOTTOM}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="{escape(pid)}-t {escape(pid)}-d">',
        f'<title id="{escape(pid)}-t">{escape(title)}</title>',
        f'<desc id="{escape(pid)}-d">{escape(desc)}</desc>',
        f'<rect class="band-area" x="{X0}" y="{coord(y(rule.ceiling))}" width="{X1 - X0}" '
        f'height="{coord(max(y(rule.floor) - y(rule.ceiling), 1))}"/>',
        f'<line class="unity" x1="{X0}" y1="{coord(y(1))}" x2="{X1}" y2="{coord(y(1))}"/>',
        f'<line class="axis" x1="{X0}" y1="{TOP}" x2="{X0}" y2="{bottom}"/>',
        f'<line class="axis" x1="{X0}" y1="{bottom}" x2="{X1}" y2="{bottom}"/>',
    ]
    if not (rule.threshold == 1 and rule.quantifier == Quantifier.ABOUT):
        yc = coord(y(rule.threshold))
        out.append(f'<line class="claimed" x1="{X0}" y1="{yc}" x2="{X1}" y2="{yc}"/>')
        out.append(f'<text class="line-label" x="{X1 + 4}" y="{coord(y(rule.threshold) + 4)}">'
                   f"claimed {rule.threshold:g}x</text>")  # fmt: skip
    for t in log_ticks(lo, hi):
        out.append(f'<text class="tick-label" x="{X0 - 6}" y="{coord(y(t) + 4)}" '
                   f'text-anchor="end">{t:g}x</text>')  # fmt: skip
    for i, version in enumerate(versions):
        here = [p for p in points if p.version == version]
        cx = X0 + slot * (i + 0.5)
        out.append(f'<text class="tick-label" x="{coord(cx)}" y="{bottom + 18}" '
                   f'text-anchor="middle">{escape(name)} {escape(version)}</text>')  # fmt: skip
        for j, p in enumerate(here):
            x = cx + (j - (len(here) - 1) / 2) * 50  # room for the value beside each mark
            tip = f"{name} {p.version}, {p.env_label}: {times(p.ratio)} at {p.cell}"
            out.append(f'<g class="mark"><title>{escape(tip)}</title>')
            out.append(f'<line class="ci" x1="{coord(x)}" y1="{coord(y(p.low))}" '
                       f'x2="{coord(x)}" y2="{coord(y(p.high))}"/>')  # fmt: skip
            out.append(marker_svg(p.marker, x, y(p.ratio)))
            out.append(f'<text class="value" x="{coord(x + 8)}" y="{coord(y(p.ratio) - 6)}">'
                       f"{times(p.ratio)}</text></g>")  # fmt: skip
    out.append(f'<text class="axis-label" x="{(X0 + X1) // 2}" y="{bottom + 38}" '
               f'text-anchor="middle">{escape(name)} version (ratio on a log scale)</text>')  # fmt: skip
    out.append("</svg>")
    return Markup("\n".join(out))
