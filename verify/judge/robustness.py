"""How far a verdict generalises: a claim judged by its own rule in every specification of its
multiverse (a specification curve), summarised. Pure functions, no I/O.

A specification is one reasonable setup of the claim's measurement (which API tier on each side,
threads, memory layout, model, batch and input size) with its oriented ratio and 95% CI, judged as
if the claim had been stated for that setup alone. The summary gives the share of specifications
in which the claim holds, does not hold, or is *reversed* (the CI lies wholly below 1: the other
side wins), the factor whose levels best separate holding from not holding, and a label:

- **robust**: the claim holds in at least 90% of the specifications;
- **reversed**: the other side wins (CI below 1) in more than half of them;
- **fragile**: it holds as stated, but some factor has a level where it holds in at least 75% of
  the specifications and another where it holds in at most 25%: it turns on that factor;
- **mixed**: anything else.

The claim's own verdict stays the verdict on the claim as stated; the label says how far it
generalises (after Simonsohn, Simmons & Nelson 2020 on specification curves, and Steegen et al.
2016 on multiverse analysis).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kg.model import Label, Rule
from verify.judge.explain import CellEstimate
from verify.judge.verdicts import judge, tier_name

ROBUST_SHARE = 0.9
REVERSED_SHARE = 0.5
SPLIT_HIGH, SPLIT_LOW = 0.75, 0.25


class Robustness(StrEnum):
    """How far a claim's verdict generalises over its specifications."""

    ROBUST = "robust"
    FRAGILE = "fragile"
    MIXED = "mixed"
    REVERSED = "reversed"


@dataclass(frozen=True)
class Spec:
    """One specification: its factor levels, its ratio and CI, and the claim's rule on it."""

    factors: dict[str, str]
    ratio: float
    ci_low: float
    ci_high: float
    label: Label
    stated: bool = False  # the claim's own setup (tiers, threads, layout, model, a stated cell)

    @property
    def reversed(self) -> bool:
        """Whether the other side clearly wins here."""
        return self.ci_high < 1.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the record."""
        return {"factors": dict(self.factors), "ratio": self.ratio, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "label": self.label.value, "stated": self.stated}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Spec:
        """Inverse of to_dict."""
        return cls({str(k): str(v) for k, v in d["factors"].items()}, float(d["ratio"]),
                   float(d["ci_low"]), float(d["ci_high"]), Label(d["label"]),
                   bool(d.get("stated")))  # fmt: skip


def level_name(factor: str, level: str) -> str:
    """How a reader sees a factor's level: 'Keras predict', '2 threads', 'batch 8', '64 px'."""
    if factor in ("subject", "baseline"):
        return tier_name(level)
    if factor == "threads":
        return "1 thread" if level == "1" else f"{level} threads"
    if factor == "batch":
        return f"batch {level}"
    if factor == "input":
        return f"{level} px"
    if factor == "model":
        return {"small-cnn": "the small CNN", "resnet": "the ResNet-style network"}.get(
            level, level
        )
    if factor == "layout":
        return {"contiguous": "NCHW (PyTorch's default)", "channels_last": "channels-last"}.get(
            level, level
        )
    return level


def judge_spec(rule: Rule, factors: dict[str, str], cell: CellEstimate, stated: bool) -> Spec:
    """A specification judged by the claim's own rule, as if stated for this one setup."""
    label = judge(rule, [cell]).label
    return Spec(dict(factors), cell.ratio, cell.low, cell.high, label, stated)


@dataclass(frozen=True)
class Split:
    """A factor and, per level, (specifications where the claim holds, specifications)."""

    factor: str
    levels: dict[str, tuple[int, int]]

    @property
    def separation(self) -> float:
        """How far apart the best and worst level's holding shares are (0 to 1)."""
        shares = [h / n for h, n in self.levels.values() if n]
        return max(shares) - min(shares) if shares else 0.0

    def sentence(self) -> str:
        """'holds in 16 of 16 specifications with Keras predict, in 3 of 16 with tf.function'."""
        ordered = sorted(self.levels.items(), key=lambda kv: (-kv[1][0] / max(kv[1][1], 1), kv[0]))
        parts = [f"in {h} of {n}" + (" specifications" if i == 0 else "")
                 + f" with {level_name(self.factor, level)}"
                 for i, (level, (h, n)) in enumerate(ordered)]  # fmt: skip
        return "holds " + ", ".join(parts)


