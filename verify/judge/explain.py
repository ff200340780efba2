"""Sentences a ratio verdict adds beyond its label: what the ratio is made of when one side's
time is mostly a fixed cost per call, and which published figures disagree with it. Pure.

- **Fixed cost.** For a latency rule, when one side's median time per call changes by less than
  ``FLAT`` (25%) from the smallest to the largest input at a batch size while the other side's
  grows, the ratio there mostly measures that side's fixed cost per call; the sentence gives that
  side's time at the smallest cell, and the time of a direct call on the same model where the
  run measured one beside a ``predict`` tier.
- **Contrary evidence.** Published measurements bearing on the claim (kg.rows.Evidence, passed
  in) are paired by source, hardware, model and what they measured, one figure per framework;
  a pair on the run's kind of device whose ratio points the other way from a decided verdict is
  named, with its hardware, date and ratio.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kg.model import Label, Quantifier, Rule

if TYPE_CHECKING:
    from kg.rows import Evidence

FLAT = 0.25  # a side whose time changes less than this across inputs is a fixed cost per call
TIME_UNITS = {"ms", "s", "h", "min"}  # published figures in these units are times: lower wins
FRAMEWORK_NAMES = {"torch": "PyTorch", "tensorflow": "TensorFlow", "jax": "JAX",
                   "keras": "Keras 3 on JAX"}  # fmt: skip


@dataclass(frozen=True)
class CellEstimate:
    """One condition cell's oriented ratio and its confidence interval; where known, both sides'
    median time per call (seconds), the cell's batch and input size, and the time of a direct
    call measured beside a side's ``predict`` tier."""

    label: str
    ratio: float
    low: float
    high: float
    subject_value: float | None = None
    baseline_value: float | None = None
    batch: int | None = None
    size: int | None = None
    subject_direct: float | None = None
    baseline_direct: float | None = None


def tier_framework(tier: str | None) -> str | None:
    """The framework a tier runs on (torch-eager -> torch, keras-predict -> tensorflow)."""
    if not tier:
        return None
    if tier.startswith("torch"):
        return "torch"
    if tier.startswith("keras-jax"):
        return "keras"
    if tier.startswith("jax"):
        return "jax"
    if tier.startswith(("keras", "tf")) or tier == "tensorflow":
        return "tensorflow"
    return tier


def _ms(seconds: float) -> str:
    ms = seconds * 1000.0
    return f"{ms:.1f} ms" if ms >= 1 else f"{ms:.2f} ms"


def fixed_cost_note(rule: Rule, cells: Sequence[CellEstimate], names: dict[str, str]) -> str:
    """' Keras predict's time per call barely changes ...' or '' (see the module docstring);
    ``names`` maps "subject" and "baseline" to the tiers' names."""
    if "latency" not in rule.metric:
        return ""
    by_batch: dict[int, list[CellEstimate]] = defaultdict(list)
    for c in cells:
        if c.batch is not None and c.size is not None and c.subject_value and c.baseline_value:
            by_batch[c.batch].append(c)
    for side, other in (("baseline", "subject"), ("subject", "baseline")):
        flat = []
        for batch, row in sorted(by_batch.items()):
            small, large = min(row, key=lambda c: c.size or 0), max(row, key=lambda c: c.size or 0)
            if small.size == large.size:
                continue
            mine = _value(large, side) / _value(small, side)
            theirs = _value(large, other) / _value(small, other)
            if abs(mine - 1.0) < FLAT and theirs >= 1.0 + FLAT:
                flat.append((batch, small, large, theirs))
        if flat:
            return _fixed_cost_sentence(side, other, flat, names)
    return ""


def _value(c: CellEstimate, side: str) -> float:
    return float((c.subject_value if side == "subject" else c.baseline_value) or 0.0)


