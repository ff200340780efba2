"""Verdicts: a claim's decision rule applied to measured cells. Pure functions, no I/O.

Every ratio is oriented so that above 1 means the subject wins (see ``verify.judge.stats``). With
threshold k and relative tolerance t the tolerance band is [k/(1+t), k(1+t)], symmetric on the
ratio's log scale (25% around 1x accepts either side being up to 1.25x faster). The rule reads
the 95% CI [lo, hi] of each condition cell:

- A **direction** claim ("A is faster than B": threshold 1, ``up-to`` or ``at-least``) is shown
  only in the stated direction: a cell counts for it when its whole CI lies above 1 (lo > 1); the
  tolerance never turns a measured slowdown or tie into a win. A cell whose CI lies within the
  equivalence band [1/(1+e), 1+e] around 1 (e = ``TIE_BAND``, 5%) is a measured tie, and counts
  against it like a cell where the other side wins (hi < 1). ``at-least`` (everywhere in scope)
  **holds** if every cell counts for it and **does not hold** if any cell is a tie or reversed;
  ``up-to`` (somewhere in scope) **holds** if some cell counts for it and **does not hold** if
  every cell is a tie or reversed; otherwise **inconclusive**.
- ``up-to`` k ("up to 3x faster"): **holds** if some cell's CI lies at or above the band's floor
  (lo >= k/(1+t), and lo > 1: a tolerance widens the band, it never reverses a direction);
  **does not hold** if every cell's CI lies below the floor (hi < k/(1+t)); **inconclusive**
  otherwise. "Up to" bounds the size of the effect, so a holding verdict carries a qualifier:
  **larger-than-claimed** when the reaching cell's lo exceeds the band's top k(1+t) (the claim
  understates the gap), **as-claimed** otherwise.
- ``at-least`` k: **holds** if every cell has lo >= k/(1+t) (and lo > 1); **does not hold** if any
  cell has hi < k/(1+t); **inconclusive** otherwise.
- ``about`` k: an equivalence test (as in two one-sided tests): a cell agrees if its whole CI lies
  inside the band [k/(1+t), k(1+t)], contradicts if its CI misses the band entirely, and is
  undecided if the CI reaches outside it. **holds** if every cell agrees, **does not hold** if
  any contradicts, **inconclusive** otherwise. A CI that merely overlaps the band shows nothing:
  judged as agreeing, the same measurement re-run would flip between holds and does not hold.
- ``exists`` (capability probes): **holds** if the probe ran and succeeded, **does not hold** if it
  ran and failed; deprecation and the successor API are part of the explanation. A probe whose
  claimed path failed and whose fallback worked is "holds only through a fallback", labelled as
  the check says (does not hold, or inconclusive), never a plain holds.

Beyond the label (``Context``): a run whose device is not the one the claim is stated for (a CPU
run of a GPU claim) gets ``scope: outside`` and says so; a check that runs a stand-in says what it
ran; a ratio dominated by one side's fixed cost per call, and published figures that disagree,
are named (verify.judge.explain).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kg.model import OUTSIDE_SCOPE, Label, Quantifier, Rule, Verdict
from verify.judge.explain import CellEstimate, contrary_evidence, fixed_cost_note
from verify.judge.numbers import ci_text, decimals_apart, estimate_text, num, times

if TYPE_CHECKING:
    from kg.rows import Evidence

TIE_BAND = 0.05  # a direction claim's CI inside [1/1.05, 1.05] is a measured tie
RATIO_QUANTIFIERS = (Quantifier.UP_TO, Quantifier.AT_LEAST, Quantifier.ABOUT)
Judged = tuple[Verdict, CellEstimate]  # a label and the cell its explanation names

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
class Context:
    """What a verdict is judged in beyond its cells: the claim's and the run's device, what the
    check stands in for, the published figures bearing on the claim, and the label a probe
    gets when only a fallback worked."""

    claim_device: str = "any"  # cpu, gpu, tpu or any
    run_device: str = ""  # cpu or cuda ("" when unknown: no scope is judged)
    stands_in: str | None = None
    evidence: Sequence[Evidence] = field(default_factory=tuple)
    fallback: Label = Label.INCONCLUSIVE

    @property
    def scope(self) -> str | None:
        """The verdict's scope: "outside" when the run's device is not the claim's."""
        outside = bool(self.run_device) and bool(scope_note(self.claim_device, self.run_device))
        return OUTSIDE_SCOPE if outside else None

    def tail(self) -> str:
        """Sentences every verdict in this context ends with: the stand-in, the scope."""
        text = ""
        if self.stands_in:
            text += f" What ran: {self.stands_in.rstrip('.')}."
        if self.run_device:
            text += scope_note(self.claim_device, self.run_device)
        return text


