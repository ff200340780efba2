"""What a run of one check accumulates (samples, order, warm-up, fairness, errors) and the record.

Sides are letters: "A" is the rule's subject tier, "B" its baseline. Samples are kept per cell, per
side, per process pair, in seconds per call (or one value per process for single-shot benchmarks).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kg import records
from kg.model import Check, Label, RunStatus, Verdict
from kg.textutil import utc_now
from verify.judge import stats
from verify.judge.verdicts import CellEstimate, judge, not_checkable, scope_note
from verify.run import codehash
from verify.run.failures import NotCheckableHere, RunFailure
from verify.run.options import RunOptions

SIDES = ("A", "B")
BUSY = 1.5  # wall over CPU time above which a one-thread run is called busy
ROLE = {"A": "subject", "B": "baseline"}


def cell_title(cell: dict[str, Any]) -> str:
    """How an explanation names a cell: "batch 1, 28 px" where the cell says so, else its label."""
    if "batch" in cell and "size" in cell:
        return f"batch {cell['batch']}, {cell['size']} px"
    return str(cell.get("label", ""))


@dataclass
class CellData:
    """Everything measured for one condition cell."""

    cell: dict
    samples: dict[str, list[list[float]]] = field(default_factory=lambda: {s: [] for s in SIDES})
    cpu_samples: dict[str, list[list[float]]] = field(
        default_factory=lambda: {s: [] for s in SIDES}
    )
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

    def n_complete(self) -> int:
        """Process pairs with samples on both sides."""
        return min(sum(1 for p in self.samples[s] if p) for s in SIDES)


class CheckState:
    """One check in progress: inputs, accumulated measurements and the record they become."""

    def __init__(self, check: Check, options: RunOptions) -> None:
        self.check, self.options = check, options
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

    def summaries(self) -> list[stats.CellSummary | None]:
        """Per-cell statistics, None for cells with fewer than two complete pairs."""
        out: list[stats.CellSummary | None] = []
        for c in self.cells:
            n = c.n_complete()
            if n < 2:
                out.append(None)
                continue
            a = [p for p in c.samples["A"] if p][:n]
            b = [p for p in c.samples["B"] if p][:n]
            out.append(
                stats.summarize_cell(
                    c.label,
                    a,
                    b,
                    metric=self.rule.metric,
                    better=self.rule.better,
                    timed=self.timed,
                )
            )
        return out

    def busy(self) -> float | None:
        """Median wall time over CPU time of all samples: how much the machine was shared.

        Meaningful for one-thread CPU runs only (more threads or a GPU make CPU time differ from
        wall time for other reasons), None elsewhere or before any sample.
        """
        if self.options.device != "cpu" or self.options.thread_count() != 1:
            return None
        ratios = [
            w / c
            for cell in self.cells
            for side in SIDES
            for ws, cs in zip(cell.samples[side], cell.cpu_samples[side], strict=False)
            for w, c in zip(ws, cs, strict=False)
            if c > 0
        ]
        return float(np.median(ratios)) if ratios else None

    def note(self) -> str:
        """Sentences qualifying a verdict: device outside the claim's scope, a busy machine."""
        text = scope_note(self.check.device, self.options.device)
        busy = self.busy()
        if busy is not None and busy > BUSY:
            text += (
                f" The machine was busy with other work during the run (wall time {busy:.1f}x"
                " the CPU time), which widens the intervals."
            )
        return text

    def judge(self) -> Verdict:
        """The verdict from the samples so far."""
        estimates = [
            CellEstimate(cell_title(c.cell), s.ratio, s.ci_low, s.ci_high)
            for c, s in zip(self.cells, self.summaries(), strict=True)
            if s is not None
        ]
        return judge(self.rule, estimates, note=self.note())

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
            "busy": self.busy(),
            "probe": self.probe,
            "errors": self.errors,
        }
        if self.data is not None:
            record["data"] = self.data
        return record
