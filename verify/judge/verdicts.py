"""Verdicts: a claim's decision rule applied to measured cells. Pure functions, no I/O.

Every ratio is oriented so that above 1 means the subject wins (see ``verify.judge.stats``). With
threshold k and relative tolerance t the rule reads the 95% CI [lo, hi] of each condition cell:

- ``up-to`` k ("up to 3x faster"): **holds** if some cell's CI lies at or above k(1-t)
  (lo >= k(1-t)); **does not hold** if every cell's CI lies below k(1-t) (hi < k(1-t));
  **inconclusive** otherwise. The explanation says when the gap is far larger than claimed
  (some lo > 2k) or reversed (every ratio below 1: the baseline wins everywhere).
- ``at-least`` k: **holds** if every cell has lo >= k(1-t); **does not hold** if any cell has
  hi < k(1-t); **inconclusive** otherwise.
- ``about`` k: the band is [k(1-t), k(1+t)]. A cell agrees if its CI overlaps the band and is at
  most twice as wide as the band, contradicts if its CI misses the band entirely, and is undecided
  otherwise: a CI that overlaps the band only because it is very wide says nothing about the claim,
  so it stays inconclusive. **holds** if every cell agrees, **does not hold** if any contradicts.
- ``exists`` (capability probes): **holds** if the probe ran and succeeded, **does not hold** if it
  ran and failed; deprecation and the successor API are part of the explanation.

A run whose environment is outside the claim's stated conditions (a CPU run of a GPU claim) is
judged for that environment only, and the explanation says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kg.model import Label, Quantifier, Rule, Verdict

ABOUT_MAX_WIDTH = 2.0  # an "about" CI wider than this many band widths is uninformative

TIER_NAMES = {
    "torch": "PyTorch",
    "tensorflow": "TensorFlow",
    "torch-eager": "PyTorch eager",
    "torch-compile": "PyTorch torch.compile",
    "torch-loop": "a PyTorch training loop",
    "keras-predict": "Keras predict",
    "keras-call": "a direct Keras call",
    "keras-fit": "Keras fit",
    "keras-fit-arrays": "Keras fit on numpy arrays",
    "tf-function": "tf.function",
    "tf-xla": "tf.function with XLA",
    "tf-step": "a tf.function training step",
    "tf-function-step": "a tf.function training step",
    "torch-compile-loop": "a torch.compile training loop",
    "jax": "JAX",
    "keras": "Keras 3 on JAX",
    "jax-jit": "a jax.jit function",
    "keras-jax-predict": "Keras predict on the JAX backend",
    "keras-jax-call": "a direct Keras call on the JAX backend",
    "jax-train-step": "a jax.jit training step",
    "keras-jax-fit": "Keras fit on the JAX backend",
}
DEVICE_NAMES = {"cpu": "CPU", "gpu": "GPU", "cuda": "GPU", "tpu": "TPU"}


@dataclass(frozen=True)
class CellEstimate:
    """One condition cell's oriented ratio and its confidence interval."""

    label: str
    ratio: float
    low: float
    high: float


def tier_name(tier: str | None) -> str:
    """A reader's name for an API tier id ('' for none)."""
    return TIER_NAMES.get(tier, tier) if tier else ""


def _num(r: float) -> str:
    return f"{r:.1f}" if r >= 10 else f"{r:.2f}"


def _x(r: float) -> str:
    return _num(r) + "x"


def _compare(r: float, rule: Rule) -> str:
    """'was 2.40x faster than' and friends, for an oriented ratio r."""
    memory = any(w in rule.metric for w in ("memory", "bytes", "rss"))
    if rule.better == "higher":
        return f"had {_x(r)} the {rule.metric.replace('_', ' ')} of"
    if memory:
        return f"used {_x(r)} less memory than" if r >= 1 else f"used {_x(1 / r)} more memory than"
    return f"was {_x(r)} faster than" if r >= 1 else f"was {_x(1 / r)} slower than"


def _describe(cell: CellEstimate, rule: Rule) -> str:
    where = f" at {cell.label}" if cell.label else ""
    return (
        f"{tier_name(rule.subject)} {_compare(cell.ratio, rule)} {tier_name(rule.baseline)}{where}"
        f" (95% CI {_num(cell.low)}-{_x(cell.high)})"
    )


def _cells(n: int) -> str:
    return f"{n} cell" if n == 1 else f"{n} cells"


def scope_note(claim_device: str, run_device: str) -> str:
    """A sentence tail when the run's device is not the one the claim is stated for."""
    claim_device = (claim_device or "any").lower()
    run = "gpu" if run_device == "cuda" else run_device
    if claim_device in ("any", "") or claim_device == run:
        return ""
    return (
        f" This was judged for this {DEVICE_NAMES.get(run, run)} environment only;"
        f" the claim is stated for {DEVICE_NAMES.get(claim_device, claim_device)}."
    )


