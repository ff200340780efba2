"""Typed rows shared by kg and verify: what the read API returns and what the engine consumes.

The graph speaks in IRIs and SPARQL variable names; everything above kg speaks in these types.
Labels are string enums, so a row compares equal to the notation it came from ("holds") and
serialises to it in JSON; rows are frozen dataclasses with snake_case fields, turned into plain
JSON values by ``plain``. Jinja templates read them with the same ``row.field`` / ``row["field"]``
syntax they used for dicts.
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
        return plain(self)

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
        return plain(self)

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
        return plain(self)


@dataclass(frozen=True)
class Concept:
    """A SKOS concept: its notation, label and definition."""

    notation: str
    label: str
    definition: str


@dataclass(frozen=True)
class Appearance:
    """Where a claim appears: the document, its role, the place in it and its words."""

    doc: str
    doc_name: str
    role: str
    locator: str
    wording: str | None


@dataclass(frozen=True)
class SourceRef:
    """A source a claim rests on (prov:wasDerivedFrom)."""

    id: str
    name: str
    role: str
    url: str | None
    date: str | None


@dataclass(frozen=True)
class ClaimSummary:
    """One row of the claim list."""

    id: str
    kind: Kind
    category: str
    text: str
    favours: str | None
    check: str | None  # the benchmark id of its check
    appearances: int
    documents: list[str]

    @property
    def checkable(self) -> bool:
        """Whether the claim carries an executable check."""
        return self.check is not None


@dataclass(frozen=True)
class Claim:
    """Everything about one claim."""

    id: str
    iri: str
    kind: Kind
    category: str
    text: str
    favours: str | None
    rests_on: str | None
    not_checkable_because: str | None
    appearances: list[Appearance]
    derived_from: list[SourceRef]
    conditions: dict[str, str]
    check: Check | None
    contradicts: list[str]


@dataclass(frozen=True)
class Source:
    """A document or data set in the bibliography, with how many claims use it."""

    id: str
    name: str
    role: str
    date: str | None
    url: str | None
    appears: int  # claims that appear in it
    supports: int  # claims that rest on it


@dataclass(frozen=True)
class SourceUse:
    """A claim's use of one source: it appears there, or rests on it."""

    id: str
    how: str  # "appears" or "rests-on"


@dataclass(frozen=True)
class Environment:
    """A machine with one set of framework versions, as the graph describes it."""

    id: str
    label: str
    cpu: str | None = None
    cores: int | None = None
    mem: float | None = None
    gpu: str | None = None
    driver: str | None = None
    cuda: str | None = None
    os: str | None = None
    python: str | None = None
    torch: str | None = None
    tf: str | None = None
    keras: str | None = None
    jax: str | None = None
    numpy: str | None = None
    runs: int = 0


@dataclass(frozen=True)
class Run:
    """One run of a claim's check (a record in the graph)."""

    run: str
    claim_id: str
    environment: str
    environment_label: str
    started: str | None
    ended: str | None
    status: str | None
    verdict: Label
    explanation: str | None
    record: str | None
    code_hash: str | None
    budget_s: float | None
    benchmark: str | None
    deprecated: bool | None
    successor: str | None


@dataclass(frozen=True)
class Measurement:
    """One condition cell of a run: the oriented ratio, its CI, both sides' statistics."""

    cell: str | None
    metric: str | None
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float | None
    method: str | None
    processes: int | None
    sample_size: int | None
    subject_value: float | None
    baseline_value: float | None


@dataclass(frozen=True)
class Evidence:
    """A published measurement: a primary source's own number, not one of our runs."""

    id: str
    name: str | None
    description: str | None
    metric: str | None
    value: float
    unit: str | None
    technique: str | None
    framework: str | None
    version: str | None
    hardware: str | None
    device: str | None
    phase: str | None
    model: str | None
    batch: str | None
    input: str | None
    date: str | None
    source: str
    url: str | None
    claims: list[str]


@dataclass(frozen=True)
class CitationEdge:
    """An edge of the evidence graph: claim -> document, or document -> document."""

    source: str
    source_kind: str  # "claim" or the source's role
    target: str
    target_kind: str
    rel: str  # appears-in, rests-on, cites, reviews


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


PRIMARY_ROLES = frozenset(
    {"primary-study", "dataset", "documentation"}
)  # where a citation chain ends
