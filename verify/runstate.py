"""What a run of one check accumulates (samples, order, warm-up, fairness, errors) and the record.

Sides are letters: "A" is the rule's subject tier, "B" its baseline. Samples are kept per cell, per
side, per process pair, in seconds per call (or one value per process for single-shot benchmarks).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

from verify import records, stats
from verify.benchmarks.context import Context
from verify.verdicts import (
    INCONCLUSIVE,
    NOT_CHECKABLE,
    CellEstimate,
    Rule,
    Verdict,
    judge,
    not_checkable,
    scope_note,
)

SIDES = ("A", "B")
BUSY = 1.5  # wall over CPU time above which a one-thread run is called busy
ROLE = {"A": "subject", "B": "baseline"}


@dataclass
class RunOptions:
    """How to run checks: time budget, device, threads, process pairs, limits."""

    budget: float = 40.0  # seconds per check; the minimum of min_pairs pairs always runs
    device: str = "cpu"  # "cpu" or "cuda"
    threads: int = 1  # 0: the number of physical cores; 1 keeps shared machines reproducible
    seed: int = 0
    min_pairs: int = 3
    max_pairs: int = 6
    min_rounds: int = 2  # ABBA rounds per cell per pair, whatever the budget
    min_sample_s: float = 0.02  # calls per sample are calibrated so one sample lasts this long
    mem_cap_mb: int = 0  # per worker; 0: verify.spawn.default_mem_cap_mb()
    setup_timeout: float = 300.0  # seconds for start-up, describe, open, warm-up, probes
    sample_timeout: float = 60.0  # seconds allowed for one sample beyond its expected length
    output_rtol: float = 1e-3  # fairness: both sides' reference outputs must agree this closely
    output_atol: float = 1e-4
    write: bool = True
    results_dir: Path | None = None
    python: str = ""  # interpreter the workers run (a matrix venv); "" = this one

    def thread_count(self) -> int:
        """The thread count both sides get."""
        return self.threads or psutil.cpu_count(logical=False) or 1

    def context(self, scratch: str) -> Context:
        """The benchmark Context for this run."""
        return Context(
            device=self.device, threads=self.thread_count(), seed=self.seed, scratch=scratch
        )

    def to_dict(self) -> dict:
        """The options that shape a result, for the record."""
        return {
            "budget_s": self.budget,
            "device": self.device,
            "threads": self.thread_count(),
            "seed": self.seed,
            "min_pairs": self.min_pairs,
            "max_pairs": self.max_pairs,
            "min_sample_s": self.min_sample_s,
            "mem_cap_mb": self.mem_cap_mb,
        }


@dataclass
class RunResult:
    """The outcome of one check: status, verdict, the record and where it was written."""

    claim_id: str
    status: str  # "ok" | "error" | "not-checkable" | "skipped"
    verdict: Verdict | None
    record: dict | None = None
    path: Path | None = None
    reason: str = ""

    def to_dict(self) -> dict:
        """Summary for --json output (the record itself stays in its file)."""
        return {
            "claim_id": self.claim_id,
            "status": self.status,
            "verdict": self.verdict.to_dict() if self.verdict else None,
            "record": str(self.path) if self.path else None,
            "reason": self.reason,
            "cells": [c["summary"] for c in (self.record or {}).get("cells", [])],
        }


class CheckFailed(Exception):
    """The check cannot finish: kind "error" or "not-checkable", with a reader's reason."""

    def __init__(self, kind: str, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.kind, self.reason, self.detail = kind, reason, detail


def cell_title(cell: dict) -> str:
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

    def __init__(self, check: dict, options: RunOptions) -> None:
        self.check, self.options = check, options
        self.claim_id = str(check["claim_id"])
        self.rule = Rule.from_dict(check["rule"])
        self.started, self.t0 = records.utc_now(), time.monotonic()
        self.kind = ""  # timed | single | probe, from the worker's describe
        self.tiers: dict[str, str] = {}
        self.cells: list[CellData] = []
        self.order: list[list] = []
        self.pairs: list[dict] = []  # per process pair: set-up and measuring seconds, rounds
        self.processes: list[dict] = []
        self.frameworks: dict[str, dict] = {}
        self.errors: list[dict] = []
        self.probe: dict | None = None
        self.timed = True

    def elapsed(self) -> float:
        """Seconds since the check started."""
        return time.monotonic() - self.t0

    def tier(self, side: str) -> str:
        """The tier a side runs."""
        return self.rule.subject if side == "A" else self.rule.baseline

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
        text = scope_note(
            self.check.get("conditions", {}).get("device", "any"), self.options.device
        )
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

    def failed(self, exc: CheckFailed) -> Verdict:
        """The verdict of a check that could not finish."""
        self.errors.append({"where": "run", "reason": exc.reason, "detail": exc.detail})
        if exc.kind == "not-checkable":
            return not_checkable(exc.reason)
        return Verdict(INCONCLUSIVE, f"The run failed: {exc.reason.rstrip('.')}.")

    def to_record(self, verdict: Verdict, status: str, environment: dict, env_id: str) -> dict:
        """The run record (schema in verify.records)."""
        sums = self.summaries() if verdict.label != NOT_CHECKABLE and self.kind != "probe" else []
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
        return {
            "schema_version": records.SCHEMA_VERSION,
            "record_id": "",
            "claim_id": self.claim_id,
            "status": status,
            "check": self.check,
            "options": self.options.to_dict(),
            "verdict": verdict.to_dict(),
            "started": self.started,
            "ended": records.utc_now(),
            "duration_s": round(self.elapsed(), 3),
            "environment_id": env_id,
            "environment": environment,
            "git_commit": records.git_commit(),
            "benchmark_code_sha256": records.code_hash(self.check["module"]),
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