def tier_name(tier: str | None) -> str:
    """A reader's name for an API tier id ('' for none)."""
    return TIER_NAMES.get(tier, tier) if tier else ""


def _x(r: float) -> str:
    return times(r)


def ratio_words(rule: Rule) -> tuple[str, str] | None:
    """The words for a ratio above and below 1 (None: a higher-is-better metric, never inverted)."""
    if rule.better == "higher":
        return None
    memory = any(w in rule.metric for w in ("memory", "bytes", "rss"))
    return ("less memory", "more memory") if memory else ("faster", "slower")


def _compare(r: float, rule: Rule) -> str:
    """'was 2.40x faster than' and friends, for an oriented ratio r."""
    words = ratio_words(rule)
    if words is None:
        return f"had {_x(r)} the {rule.metric.replace('_', ' ')} of"
    verb = "used" if words[0] == "less memory" else "was"
    return f"{verb} {estimate_text(r, *words)} than"


def _describe(cell: CellEstimate, rule: Rule, digits: int = 2) -> str:
    where = f" at {cell.label}" if cell.label else ""
    words = ratio_words(rule)
    ci = (
        ci_text(cell.low, cell.high, *words, digits=digits)
        if words
        else f"95% CI {num(cell.low, digits)}-{times(cell.high, digits)}"
    )
    return f"{tier_name(rule.subject)} {_compare(cell.ratio, rule)} {tier_name(rule.baseline)}{where} ({ci})"


def _cells(n: int) -> str:
    return f"{n} cell" if n == 1 else f"{n} cells"


def scope_note(claim_device: str, run_device: str) -> str:
    """A sentence tail when the run's device is not the one the claim is stated for."""
    claim_device = (claim_device or "any").lower()
    run = "gpu" if run_device == "cuda" else run_device
    if claim_device in ("any", "") or claim_device == run:
        return ""
    return (
        f" Measured outside the claim's scope: {DEVICE_NAMES.get(run, run)}, the claim is about"
        f" {DEVICE_NAMES.get(claim_device, claim_device)}s; this says nothing for or against"
        " the claim itself."
    )


def _counts_for(c: CellEstimate, rule: Rule) -> bool:
    """Whether a cell reaches the claimed size in the claimed direction."""
    return c.low >= rule.floor and (rule.threshold < 1.0 or c.low > 1.0)


def _tie(c: CellEstimate) -> bool:
    return c.low >= 1.0 / (1.0 + TIE_BAND) and c.high <= 1.0 + TIE_BAND


def _tie_band() -> str:
    return f"{1.0 / (1.0 + TIE_BAND):.2f}-{1.0 + TIE_BAND:.2f}x"


def _judge_direction(rule: Rule, cells: Sequence[CellEstimate]) -> Judged:
    """Threshold 1: shown only where the whole CI lies above 1; ties and reversals count against."""
    won = [c for c in cells if c.low > 1.0]
    against = [c for c in cells if c.high < 1.0 or _tie(c)]
    sub, base = tier_name(rule.subject), tier_name(rule.baseline)
    everywhere = rule.quantifier == Quantifier.AT_LEAST
    if (everywhere and len(won) == len(cells)) or (not everywhere and won):
        shown = min(won, key=lambda c: c.low) if everywhere else max(won, key=lambda c: c.ratio)
        where = (
            f"in all {_cells(len(cells))}"
            if everywhere
            else f"in {len(won)} of {_cells(len(cells))}"
        )
        return Verdict(Label.HOLDS, f"{_describe(shown, rule)}{' at worst' if everywhere else ''};"
                       f" {sub} was faster, its whole interval above 1x, {where}."), shown  # fmt: skip
    if (everywhere and against) or (not everywhere and len(against) == len(cells)):
        c = min(against, key=lambda c: c.high)  # a reversal before a tie
        if c.high < 1.0:
            why = f"{base} was faster there"
        else:
            why = (f"a measured tie: the interval lies within the equivalence band"
                   f" {_tie_band()} around 1x, so neither was meaningfully faster")  # fmt: skip
        count = f"in {len(against)} of {_cells(len(cells))}"
        return Verdict(Label.DOES_NOT_HOLD, f"{_describe(c, rule)}: {why} ({count}); the claim"
                       f" says {sub} is faster."), c  # fmt: skip
    shown = min(cells, key=lambda c: c.low)
    return Verdict(
        Label.INCONCLUSIVE,
        f"{_describe(shown, rule)}: the interval includes 1x without being a tie (within"
        f" {_tie_band()}), so it shows neither {sub} faster nor the two on par; more samples"
        " could decide it.",
    ), shown


