"""A claim's runs table: one compact row per run with its date, the environment's short label, the
verdict, the deciding cell's ratio and 95% CI, and a sparkline of every cell's ratio on a log
scale with the claim's band shaded. All rows share one scale, so they can be compared by eye;
the per-cell numbers stay in each row's <details> and in the runs CSV."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from kg.model import Check, Rule
from kg.rows import Measurement, Run
from verify.judge.numbers import num, times
from verify.publish.charts import coord
from verify.publish.checkview import deciding, measured_text
from verify.publish.sitedata import SiteData

SPARK_W, SPARK_H, PAD = 160, 36, 3


@dataclass(frozen=True)
class RunRow:
    """A row of a claim's run table."""

    run: Run
    env_short: str
    env_label: str
    check_id: str
    deciding: str  # the deciding cell's ratio and CI in words ("" for a probe)
    deciding_cell: str
    spark: Markup
    cells: list[Measurement]
    record_href: str | None


@dataclass(frozen=True)
class LogScale:
    """The sparklines' shared vertical log scale: lo at the bottom, hi at the top."""

    lo: float
    hi: float

    def y(self, v: float) -> float:
        """The y coordinate of ratio v (clamped to the scale)."""
        v = min(max(v, self.lo), self.hi)
        share = (math.log(v) - math.log(self.lo)) / (math.log(self.hi) - math.log(self.lo))
        return SPARK_H - PAD - share * (SPARK_H - 2 * PAD)


def spark_scale(cells: Iterable[Measurement], checks: Iterable[Check]) -> LogScale:
    """One scale for every sparkline of a table: its cells, CIs, the checks' bands and 1x."""
    values = [1.0]
    for m in cells:
        values += [v for v in (m.ratio, m.ci_low, m.ci_high) if v is not None and v > 0]
    for k in checks:
        values += [v for v in (k.rule.floor, k.rule.ceiling) if v > 0]
    return LogScale(min(values) / 1.15, max(values) * 1.15)


def sparkline(cells: Sequence[Measurement], rule: Rule, chosen: Measurement | None,
              scale: LogScale) -> Markup:  # fmt: skip
    """An inline SVG: each cell's ratio (a dot) and CI (a stroke) left to right, the band shaded,
    1x dashed, the deciding cell ringed; its <title> says the same in words."""
    cells = [m for m in cells if m.ratio is not None and m.ratio > 0]
    if not cells:
        return Markup("")
    step = (SPARK_W - 2 * PAD) / len(cells)
    top, bottom = scale.y(rule.ceiling), scale.y(rule.floor)
    out = [f'<rect class="band-area" x="0" y="{coord(top)}" width="{SPARK_W}" '
           f'height="{coord(max(bottom - top, 2))}"/>',
           f'<line class="unity" x1="0" y1="{coord(scale.y(1))}" x2="{SPARK_W}" '
           f'y2="{coord(scale.y(1))}"/>']  # fmt: skip
    words = []
    for i, m in enumerate(cells):
        assert m.ratio is not None
        x = PAD + step * (i + 0.5)
        ci = ""
        if m.ci_low is not None and m.ci_high is not None:
            out.append(f'<line class="ci" x1="{coord(x)}" y1="{coord(scale.y(m.ci_low))}" '
                       f'x2="{coord(x)}" y2="{coord(scale.y(m.ci_high))}"/>')  # fmt: skip
            ci = f" ({num(m.ci_low)}-{times(m.ci_high)})"
        ring = m is chosen
        out.append(f'<circle class="point{" deciding" if ring else ""}" cx="{coord(x)}" '
                   f'cy="{coord(scale.y(m.ratio))}" r="{3.2 if ring else 2}"/>')  # fmt: skip
        words.append(f"{m.cell or 'cell'} {times(m.ratio)}{ci}{' (deciding)' if ring else ''}")
    title = (f"Ratio per cell, log scale {num(scale.lo)}-{times(scale.hi)}, above 1 the subject"
             f" better; band {num(rule.floor)}-{times(rule.ceiling)} shaded: " + "; ".join(words))  # fmt: skip
    return Markup(
        f'<svg class="spark" role="img" viewBox="0 0 {SPARK_W} {SPARK_H}" width="{SPARK_W}" '
        f'height="{SPARK_H}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        + "".join(out)
        + "</svg>"
    )


def run_rows(data: SiteData, claim_id: str) -> list[RunRow]:
    """The run table: newest first, one row per run."""
    c = data.claims[claim_id]
    checks = {k.check_id: k for k in c.checks}
    runs = data.runs_by_claim.get(claim_id, [])
    scale = spark_scale((m for r in runs for m in data.measurements.get(r.run, [])), c.checks)
    out = []
    for r in runs:
        cells = data.measurements.get(r.run, [])
        check = checks.get(r.check_id) or (c.checks[0] if c.checks else None)
        chosen = deciding(check.rule, cells) if check else None
        env = data.environments.get(r.environment)
        out.append(RunRow(
            run=r,
            env_short=env.short if env and env.short else data.env_label(r.environment),
            env_label=data.env_label(r.environment),
            check_id=r.check_id,
            deciding=measured_text(check.rule, chosen) if check and chosen else "",
            deciding_cell=(chosen.cell or "") if chosen else "",
            spark=sparkline(cells, check.rule, chosen, scale) if check else Markup(""),
            cells=cells,
            record_href=record_href(r.record),
        ))  # fmt: skip
    return out


def record_href(record: str | None) -> str | None:
    """Where a raw record is copied in the site (records/<environment>/<file>.json)."""
    prefix = "data/results/"
    if not record or not record.startswith(prefix) or ".." in record:
        return None
    return "records/" + record[len(prefix) :]
