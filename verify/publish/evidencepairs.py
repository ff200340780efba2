"""A claim's published numbers grouped by matched pair: a PyTorch figure and a TensorFlow (or JAX)
figure from the same source for the same setup make one row, with both values at three
significant digits, their ratio in the claim's orientation (above 1: the claim's subject is
better) and a sentence that sets it against this machine's measurement. A figure without a
partner stays a row of its own; no figure is shown twice.

A setup is the source, phase, model, hardware, device, batch, input, metric, unit and technique;
where one side has several figures for a setup, they are paired in date order and the rest stay
single. A pair is oriented by the claim's check that compares the same two frameworks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from kg.model import Check, Quantifier, Rule
from kg.rows import Evidence, Measurement
from verify.judge.explain import FRAMEWORK_NAMES, TIME_UNITS, tier_framework
from verify.judge.numbers import num, significant, times
from verify.publish.checkview import deciding, latest_by_check
from verify.publish.sitedata import SiteData

PREFERRED = (("torch", "tensorflow"), ("torch", "jax"), ("torch", "keras"))


@dataclass(frozen=True)
class EvidenceRow:
    """One row of the published numbers: a pair (subject's and baseline's figure, oriented ratio,
    the check it is set against) or a single figure (baseline None)."""

    subject: Evidence
    baseline: Evidence | None = None
    ratio: float | None = None
    check: Check | None = None
    sentence: str = ""

    @property
    def figures(self) -> list[str]:
        """The row's figures in words, subject's first ('PyTorch 0.1.12: 97.2 h')."""
        return [figure_text(e) for e in (self.subject, self.baseline) if e is not None]

    @property
    def setup(self) -> str:
        """What the figures were measured in."""
        return setup_text(self.subject)

    @property
    def dates(self) -> str:
        """When the figures were published ('2017-10-11', or both dates where they differ)."""
        days = [e.date for e in (self.subject, self.baseline) if e is not None and e.date]
        return " / ".join(dict.fromkeys(days))

    @property
    def ratio_shown(self) -> str:
        """The oriented ratio as a multiple ('0.41x'; '' for a single figure)."""
        return times(self.ratio) if self.baseline is not None and self.ratio else ""

    @property
    def ratio_words(self) -> str:
        """The pair's ratio as a winner and a factor: 'TensorFlow 2.42x faster' ('' if single)."""
        if self.baseline is None or not self.ratio:
            return ""
        ahead = self.subject if self.ratio >= 1 else self.baseline
        how = "faster" if (self.subject.unit or "") in TIME_UNITS else "better"
        name = FRAMEWORK_NAMES.get(ahead.framework or "", ahead.framework or "")
        return f"{name} {times(max(self.ratio, 1 / self.ratio))} {how}"


def setup_key(e: Evidence) -> tuple[str, ...]:
    """What two figures must share to be a pair: everything but the framework and its version."""
    fields = (e.source, e.phase, e.model, e.hardware, e.device, e.batch, e.input, e.metric,
              e.unit, e.technique)  # fmt: skip
    return tuple(f or "" for f in fields)


def _frameworks(check: Check) -> tuple[str | None, str | None]:
    return tier_framework(check.rule.subject), tier_framework(check.rule.baseline)


def oriented_ratio(subject: Evidence, baseline: Evidence, rule: Rule | None) -> float:
    """The pair's ratio with above 1 meaning the subject is better: times are lower-is-better,
    other figures follow the rule (higher-is-better without one)."""
    lower = (subject.unit or "") in TIME_UNITS or (
        rule is not None and not subject.unit and rule.better == "lower"
    )
    s, b = float(subject.value), float(baseline.value)
    return b / s if lower else s / b