def _judge_up_to(rule: Rule, cells: Sequence[CellEstimate]) -> Judged:
    k, floor = rule.threshold, rule.floor
    best = max(cells, key=lambda c: c.ratio)
    reached = [c for c in cells if _counts_for(c, rule)]
    if reached:
        top = max(reached, key=lambda c: c.ratio)
        text = (
            f"{_describe(top, rule)}, reaching the claimed {k:g}x in {len(reached)}"
            f" of {_cells(len(cells))}."
        )
        if top.low > rule.ceiling:
            text += (
                f" The gap is larger than claimed: even the interval's low end, {_x(top.low)},"
                f" is above the claimed {k:g}x and its band (up to {rule.ceiling:.3g}x), so"
                f" 'up to {k:g}x' understates it."
            )
            return Verdict(Label.HOLDS, text, qualifier="larger-than-claimed"), top
        return Verdict(Label.HOLDS, text, qualifier="as-claimed"), top
    if all(c.high < floor for c in cells):
        text = f"{_describe(best, rule)}; the claimed {k:g}x was not reached in any of {_cells(len(cells))}."
        if all(c.ratio < 1 for c in cells):
            text += f" The difference is reversed: {tier_name(rule.baseline)} won everywhere."
        return Verdict(Label.DOES_NOT_HOLD, text), best
    return Verdict(
        Label.INCONCLUSIVE,
        f"{_describe(best, rule)}, an interval that neither clearly reaches nor clearly misses"
        f" the claimed {k:g}x; more samples could decide it.",
    ), best


def _judge_at_least(rule: Rule, cells: Sequence[CellEstimate]) -> Judged:
    k, floor = rule.threshold, rule.floor
    worst = min(cells, key=lambda c: c.ratio)
    if all(_counts_for(c, rule) for c in cells):
        return Verdict(
            Label.HOLDS,
            f"{_describe(worst, rule)} at worst, at least the claimed {k:g}x in all {_cells(len(cells))}.",
        ), worst
    missed = [c for c in cells if c.high < floor]
    if missed:
        low = min(missed, key=lambda c: c.ratio)
        return Verdict(
            Label.DOES_NOT_HOLD,
            f"{_describe(low, rule)}, short of the claimed {k:g}x in {len(missed)}"
            f" of {_cells(len(cells))}.",
        ), low
    return Verdict(
        Label.INCONCLUSIVE,
        f"{_describe(worst, rule)} at worst, an interval that straddles the claimed {k:g}x.",
    ), worst


def _about_state(cell: CellEstimate, rule: Rule) -> str:
    lo, hi = rule.floor, rule.ceiling
    if cell.high < lo or cell.low > hi:
        return "off"
    return "on" if lo <= cell.low and cell.high <= hi else "partly"


def _judge_about(rule: Rule, cells: Sequence[CellEstimate]) -> Judged:
    k = rule.threshold
    band = f"{rule.floor:.2f}-{rule.ceiling:.2f}x"
    states = [(c, _about_state(c, rule)) for c in cells]
    off = [c for c, s in states if s == "off"]
    if off:
        far = max(off, key=lambda c: abs(c.ratio - k))
        # as many decimals as it takes for an interval that misses the band not to seem to touch it
        d = decimals_apart([far.low, far.high], [rule.floor, rule.ceiling])
        band = f"{num(rule.floor, d)}-{num(rule.ceiling, d)}x"
        return Verdict(
            Label.DOES_NOT_HOLD,
            f"{_describe(far, rule, d)}, outside the band {band} around the claimed {k:g}x"
            f" in {len(off)} of {_cells(len(cells))}.",
        ), far
    partly = [c for c, s in states if s == "partly"]
    if partly:
        far = max(partly, key=lambda c: max(c.high / rule.ceiling, rule.floor / c.low))
        return Verdict(
            Label.INCONCLUSIVE,
            f"{_describe(far, rule)}, an interval that reaches outside the band {band} around"
            f" the claimed {k:g}x: not shown to be about {k:g}x.",
        ), far
    far = max(cells, key=lambda c: abs(c.ratio - k))
    return Verdict(
        Label.HOLDS,
        f"{_describe(far, rule)}, inside the band {band} around the claimed {k:g}x"
        f" in all {_cells(len(cells))}.",
    ), far


def _judged(rule: Rule, cells: Sequence[CellEstimate]) -> Judged:
    judges = {Quantifier.UP_TO: _judge_up_to, Quantifier.AT_LEAST: _judge_at_least,
              Quantifier.ABOUT: _judge_about}  # fmt: skip
    return (_judge_direction if rule.direction else judges[rule.quantifier])(rule, cells)


def deciding_cell(rule: Rule, cells: Sequence[CellEstimate]) -> CellEstimate | None:
    """The cell a ratio verdict turns on, the one its explanation names (None for no cells or a
    probe's rule)."""
    return _judged(rule, cells)[1] if cells and rule.quantifier in RATIO_QUANTIFIERS else None


