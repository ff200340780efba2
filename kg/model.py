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
        """The lowest ratio that still counts as reaching the threshold."""
        return self.threshold * (1.0 - self.tolerance)

    @property
    def ceiling(self) -> float:
        """The top of the tolerance band (used by ``about``)."""
        return self.threshold * (1.0 + self.tolerance)


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

    @property
    def device(self) -> str:
        """The device the claim is stated for (cpu, gpu, tpu or any)."""
        return str(self.conditions.get("device", "any"))

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
        )


@dataclass(frozen=True)
class Verdict:
    """A label and the one-sentence explanation a reader can repeat."""

    label: Label
    explanation: str

    @property
    def decided(self) -> bool:
        """Whether more measurement could not change the label."""
        return self.label in (Label.HOLDS, Label.DOES_NOT_HOLD, Label.NOT_CHECKABLE)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the run record."""
        return as_json(self)


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
