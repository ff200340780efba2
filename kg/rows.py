"""The rows of the read API (kg.api): claims, sources, environments, runs, measurements, evidence.

Frozen dataclasses with snake_case fields; ``kg.model.plain`` turns them into JSON.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

from kg.model import MAIN_CHECK, OUTSIDE_SCOPE, Check, Combine, Kind, Label, combine

PRIMARY_ROLES = frozenset({"primary-study", "dataset", "documentation"})  # where a chain ends


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
    checks: list[Check]  # in fwc:checkId order ("main" for a claim's only, unnamed check)
    contradicts: list[str]
    combine: Combine = Combine.ALL  # how the checks' verdicts make the claim's

    def combined(self, by_check: Mapping[str, Run]) -> tuple[Label, bool] | None:
        """The claim's verdict in one environment from its checks' newest runs there (check id ->
        run) and whether every one of those runs was outside the claim's scope; None for a claim
        with fewer than two checks. The rule is ClaimVerdict's (a check not run leaves it open)."""
        if len(self.checks) < 2:
            return None
        v = ClaimVerdict.of(self, "", list(by_check.values()))
        return (v.verdict, v.outside_scope) if v else (Label.INCONCLUSIVE, False)


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
    authors: str | None = None  # "A; B; C" (schema:author, in the graph's order)
    venue: str | None = None  # where it was published (dcterms:bibliographicCitation)


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
    threads: int | None = None  # the timing thread count when it was not 1
    isa: str | None = None  # a vector instruction set beyond AVX2 (kg.environments.VECTOR_ISAS)
    runs: int = 0


@dataclass(frozen=True)
class Run:
    """One run of a claim's check (a record in the graph)."""

    run: str
    claim_id: str
    environment: str
    environment_label: str  # unique among the graph's environments (kg.environments)
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
    gpu_tflops: float | None = None  # the GPU's bf16 matrix-product throughput before the checks
    gpu_nominal_tflops: float | None = None  # and the card's published peak
    check_id: str = MAIN_CHECK  # which of the claim's checks ran
    qualifier: str | None = None  # how a holding verdict holds (kg.model.QUALIFIER_WORDS)
    scope: str | None = None  # "outside": measured outside the claim's stated device

    @property
    def outside_scope(self) -> bool:
        """Whether the run was outside the claim's stated scope (never for or against it)."""
        return self.scope == OUTSIDE_SCOPE


@dataclass(frozen=True)
class ClaimVerdict:
    """A claim's verdict in one environment: with one check its newest run's, with several the
    newest run of each combined by the claim's rule (kg.model.combine; a check not run there
    leaves the claim open). Named like a Run's fields, so what shows a run's verdict shows it."""

    claim_id: str
    environment: str
    verdict: Label
    qualifier: str | None  # the run's, for a claim with one check
    scope: str | None  # "outside" when every run it rests on was outside the claim's scope
    runs: dict[str, Run]  # check id -> the newest run of that check there, newest first

    @property
    def outside_scope(self) -> bool:
        """Whether it rests only on runs outside the claim's scope (never for or against it)."""
        return self.scope == OUTSIDE_SCOPE

    @property
    def newest(self) -> Run:
        """The newest of the runs it rests on."""
        return next(iter(self.runs.values()))

    @classmethod
    def of(cls, claim: Claim, environment: str, runs: list[Run]) -> ClaimVerdict | None:
        """The verdict from a claim's runs in one environment (newest first); None without one."""
        if not runs:
            return None
        by_check: dict[str, Run] = {}
        for r in runs:
            by_check.setdefault(r.check_id, r)
        ids = [k.check_id for k in claim.checks]
        if len(ids) <= 1:  # one check: its newest run, whatever check id older records carry
            r = runs[0]
            return cls(claim.id, environment, r.verdict, r.qualifier, r.scope, by_check)
        ran = [by_check[k] for k in ids if k in by_check]
        labels = [by_check[k].verdict if k in by_check else Label.INCONCLUSIVE for k in ids]
        outside = bool(ran) and all(r.outside_scope for r in ran)
        return cls(claim.id, environment, combine(labels, claim.combine), None,
                   OUTSIDE_SCOPE if outside else None, by_check)  # fmt: skip


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
    subject_p90: float | None = None
    baseline_p90: float | None = None
    batch_size: int | None = None
    input_size: int | None = None


