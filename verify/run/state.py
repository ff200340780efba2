"""What a run of one check accumulates (samples, order, warm-up, fairness, errors) and the record.

Sides are letters: "A" is the rule's subject tier, "B" its baseline. Samples are kept per cell, per
side, per process pair, in seconds per call (or one value per process for single-shot benchmarks).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from kg import records
from kg.model import Check, Label, RunStatus, Verdict
from kg.textutil import utc_now
from verify.judge import stats
from verify.judge.explain import CellEstimate
from verify.judge.floors import NO_FLOOR, Floor
from verify.judge.verdicts import Context, judge, not_checkable
from verify.run import codehash
from verify.run.failures import NotCheckableHere, RunFailure
from verify.run.floors import VarianceFloors
from verify.run.machine import PairLoad, busy_sentence
from verify.run.options import RunOptions
from verify.run.spawn import ALLOCATOR

if TYPE_CHECKING:
    from kg.rows import Evidence

SIDES = ("A", "B")
ROLE = {"A": "subject", "B": "baseline"}


def cell_title(cell: dict[str, Any]) -> str:
    """How an explanation names a cell: "batch 1, 28 px" where the cell says so, else its label."""
    if "batch" in cell and "size" in cell:
        return f"batch {cell['batch']}, {cell['size']} px"
    return str(cell.get("label", ""))


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class CellData:
    """Everything measured for one condition cell."""

    cell: dict
    samples: dict[str, list[list[float]]] = field(default_factory=lambda: {s: [] for s in SIDES})
    cpu_samples: dict[str, list[list[float]]] = field(
        default_factory=lambda: {s: [] for s in SIDES}
    )
    # per sample, over its whole span: other processes' CPU seconds, stolen seconds, the span
    others: dict[str, list[list[float]]] = field(default_factory=lambda: {s: [] for s in SIDES})
    steals: dict[str, list[list[float]]] = field(default_factory=lambda: {s: [] for s in SIDES})
    spans: dict[str, list[list[float]]] = field(default_factory=lambda: {s: [] for s in SIDES})
    calls: dict[str, int] = field(default_factory=dict)
    per_call: dict[str, float] = field(default_factory=dict)  # seconds, from calibration
    warmup: dict[str, list[dict]] = field(default_factory=lambda: {s: [] for s in SIDES})
    measurements: dict[str, list[dict]] = field(default_factory=lambda: {s: [] for s in SIDES})
    max_abs_diff: float | None = None
    agree: bool | None = None  # None until both sides' reference outputs were compared

    @property
    def label(self) -> str:
        """The benchmark's short label for the cell."""
        return str(self.cell.get("label", ""))

    def complete_pairs(self) -> list[int]:
        """Indices of the process pairs with samples on both sides."""
        return [
            i
            for i in range(min(len(self.samples[s]) for s in SIDES))
            if all(self.samples[s][i] for s in SIDES)
        ]

    def add_pair(self) -> None:
        """Start empty sample lists for the next process pair."""
        for side in SIDES:
            for series in (self.samples, self.cpu_samples, self.others, self.steals, self.spans):
                series[side].append([])

    def set_warmup(self, pair: int, side: str, found: dict[str, Any]) -> None:
        """What a side's warm-up reported in one pair."""
        rows = self.warmup[side]
        rows.extend({} for _ in range(pair + 1 - len(rows)))
        rows[pair] = found

    def record_sample(self, side: str, pair: int, got: dict[str, list[float]]) -> None:
        """One sample as the worker returned it (wall, CPU, and the machine's activity)."""
        self.samples[side][pair].append(got["wall"][0])
        self.cpu_samples[side][pair].append(got["cpu"][0])
        if got.get("others"):
            self.others[side][pair].append(got["others"][0])
            self.steals[side][pair].append(got["steal"][0])
            self.spans[side][pair].append(got["span"][0])


