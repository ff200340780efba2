"""How checks are run (RunOptions) and what one check's run gave (RunResult)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from kg.model import MAIN_CHECK, Label, RunStatus, Verdict
from verify.benchmarks.context import Context
from verify.run.machine import BUSY_CORES

DEFAULT_BUDGET_S = 45.0  # seconds per check; `verify run --budget` and `make run` use it


def physical_cores() -> int:
    """This machine's physical cores (at least 1): the default thread count and what the runner
    lets set up at once."""
    return psutil.cpu_count(logical=False) or 1


@dataclass
class RunOptions:
    """How to run checks: time budget, device, threads, process pairs, limits."""

    budget: float = DEFAULT_BUDGET_S  # the minimum of min_pairs pairs always runs
    device: str = "cpu"  # "cpu" or "cuda"
    threads: int = 1  # 0: the number of physical cores; 1 keeps shared machines reproducible
    seed: int = 0
    min_pairs: int = 3
    max_pairs: int = 6
    min_rounds: int = 2  # ABBA rounds per cell per pair, whatever the budget
    pair_seconds: float = 4.0  # how long each process pair takes samples (after min_rounds)
    busy_cores: float | None = BUSY_CORES  # other work above this: pair left out (None: never)
    min_sample_s: float = 0.02  # calls per sample are calibrated so one sample lasts this long
    # With more than one thread, the pause before a sample whenever the side changes: the worker
    # that just sampled keeps its thread pool spinning for a few milliseconds (libgomp's default
    # spin-wait), and on a machine whose cores the run uses it would compete with the next sample.
    settle_s: float = 0.02
    mem_cap_mb: int = 0  # per worker; 0: verify.run.spawn.default_mem_cap_mb()
    setup_timeout: float = 300.0  # seconds for start-up, describe, open, warm-up, probes
    sample_timeout: float = 60.0  # seconds allowed for one sample beyond its expected length
    output_rtol: float = 1e-3  # fairness: both sides' reference outputs must agree this closely
    output_atol: float = 1e-4
    write: bool = True
    results_dir: Path | None = None
    python: str = ""  # interpreter the workers run (a matrix venv); "" = this one
    precision: str = "fp32"  # fp32, or tf32 to let a GPU use TensorFloat-32 where it would
    variance_floor: bool = True  # timed cells get this environment's floor from verify calibrate
    calibration_dir: Path | None = None  # where its reports are; None: data/calibration/

    def thread_count(self) -> int:
        """The thread count both sides get."""
        return self.threads or physical_cores()

    def settle(self) -> float:
        """Seconds to pause before a sample on the other side (none with one thread)."""
        return self.settle_s if self.thread_count() > 1 else 0.0

    def context(self, scratch: str) -> Context:
        """The benchmark Context for this run."""
        return Context(device=self.device, threads=self.thread_count(), seed=self.seed,
                       scratch=scratch, precision=self.precision)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The options that shape a result, for the record."""
        return {
            "budget_s": self.budget,
            "device": self.device,
            "precision": self.precision,
            "threads": self.thread_count(),
            "seed": self.seed,
            "min_pairs": self.min_pairs,
            "max_pairs": self.max_pairs,
            "min_sample_s": self.min_sample_s,
            "settle_s": self.settle(),
            "min_rounds": self.min_rounds,
            "pair_seconds": self.pair_seconds,
            "busy_cores": self.busy_cores,
            "mem_cap_mb": self.mem_cap_mb,
        }


@dataclass
class RunResult:
    """The outcome of one check: status, verdict, the record and where it was written."""

    claim_id: str
    status: RunStatus
    verdict: Verdict | None
    record: dict[str, Any] | None = None
    path: Path | None = None
    reason: str = ""
    state: Any = field(default=None, repr=False)  # the CheckState it came from (in memory only)
    unsaved: str = ""  # why the record is in a fallback folder rather than its results folder
    check_id: str = MAIN_CHECK  # which of the claim's checks this is
    combined: Label | None = None  # the claim's verdict from all its checks in this run

    def to_dict(self) -> dict[str, Any]:
        """Summary for --json output (the record itself stays in its file)."""
        return {
            "claim_id": self.claim_id,
            "check_id": self.check_id,
            "status": self.status.value,
            "verdict": self.verdict.to_dict() if self.verdict else None,
            "record": str(self.path) if self.path else None,
            "record_problem": self.unsaved or None,
            "reason": self.reason,
            "combined": self.combined.value if self.combined else None,
            "cells": [c["summary"] for c in (self.record or {}).get("cells", [])],
        }