def pair_evidence(rows: Sequence[Evidence], checks: Sequence[Check]) -> list[EvidenceRow]:
    """The figures as rows: matched pairs first in the order their setups first appear, each
    oriented by the check comparing the same frameworks (PyTorch as subject without one), then
    the figures without a partner."""
    groups: dict[tuple[str, ...], dict[str, list[Evidence]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for e in rows:
        groups[setup_key(e)][e.framework or ""].append(e)
    compared = [_frameworks(k) for k in checks]
    wanted = [(a, b) for a, b in compared if a and b and a != b]
    order = list(dict.fromkeys([*wanted, *PREFERRED]))
    pairs, singles = [], []
    for sides in groups.values():
        for figures in sides.values():
            figures.sort(key=lambda e: (e.date or "", e.id))
        for a, b in order:
            while sides.get(a) and sides.get(b):
                first, second = sides[a].pop(0), sides[b].pop(0)
                pairs.append(_oriented(first, second, checks))
        singles += [e for figures in sides.values() for e in figures]
    return pairs + [EvidenceRow(e) for e in sorted(singles, key=lambda e: e.id)]


def _oriented(first: Evidence, second: Evidence, checks: Sequence[Check]) -> EvidenceRow:
    for k in checks:
        sub, base = _frameworks(k)
        if {sub, base} == {first.framework, second.framework}:
            s, b = (first, second) if first.framework == sub else (second, first)
            return EvidenceRow(s, b, oriented_ratio(s, b, k.rule), k)
    return EvidenceRow(first, second, oriented_ratio(first, second, None))


def _where(value: float, low: float, high: float) -> str:
    return "inside" if low <= value <= high else ("below" if value < low else "above")


def sentence(ratio: float, rule: Rule | None, here: Measurement | None) -> str:
    """One sentence relating a published ratio to what was measured here: inside, below or above
    this machine's 95% CI of the deciding cell, in relation to the claim's band (or, for a
    direction claim, its side of 1), and on which side of 1 it lies."""
    if rule is None or rule.quantifier == Quantifier.EXISTS:
        return (f"The published ratio, {times(ratio)}, compares frameworks that none of the"
                " claim's checks compares, so it is not set against a measurement here.")  # fmt: skip
    parts = []
    if rule.direction:
        parts.append("on the claim's side of 1" if ratio > 1 else "against the claim's direction")
    else:
        band = f"{num(rule.floor)}-{times(rule.ceiling)}"
        parts.append(f"{_where(ratio, rule.floor, rule.ceiling)} the claim's band ({band})")
    head = f"The published ratio, {times(ratio)}, lies"
    if here is None or here.ratio is None:
        return f"{head} {' and '.join(parts)}; this machine has not measured the check yet."
    if here.ci_low is not None and here.ci_high is not None:
        ci = f"{num(here.ci_low)}-{times(here.ci_high)}"
        where = f" at {here.cell}" if here.cell else ""
        parts.insert(0, f"{_where(ratio, here.ci_low, here.ci_high)} this machine's 95% CI"
                        f" ({ci}{where})")  # fmt: skip
    same = (ratio - 1) * (here.ratio - 1) > 0
    side = "on the same side of 1 as" if same else "on the other side of 1 from"
    parts.append(f"{side} this machine's {times(here.ratio)}")
    return f"{head} {', '.join(parts[:-1])} and {parts[-1]}."


def evidence_rows(data: SiteData, claim_id: str) -> list[EvidenceRow]:
    """The claim's published numbers as pair and single rows, each pair with its sentence."""
    c = data.claims[claim_id]
    here_runs = latest_by_check(data, claim_id).get(data.here or "", {})
    out = []
    for row in pair_evidence(data.evidence.get(claim_id, []), c.checks):
        if row.baseline is None or row.ratio is None:
            out.append(row)
            continue
        run = here_runs.get(row.check.check_id) if row.check else None
        cells = data.measurements.get(run.run, []) if run else []
        here = deciding(row.check.rule, cells) if row.check and cells else None
        text = sentence(row.ratio, row.check.rule if row.check else None, here)
        out.append(EvidenceRow(row.subject, row.baseline, row.ratio, row.check, text))
    return out


def figure_text(e: Evidence) -> str:
    """A figure at three significant digits with its unit and framework: 'PyTorch 0.1.12: 97.2 h'."""
    fw = FRAMEWORK_NAMES.get(e.framework or "", e.framework or "")
    value = f"{significant(float(e.value))} {e.unit or ''}".strip()
    return f"{fw} {e.version or ''}".strip() + f": {value}" if fw else value


def setup_text(e: Evidence) -> str:
    """The setup a figure was measured in: model, what was measured, batch, hardware."""
    return ", ".join(p for p in (e.model, e.metric, e.batch, e.hardware) if p)