def judge(
    rule: Rule, cells: Sequence[CellEstimate], *, note: str = "", context: Context | None = None
) -> Verdict:
    """Apply a ratio rule to measured cells; ``note`` (a busy machine) and the context's
    sentences (fixed cost, contrary evidence, stand-in, scope) are appended."""
    ctx = context or Context()
    if not cells:
        return Verdict(Label.INCONCLUSIVE, "No condition cell was measured." + note + ctx.tail(),
                       scope=ctx.scope)  # fmt: skip
    if rule.quantifier not in RATIO_QUANTIFIERS:
        raise ValueError(f"quantifier {rule.quantifier!r} needs a probe result, not ratios")
    verdict, _ = _judged(rule, cells)
    names = {"subject": tier_name(rule.subject), "baseline": tier_name(rule.baseline)}
    text = verdict.explanation + fixed_cost_note(rule, cells, names)
    text += contrary_evidence(rule, verdict.label, ctx.evidence, ctx.run_device, TIE_BAND)
    return Verdict(verdict.label, text + note + ctx.tail(), verdict.qualifier, ctx.scope)


def judge_probe(
    result: dict[str, Any], what: str, *, note: str = "", context: Context | None = None
) -> Verdict:
    """Apply an ``exists`` rule to a probe's result dict (ok, detail, deprecated, successor,
    fallback: what failed on the claimed path and what worked instead)."""
    ctx = context or Context()
    tail = note + ctx.tail()
    detail = str(result.get("detail", "")).rstrip(".")
    detail_tail = f": {detail}." if detail else "."
    if not result.get("ok"):
        # a probe that ran through and found the opposite of the claim did not fail
        verb = "found otherwise" if result.get("found_otherwise") else "failed"
        return Verdict(Label.DOES_NOT_HOLD, f"{what} {verb} on the installed versions{detail_tail}"
                       + tail, scope=ctx.scope)  # fmt: skip
    text = f"{what} works on the installed versions{detail_tail}"
    if result.get("deprecated") and "deprecated" not in text.lower():
        successor = result.get("successor")
        text += " It is deprecated" + (f"; its successor is {successor}." if successor else ".")
    fallback = str(result.get("fallback") or "").rstrip(".")
    if fallback:
        return Verdict(ctx.fallback, f"Holds only through a fallback: {fallback}. {text}" + tail,
                       "through-fallback", ctx.scope)  # fmt: skip
    return Verdict(Label.HOLDS, text + tail, scope=ctx.scope)


def not_checkable(reason: str) -> Verdict:
    """The verdict for a check this environment cannot run (missing framework, device, data)."""
    reason = reason.rstrip(".")
    return Verdict(Label.NOT_CHECKABLE, f"Not checkable here: {reason}.")


def rule_in_words(rule: Rule) -> str:
    """The decision rule of a timed check in words, as the judge applies it."""
    k, floor, ceil = rule.threshold, rule.floor, rule.ceiling
    sub, base = tier_name(rule.subject), tier_name(rule.baseline)
    metric = rule.metric.replace("_", " ")
    side = "baseline / subject" if rule.better == "lower" else "subject / baseline"
    head = (
        f"The ratio of {metric} ({side}; {rule.better} is better), so that above 1 means"
        f" {sub} beats {base}. "
    )
    if rule.direction:
        where = "every cell's" if rule.quantifier == Quantifier.AT_LEAST else "some cell's"
        return head + (
            f"The claim states a direction only ({sub} faster, any speed-up), so it holds if"
            f" {where} whole 95% CI lies above 1x; a CI below 1x, or inside the tie band"
            f" {_tie_band()}, counts against it; otherwise inconclusive. No tolerance applies."
        )
    head += f"Claimed {k:g}x with a {rule.tolerance:.0%} tolerance on the log scale. "
    if rule.quantifier == Quantifier.UP_TO:
        return head + (
            f"'Up to {k:g}x' holds if some cell's 95% CI lies at or above {floor:.3g}x (and"
            f" above 1x), does not hold if every cell's CI lies below {floor:.3g}x, and is"
            " inconclusive otherwise; where even the CI's low end is above"
            f" {ceil:.3g}x, it holds with the gap larger than claimed."
        )
    if rule.quantifier == Quantifier.AT_LEAST:
        return head + (
            f"'At least {k:g}x' holds if every cell's 95% CI lies at or above {floor:.3g}x and"
            f" does not hold if any cell's CI lies below it; otherwise inconclusive."
        )
    return head + (
        f"'About {k:g}x' holds if every cell's 95% CI overlaps the band {floor:.3g}-{ceil:.3g}x"
        f" ({k:g}x divided or multiplied by {1 + rule.tolerance:g}) and is at most twice as wide"
        " as the band; it does not hold if any cell's CI misses the band; otherwise inconclusive."
    )
