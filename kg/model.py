"""The types kg and verify share: labels as string enums, the decision rule, a claim's check, a
verdict; and ``plain``, which turns any of them (and the rows of kg.rows) into JSON values.

The graph speaks in IRIs and SPARQL variable names; everything above kg speaks in these types.
A label compares equal to the notation it came from ("holds") and serialises to it in JSON; rows
are frozen dataclasses with snake_case fields, which Jinja templates read as ``row.field``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Label(StrEnum):
    """A verdict's label: the skos:notation of a concept in fwc:verdicts."""

    HOLDS = "holds"
    DOES_NOT_HOLD = "does-not-hold"
    INCONCLUSIVE = "inconclusive"
    NOT_CHECKABLE = "not-checkable-here"

    @property
    def concept(self) -> str:
        """The local name of the verdict concept in kg/fwc.ttl (Holds, DoesNotHold, ...)."""
        return _CONCEPTS[self]

    @property
    def decided(self) -> bool:
        """Whether the label says something about the claim (holds or does not hold)."""
        return self in (Label.HOLDS, Label.DOES_NOT_HOLD)

    @classmethod
    def from_concept(cls, local_name: str) -> Label:
        """The label of a verdict concept's local name; unknown names are inconclusive."""
        return _BY_CONCEPT.get(local_name, cls.INCONCLUSIVE)


_CONCEPTS = {
    Label.HOLDS: "Holds",
    Label.DOES_NOT_HOLD: "DoesNotHold",
    Label.INCONCLUSIVE: "Inconclusive",
    Label.NOT_CHECKABLE: "NotCheckableHere",
}
_BY_CONCEPT = {v: k for k, v in _CONCEPTS.items()}


class Quantifier(StrEnum):
    """How a decision rule reads its threshold."""

    UP_TO = "up-to"
    AT_LEAST = "at-least"
    ABOUT = "about"
    EXISTS = "exists"


class RunStatus(StrEnum):
    """What happened to a check as a whole (a record's ``status``)."""

    OK = "ok"
    ERROR = "error"
    NOT_CHECKABLE = "not-checkable"
    SKIPPED = "skipped"  # never written: a claim named on the command line that has no check


class Kind(StrEnum):
    """A claim's kind, after the fwc:...Claim class it is typed with."""

    PERFORMANCE = "performance"
    CAPABILITY = "capability"
    ADOPTION = "adoption"
    QUALITATIVE = "qualitative"


class CheckType(StrEnum):
    """What implements a check: a timed benchmark, a capability probe, or a data check."""

    BENCHMARK = "benchmark"
    PROBE = "probe"
    DATACHECK = "datacheck"