class Cells(Mapping[str, list[Measurement]]):
    """Each run's measurements (run id -> its cells in their recorded order), kept as plain
    tuples of field values until a run's cells are asked for. A row cache read back holds some
    180,000 cells for 50,000 runs, of which a publish after one new record reads a few hundred:
    tuples of numbers and strings read back several times faster than as many objects."""

    __slots__ = ("_packed", "_made")

    def __init__(self, packed: dict[str, tuple[tuple[Any, ...], ...]]) -> None:
        self._packed = packed
        self._made: dict[str, list[Measurement]] = {}

    @classmethod
    def pack(cls, cells: Mapping[str, list[Measurement]]) -> Cells:
        """The same cells, packed (those already packed as they are), in the mapping's order."""
        if isinstance(cells, Cells):
            return cells
        names = MEASUREMENT_FIELDS
        return cls({run: tuple(tuple(getattr(m, f) for f in names) for m in ms)
                    for run, ms in cells.items()})  # fmt: skip

    @classmethod
    def merged(cls, *parts: Mapping[str, list[Measurement]]) -> Cells:
        """The cells of all `parts` (a run in a later one wins), in run id order."""
        packed: dict[str, tuple[tuple[Any, ...], ...]] = {}
        for part in parts:
            packed.update(cls.pack(part)._packed)
        return cls(dict(sorted(packed.items())))

    def __getitem__(self, run: str) -> list[Measurement]:
        found = self._cells(run)
        if found is None:
            raise KeyError(run)
        return found

    def get(self, run: str, default: Any = None) -> Any:  # Mapping's, without its KeyError
        found = self._cells(run)
        return default if found is None else found

    def _cells(self, run: str) -> list[Measurement] | None:
        made = self._made.get(run)
        if made is None:
            packed = self._packed.get(run)
            if packed is None:
                return None
            made = self._made[run] = [_measurement(values) for values in packed]
        return made

    def __contains__(self, run: object) -> bool:
        return run in self._packed

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)

    def __repr__(self) -> str:
        return f"Cells({len(self._packed)} runs)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Cells, (self._packed,))


MEASUREMENT_FIELDS = tuple(f.name for f in fields(Measurement))


def _measurement(values: tuple[Any, ...]) -> Measurement:
    """A Measurement of packed values, built as pickle builds one (its fields set at once,
    without the frozen dataclass's check per field): the values were a Measurement's."""
    made = object.__new__(Measurement)
    made.__dict__.update(zip(MEASUREMENT_FIELDS, values, strict=True))
    return made


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


@dataclass(frozen=True)
class Exploration:
    """One exploration of a claim's multiverse (an exploration record in the graph)."""

    run: str
    claim_id: str
    environment: str
    record: str | None
    started: str | None
    ended: str | None
    stated: Label  # the claim's verdict as stated, from the exploration's own stated setup
    robustness: str  # robust, fragile, mixed or reversed
    sentence: str
    outside_scope: bool = False  # run on another device than the claim is stated for


@dataclass(frozen=True)
class Specification:
    """One specification of an exploration: factor levels, ratio, CI, the rule's label on it."""

    factors: dict[str, str]
    ratio: float
    ci_low: float
    ci_high: float
    label: Label
    stated: bool


@dataclass(frozen=True)
class SkippedRecord:
    """A run record left out of the graph because it cannot be read: its file and why."""

    path: str  # relative to the project folder
    reason: str