@dataclass(frozen=True)
class Summary:
    """A claim's specification curve in numbers, its robustness label and its sentence."""

    label: Robustness
    total: int
    holds: int
    does_not_hold: int
    reversed: int
    inconclusive: int
    split: Split | None
    sentence: str
    splits: list[Split] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the record."""
        return {
            "label": self.label.value, "total": self.total, "holds": self.holds,
            "does_not_hold": self.does_not_hold, "reversed": self.reversed,
            "inconclusive": self.inconclusive, "sentence": self.sentence,
            "factor": self.split.factor if self.split else None,
            "split": {k: list(v) for k, v in self.split.levels.items()} if self.split else None,
        }  # fmt: skip


def splits(specs: Sequence[Spec]) -> list[Split]:
    """Every factor with two or more levels, best separating first (ties: fewer levels, name)."""
    names = sorted({f for s in specs for f in s.factors})
    out = []
    for name in names:
        levels: dict[str, tuple[int, int]] = {}
        for s in specs:
            level = s.factors.get(name)
            if level is None:
                continue
            h, n = levels.get(level, (0, 0))
            levels[level] = (h + (s.label == Label.HOLDS), n + 1)
        if len(levels) >= 2:
            out.append(Split(name, levels))
    return sorted(out, key=lambda sp: (-round(sp.separation, 9), len(sp.levels), sp.factor))


def _fragile_split(found: list[Split]) -> Split | None:
    for sp in found:
        shares = [h / n for h, n in sp.levels.values() if n]
        if shares and max(shares) >= SPLIT_HIGH and min(shares) <= SPLIT_LOW:
            return sp
    return None


def summarise(specs: Sequence[Spec], stated: Label, names: dict[str, str] | None = None) -> Summary:
    """The robustness of a claim whose verdict as stated is ``stated`` over ``specs``.

    ``names`` maps factor ids to a reader's names ("subject" -> "PyTorch's API")."""
    if not specs:
        raise ValueError("a specification curve needs at least one specification")
    n = len(specs)
    holds = sum(s.label == Label.HOLDS for s in specs)
    fails = sum(s.label == Label.DOES_NOT_HOLD for s in specs)
    rev = sum(s.reversed for s in specs)
    found = splits(specs)
    fragile = _fragile_split(found) if stated == Label.HOLDS else None
    if rev / n > REVERSED_SHARE:
        label = Robustness.REVERSED
    elif holds / n >= ROBUST_SHARE:
        label = Robustness.ROBUST
    elif fragile is not None:
        label = Robustness.FRAGILE
    else:
        label = Robustness.MIXED
    split = fragile or (found[0] if found and found[0].separation > 0 else None)
    text = f"{_stated_text(stated)}; {label.value} over {n} specifications: holds in {holds}"
    text += f", does not hold in {fails}, the other side wins in {rev}."
    if split is not None:
        factor = (names or {}).get(split.factor, split.factor)
        text += f" It turns most on {factor}: it {split.sentence()}."
        for tie in _ties(split, found):  # an equal split on another factor is named, not hidden
            text += f" As much on {(names or {}).get(tie.factor, tie.factor)}: it {tie.sentence()}."
    return Summary(label, n, holds, fails, rev, n - holds - fails, split, text, found)


def _ties(split: Split, found: list[Split]) -> list[Split]:
    """The other factors that separate holding from not exactly as well as ``split`` does."""
    return [sp for sp in found
            if sp.factor != split.factor and round(sp.separation, 9) == round(split.separation, 9)]  # fmt: skip


def _stated_text(stated: Label) -> str:
    return {
        Label.HOLDS: "Holds as stated",
        Label.DOES_NOT_HOLD: "Does not hold as stated",
        Label.INCONCLUSIVE: "Inconclusive as stated",
    }.get(stated, "Not checkable as stated")