def _fixed_cost_sentence(
    side: str, other: str, flat: list[tuple[int, CellEstimate, CellEstimate, float]],
    names: dict[str, str],
) -> str:  # fmt: skip
    batch, small, large, growth = flat[0]
    batches = ", ".join(str(b) for b, *_ in flat)
    text = (
        f" {names[side]}'s time per call barely changes from {small.size} to {large.size} px at"
        f" batch {batches} ({_ms(_value(small, side))} to {_ms(_value(large, side))} at batch"
        f" {batch}) while {names[other]}'s grows {growth:.1f}x: there the ratio is mostly"
        f" {names[side]}'s fixed cost per call, about {_ms(_value(small, side))} at the smallest"
        " cell."
    )
    direct = small.baseline_direct if side == "baseline" else small.subject_direct
    if direct:
        text += f" A direct call of the same model took {_ms(direct)} there in the same run."
    return text


def _pairs(
    rule: Rule, evidence: Sequence[Evidence], device: str
) -> list[tuple[Evidence, Evidence, float]]:
    """(subject's figure, baseline's figure, oriented ratio) per comparable published pair."""
    want = {tier_framework(rule.subject): "subject", tier_framework(rule.baseline): "baseline"}
    groups: dict[tuple[str, ...], dict[str, Evidence]] = defaultdict(dict)
    run = "gpu" if device in ("cuda", "gpu") else device
    for e in evidence:
        if e.framework not in want or (e.unit or "") not in TIME_UNITS or not e.value:
            continue
        if run and e.device and e.device != run:
            continue
        key = (e.source, e.hardware or "", e.model or "", e.metric or "", e.phase or "")
        groups[key].setdefault(want[e.framework], e)
    out = []
    for sides in groups.values():
        if "subject" in sides and "baseline" in sides:
            s, b = sides["subject"], sides["baseline"]
            out.append((s, b, float(b.value) / float(s.value)))  # times: above 1, subject wins
    return out


def _disagrees(rule: Rule, label: Label, ratio: float, tie: float) -> bool:
    if label not in (Label.HOLDS, Label.DOES_NOT_HOLD):
        return False
    if rule.quantifier == Quantifier.ABOUT:
        inside = rule.floor <= ratio <= rule.ceiling
        return inside != (label == Label.HOLDS)
    if label == Label.HOLDS:
        return ratio < 1.0 / (1.0 + tie)  # the other side won in the published figures
    return ratio >= max(rule.floor, 1.0 + tie)  # the published figures reach the claim


def contrary_evidence(
    rule: Rule, label: Label, evidence: Sequence[Evidence], device: str, tie: float
) -> str:
    """' Published 2017 figures on 60 GB / 16 CPU disagree: TensorFlow 2.42x faster (...).' for
    each hardware whose published pair contradicts the verdict; '' when none does."""
    found: dict[tuple[str, str], list[tuple[Evidence, Evidence, float]]] = defaultdict(list)
    for s, b, ratio in _pairs(rule, evidence, device):
        if _disagrees(rule, label, ratio, tie):
            found[(s.source, s.hardware or "")].append((s, b, ratio))
    parts = []
    for (source, hardware), rows in sorted(found.items()):
        year = (rows[0][0].date or "")[:4]
        what = rows[0][0].metric or "time"
        ratios = sorted(r for *_, r in rows)
        faster = [r for r in ratios if r >= 1.0]
        if faster:
            who, lo, hi = rows[0][0].framework, min(faster), max(faster)
        else:
            who, lo, hi = rows[0][1].framework, 1.0 / max(ratios), 1.0 / min(ratios)
        span = f"{lo:.2f}x" if abs(hi - lo) < 0.005 else f"{lo:.2f}-{hi:.2f}x"
        models = ", ".join(sorted({s.model or "" for s, _, _ in rows} - {""}))
        parts.append(
            f" Published {year} figures ({source}) on {hardware} disagree:"
            f" {FRAMEWORK_NAMES.get(who or '', who)} {span} faster ({what}"
            + (f", {models}" if models else "")
            + ")."
        )
    return "".join(parts)