class CheckState:
    """One check in progress: inputs, accumulated measurements and the record they become."""

    def __init__(
        self, check: Check, options: RunOptions, evidence: Sequence[Evidence] = ()
    ) -> None:
        self.check, self.options, self.evidence = check, options, evidence
        self.claim_id = check.claim_id
        self.rule = check.rule
        self.started, self.t0 = utc_now(), time.monotonic()
        self.kind = ""  # timed | single | probe, from the worker's describe
        self.tiers: dict[str, str] = {}
        self.cells: list[CellData] = []
        self.order: list[list] = []
        self.pairs: list[dict] = []  # per process pair: set-up and measuring seconds, rounds
        self.processes: list[dict] = []
        self.frameworks: dict[str, dict] = {}
        self.errors: list[dict] = []
        self.probe: dict[str, Any] | None = None
        self.data: dict[str, Any] | None = None  # the snapshot rows an adoption check used
        self.timed = True
        self.cell_orders: dict[int, list[int]] = {}  # per pair: the order its cells were opened in
        self.loads: list[PairLoad] = []  # per measured pair: what the rest of the machine did
        self.shared_from: str | None = None  # the claim whose measurement this check reuses
        self.floors: VarianceFloors | None = None  # this environment's, from verify calibrate
        self.floors_env = ""  # the environment id they were looked up for

    def elapsed(self) -> float:
        """Seconds since the check started."""
        return time.monotonic() - self.t0

    def tier(self, side: str) -> str:
        """The tier a side runs."""
        return self.rule.subject if side == "A" else self.rule.baseline or ""

    def processes_info(self, pair: int, side: str, pid: int) -> dict:
        """The info dict of one worker process (created on first use)."""
        for p in self.processes:
            if p["pair"] == pair and p["side"] == ROLE[side]:
                return p["info"]
        self.processes.append(
            {"pair": pair, "side": ROLE[side], "tier": self.tier(side), "pid": pid, "info": {}}
        )
        return self.processes[-1]["info"]

    def busy_pairs(self) -> set[int]:
        """Pairs measured while the machine was busy with other work (left out of estimates)."""
        return {p.pair for p in self.loads if p.busy}

    def floor(self, cell: dict[str, Any]) -> Floor:
        """The variance floor a timed cell's interval gets here (none without calibration)."""
        if not self.timed or self.floors is None:
            return NO_FLOOR
        return self.floors.cell_floor(self.check.module, self.tier("A"), self.tier("B"), cell)

    def summaries(self) -> list[stats.CellSummary | None]:
        """Per-cell statistics over the pairs measured on a quiet machine, None for cells with
        fewer than two such pairs; each interval at least as wide as this environment's floor."""
        out: list[stats.CellSummary | None] = []
        busy = self.busy_pairs()
        for c in self.cells:
            pairs = [i for i in c.complete_pairs() if i not in busy]
            if len(pairs) < 2:
                out.append(None)
                continue
            a = [c.samples["A"][i] for i in pairs]
            b = [c.samples["B"][i] for i in pairs]
            out.append(
                stats.summarize_cell(
                    c.label,
                    a,
                    b,
                    metric=self.rule.metric,
                    better=self.rule.better,
                    timed=self.timed,
                    floor_sd=self.floor(c.cell).sd,
                    floor_df=self.floor(c.cell).df,
                )
            )
        return out

    def floor_record(self) -> dict[str, Any] | None:
        """Which variance floor the record's intervals got, from which report (None: none)."""
        if self.kind != "timed" or self.floors is None:
            return None
        out = self.floors.describe(self.check.module, self.tier("A"), self.tier("B"))
        return {**out, "cells": {c.label: asdict(self.floor(c.cell)) for c in self.cells}}

    def note(self) -> str:
        """A sentence qualifying a verdict: a busy machine (the context adds scope, stand-in)."""
        return busy_sentence(self.loads)

    def context(self) -> Context:
        """What the verdict is judged in beyond its cells: the claim's and this run's device,
        what the check stands in for, published figures, the label of a fallback."""
        return Context(claim_device=self.check.device, run_device=self.options.device,
                       stands_in=self.check.stands_in, evidence=tuple(self.evidence),
                       fallback=self.check.fallback)  # fmt: skip

    def judge(self) -> Verdict:
        """The verdict from the samples so far; too few quiet pairs make it inconclusive."""
        estimates = [
            CellEstimate(
                cell_title(c.cell),
                s.ratio,
                s.ci_low,
                s.ci_high,
                s.subject_median,
                s.baseline_median,
                _whole(c.cell.get("batch")),
                _whole(c.cell.get("size")),
            )
            for c, s in zip(self.cells, self.summaries(), strict=True)
            if s is not None
        ]
        ctx = self.context()
        if not estimates and self.busy_pairs():
            return Verdict(
                Label.INCONCLUSIVE,
                "Inconclusive (machine busy): fewer than two process pairs ran on a quiet"
                f" machine.{self.note()}{ctx.tail()}",
                scope=ctx.scope,
            )
        return judge(self.rule, estimates, note=self.note(), context=ctx)

    def sharing(self, check: Check, record_id: str | None) -> CheckState:
        """A state for another claim's check that reuses this one's measurement."""
        other = copy.copy(self)
        other.check, other.claim_id, other.rule = check, check.claim_id, check.rule
        other.started, other.t0 = utc_now(), time.monotonic()
        other.shared_from = record_id or self.claim_id
        return other

    def rejudge(self, measured: Any) -> Verdict:
        """This check's verdict on a shared measurement (a failure stays the failure it was)."""
        if measured.status != RunStatus.OK:
            return measured.verdict
        verdict = self.judge()
        source = self.shared_from or "another claim"
        return Verdict(verdict.label, f"{verdict.explanation} Measured once for this claim and"
                       f" {measured.claim_id} (record {source}).", verdict.qualifier,
                       verdict.scope)  # fmt: skip

    def failed(self, exc: RunFailure) -> Verdict:
        """The verdict of a check that could not finish."""
        self.errors.append({"where": "run", "reason": exc.reason, "detail": exc.detail})
        if isinstance(exc, NotCheckableHere):
            return not_checkable(exc.reason)
        return Verdict(Label.INCONCLUSIVE, f"The run failed: {exc.reason.rstrip('.')}.")

    def to_record(
        self, verdict: Verdict, status: RunStatus, environment: dict[str, Any], env_id: str
    ) -> dict[str, Any]:
        """The run record (the format is kg.records')."""
        skip = verdict.label == Label.NOT_CHECKABLE or self.kind == "probe"
        sums = [] if skip else self.summaries()
        cells = []
        for i, c in enumerate(self.cells):
            cells.append(
                {
                    "label": c.label,
                    "cell": c.cell,
                    "calls_per_sample": {ROLE[s]: c.calls.get(s) for s in SIDES},
                    "samples": {ROLE[s]: c.samples[s] for s in SIDES},
                    "cpu_samples": {ROLE[s]: c.cpu_samples[s] for s in SIDES},
                    "machine": {
                        ROLE[s]: {"others": c.others[s], "steal": c.steals[s], "span": c.spans[s]}
                        for s in SIDES
                    },
                    "measurements": {ROLE[s]: c.measurements[s] for s in SIDES},
                    "summary": sums[i].to_dict() if i < len(sums) and sums[i] else None,
                    "warmup": {ROLE[s]: c.warmup[s] for s in SIDES},
                    "fairness": {
                        "max_abs_diff": c.max_abs_diff,
                        "rtol": self.options.output_rtol,
                        "atol": self.options.output_atol,
                        "agree": c.agree,
                    },
                }
            )
        record = {
            "schema_version": records.SCHEMA_VERSION,
            "record_id": "",
            "claim_id": self.claim_id,
            "check_id": self.check.check_id,
            "status": status.value,
            "check": self.check.to_dict(),
            "options": self.options.to_dict(),
            "verdict": verdict.to_dict(),
            "started": self.started,
            "ended": utc_now(),
            "duration_s": round(self.elapsed(), 3),
            "environment_id": env_id,
            "environment": environment,
            "git_commit": codehash.git_commit(),
            "benchmark_code": codehash.benchmark_code(self.check.module),
            "kind": self.kind,
            "tiers": {
                ROLE[s]: {"name": self.tier(s), "framework": self.tiers.get(self.tier(s))}
                for s in SIDES
            },
            "frameworks": self.frameworks,
            "cells": cells,
            "processes": self.processes,
            "order": self.order,
            "pairs": self.pairs,
            "load": [p.to_dict() for p in self.loads],
            "allocator": dict(ALLOCATOR),
            "cell_orders": {str(k): v for k, v in sorted(self.cell_orders.items())},
            "variance_floor": self.floor_record(),
            "probe": self.probe,
            "errors": self.errors,
        }
        if self.data is not None:
            record["data"] = self.data
        if self.shared_from:
            record["shared_from"] = self.shared_from
        return record