def _judge_up_to(rule: Rule, cells: Sequence[CellEstimate]) -> Verdict:
    k, floor = rule.threshold, rule.floor
    best = max(cells, key=lambda c: c.ratio)
    reached = [c for c in cells if c.low >= floor]
    if reached:
        top = max(reached, key=lambda c: c.ratio)
        text = (
            f"{_describe(top, rule)}, reaching the claimed {k:g}x in {len(reached)}"
            f" of {_cells(len(cells))}."
        )
        if top.low > 2 * k:
            text += f" The measured gap is far larger than the claimed {k:g}x."
        return Verdict(Label.HOLDS, text)
    if all(c.high < floor for c in cells):
        text = f"{_describe(best, rule)}; the claimed {k:g}x was not reached in any of {_cells(len(cells))}."
        if all(c.ratio < 1 for c in cells):
            text += f" The difference is reversed: {tier_name(rule.baseline)} won everywhere."
        return Verdict(Label.DOES_NOT_HOLD, text)
    return Verdict(
        Label.INCONCLUSIVE,
        f"{_describe(best, rule)}, an interval that neither clearly reaches nor clearly misses"
        f" the claimed {k:g}x; more samples could decide it.",
    )


def _judge_at_least(rule: Rule, cells: Sequence[CellEstimate]) -> Verdict:
    k, floor = rule.threshold, rule.floor
    worst = min(cells, key=lambda c: c.ratio)
    if all(c.low >= floor for c in cells):
        return Verdict(
            Label.HOLDS,
            f"{_describe(worst, rule)} at worst, at least the claimed {k:g}x in all {_cells(len(cells))}.",
        )
    missed = [c for c in cells if c.high < floor]
    if missed:
        low = min(missed, key=lambda c: c.ratio)
        return Verdict(
            Label.DOES_NOT_HOLD,
            f"{_describe(low, rule)}, short of the claimed {k:g}x in {len(missed)}"
            f" of {_cells(len(cells))}.",
        )
    return Verdict(
        Label.INCONCLUSIVE,
        f"{_describe(worst, rule)} at worst, an interval that straddles the claimed {k:g}x.",
    )


def _about_state(cell: CellEstimate, rule: Rule) -> str:
    lo, hi = rule.floor, rule.ceiling
    if cell.high < lo or cell.low > hi:
        return "off"
    if (cell.high - cell.low) > ABOUT_MAX_WIDTH * (hi - lo):
        return "wide"
    return "on"


def _judge_about(rule: Rule, cells: Sequence[CellEstimate]) -> Verdict:
    k = rule.threshold
    band = f"{rule.floor:.2f}-{rule.ceiling:.2f}x"
    states = [(c, _about_state(c, rule)) for c in cells]
    off = [c for c, s in states if s == "off"]
    if off:
        far = max(off, key=lambda c: abs(c.ratio - k))
        return Verdict(
            Label.DOES_NOT_HOLD,
            f"{_describe(far, rule)}, outside the band {band} around the claimed {k:g}x"
            f" in {len(off)} of {_cells(len(cells))}.",
        )
    wide = [c for c, s in states if s == "wide"]
    if wide:
        return Verdict(
            Label.INCONCLUSIVE,
            f"{_describe(wide[0], rule)}, an interval too wide to say whether it is about"
            f" the claimed {k:g}x (band {band}).",
        )
    far = max(cells, key=lambda c: abs(c.ratio - k))
    return Verdict(
        Label.HOLDS,
        f"{_describe(far, rule)}, consistent with the claimed {k:g}x (band {band})"
        f" in all {_cells(len(cells))}.",
    )


def judge(rule: Rule, cells: Sequence[CellEstimate], *, note: str = "") -> Verdict:
    """Apply a ratio rule to measured cells; ``note`` (see scope_note) is appended."""
    if not cells:
        return Verdict(Label.INCONCLUSIVE, "No condition cell was measured." + note)
    judges = {Quantifier.UP_TO: _judge_up_to, Quantifier.AT_LEAST: _judge_at_least,
              Quantifier.ABOUT: _judge_about}  # fmt: skip
    if rule.quantifier not in judges:
        raise ValueError(f"quantifier {rule.quantifier!r} needs a probe result, not ratios")
    verdict = judges[rule.quantifier](rule, cells)
    return Verdict(verdict.label, verdict.explanation + note)


def judge_probe(result: dict[str, Any], what: str, *, note: str = "") -> Verdict:
    """Apply an ``exists`` rule to a probe's result dict (ok, detail, deprecated, successor)."""
    detail = str(result.get("detail", "")).rstrip(".")
    tail = f": {detail}." if detail else "."
    if not result.get("ok"):
        # a probe that ran through and found the opposite of the claim did not fail
        verb = "found otherwise" if result.get("found_otherwise") else "failed"
        return Verdict(Label.DOES_NOT_HOLD, f"{what} {verb} on the installed versions{tail}" + note)
    text = f"{what} works on the installed versions{tail}"
    if result.get("deprecated") and "deprecated" not in text.lower():
        successor = result.get("successor")
        text += " It is deprecated" + (f"; its successor is {successor}." if successor else ".")
    return Verdict(Label.HOLDS, text + note)


def not_checkable(reason: str) -> Verdict:
    """The verdict for a check this environment cannot run (missing framework, device, data)."""
    reason = reason.rstrip(".")
    return Verdict(Label.NOT_CHECKABLE, f"Not checkable here: {reason}.")