@dataclass(frozen=True)
class Rule:
    """A claim's decision rule: which side should win on which metric, by how much."""

    metric: str
    better: str  # "lower" or "higher"
    subject: str
    baseline: str | None  # None for a probe or a share of one framework
    threshold: float
    tolerance: float
    quantifier: Quantifier

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Rule:
        """Build from a rule as JSON (a claim's check, a record); ValueError names a bad field."""
        try:
            quantifier = Quantifier(str(d.get("quantifier", "exists")))
        except ValueError:
            raise ValueError(
                f"unknown quantifier {d.get('quantifier')!r}; use one of"
                f" {', '.join(q.value for q in Quantifier)}"
            ) from None
        better = str(d.get("better", "lower"))
        if better not in ("lower", "higher"):
            raise ValueError(f"rule.better must be 'lower' or 'higher', not {better!r}")
        threshold, tolerance = float(d.get("threshold", 1.0)), float(d.get("tolerance", 0.0))
        if not (math.isfinite(threshold) and math.isfinite(tolerance)):
            raise ValueError("rule.threshold and rule.tolerance must be finite numbers")
        return cls(
            metric=str(d.get("metric", "")),
            better=better,
            subject=str(d.get("subject") or ""),
            baseline=str(d["baseline"]) if d.get("baseline") else None,
            threshold=threshold,
            tolerance=tolerance,
            quantifier=quantifier,
        )

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON, as records keep it."""
        return as_json(self)

    @property
    def floor(self) -> float:
        """The bottom of the tolerance band, k / (1 + t): symmetric to the top on a log scale,
        so a tolerance of 25% around 1x accepts either side being up to 1.25x faster."""
        return self.threshold / (1.0 + self.tolerance)

    @property
    def ceiling(self) -> float:
        """The top of the tolerance band, k * (1 + t)."""
        return self.threshold * (1.0 + self.tolerance)

    @property
    def direction(self) -> bool:
        """Whether the rule claims only a direction ("A is faster than B", threshold 1): then
        the whole interval must lie beyond 1, and the tolerance does not apply."""
        return (
            self.threshold == 1.0
            and self.baseline is not None
            and self.quantifier in (Quantifier.UP_TO, Quantifier.AT_LEAST)
        )


MAIN_CHECK = "main"  # the id of a check that has no fwc:checkId (a claim's only check, usually)


class Combine(StrEnum):
    """How a claim with several checks combines their verdicts (fwc:combine)."""

    ALL = "all"  # holds if every check holds, does not hold if any does not
    ANY = "any"  # holds if some check holds, does not hold if every check does not


@dataclass(frozen=True)
class Check:
    """A claim's executable check with what `verify run` needs to run and judge it."""

    claim_id: str
    kind: Kind
    benchmark: str
    module: str
    benchmark_type: CheckType
    parameters: dict[str, Any]
    rule: Rule
    conditions: dict[str, str] = field(default_factory=dict)
    check_id: str = MAIN_CHECK
    stands_in: str | None = None  # what the check runs in place of what the claim is about
    fallback: Label = Label.INCONCLUSIVE  # the label when only a fallback path worked (probes)

    @property
    def device(self) -> str:
        """The device the claim is stated for (cpu, gpu, tpu or any)."""
        return str(self.conditions.get("device", "any"))

    @property
    def run_device(self) -> str:
        """The device the check's own ``device`` parameter asks for (cpu, cuda or auto)."""
        return str(self.parameters.get("device") or "auto")

    def to_dict(self) -> dict[str, Any]:
        """The check as JSON, as a run record keeps it."""
        return as_json(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Check:
        """Inverse of to_dict (a record's ``check``)."""
        return cls(
            claim_id=str(d["claim_id"]),
            kind=Kind(d.get("kind", "performance")),
            benchmark=str(d.get("benchmark", "")),
            module=str(d.get("module", "")),
            benchmark_type=CheckType(d.get("benchmark_type", "benchmark")),
            parameters=dict(d.get("parameters") or {}),
            rule=Rule.from_dict(d.get("rule") or {}),
            conditions={str(k): str(v) for k, v in (d.get("conditions") or {}).items()},
            check_id=str(d.get("check_id") or MAIN_CHECK),
            stands_in=str(d["stands_in"]) if d.get("stands_in") else None,
            fallback=Label(d.get("fallback") or Label.INCONCLUSIVE),
        )


OUTSIDE_SCOPE = "outside"  # a verdict's scope when the run's device is not the claim's


@dataclass(frozen=True)
class Verdict:
    """A label, the one-sentence explanation a reader can repeat, and what qualifies the label:
    ``qualifier`` says how a holding claim holds ("as-claimed", "larger-than-claimed" for an
    "up to" claim whose gap is larger than stated, "through-fallback"); ``scope`` is
    "outside" when the run's device is not the one the claim is about, and then the verdict is
    about this environment only, never counted for or against the claim."""

    label: Label
    explanation: str
    qualifier: str | None = None
    scope: str | None = None

    @property
    def decided(self) -> bool:
        """Whether more measurement could not change the label."""
        return self.label in (Label.HOLDS, Label.DOES_NOT_HOLD, Label.NOT_CHECKABLE)

    @property
    def outside_scope(self) -> bool:
        """Whether the run was outside the claim's stated scope."""
        return self.scope == OUTSIDE_SCOPE

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the run record (qualifier and scope only when set)."""
        return {k: v for k, v in as_json(self).items() if v is not None}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        """Inverse of to_dict (a record's ``verdict``)."""
        return cls(Label(d["label"]), str(d.get("explanation") or ""), d.get("qualifier"),
                   d.get("scope"))  # fmt: skip


QUALIFIER_WORDS = {
    "as-claimed": "as claimed",
    "larger-than-claimed": "the gap is larger than claimed",
    "through-fallback": "only through a fallback",
}


def verdict_words(label: str, qualifier: str | None = None, scope: str | None = None) -> str:
    """A verdict as a reader sees it beside a claim: the label, what qualifies it, and "(outside
    the claim's scope)" for a run on another device than the claim's."""
    text = str(label)
    if qualifier:
        text += f" ({QUALIFIER_WORDS.get(qualifier, qualifier)})"
    if scope == OUTSIDE_SCOPE:
        text += " (outside the claim's scope)"
    return text


def combine(labels: list[Label], how: Combine = Combine.ALL) -> Label:
    """One label from several checks' labels (a claim's combined verdict in one environment):
    "all" holds if every check holds and does not hold if any does not; "any" holds if some
    check holds and does not hold if every check does not; not checkable when none could be
    checked; inconclusive otherwise."""
    if not labels:
        return Label.INCONCLUSIVE
    if all(x == Label.NOT_CHECKABLE for x in labels):
        return Label.NOT_CHECKABLE
    if how == Combine.ANY:
        if Label.HOLDS in labels:
            return Label.HOLDS
        if all(x == Label.DOES_NOT_HOLD for x in labels):
            return Label.DOES_NOT_HOLD
        return Label.INCONCLUSIVE
    if Label.DOES_NOT_HOLD in labels:
        return Label.DOES_NOT_HOLD
    if all(x == Label.HOLDS for x in labels):
        return Label.HOLDS
    return Label.INCONCLUSIVE


def as_json(row: Any) -> dict[str, Any]:
    """A row (a dataclass) as a plain JSON object."""
    out = plain(row)
    if not isinstance(out, dict):
        raise TypeError(f"{type(row).__name__} is not a row")
    return out


def plain(value: Any) -> Any:
    """Rows, enums and containers as plain JSON values (dicts, lists, str, numbers, None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
