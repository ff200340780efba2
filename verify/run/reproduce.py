"""Repeatability, measured: run a claim's check several times and say whether its verdict repeats.

Every run is a real run and writes its record. The report says, per claim, the labels the runs
gave (a decided label must repeat; holds in one run and does not hold in another is a failure of
the method), and per cell the ratio's range over the runs and two coverage counts:

- ``inside_first``: how many later runs' ratios fall inside the first run's interval;
- ``cover_median``: how many runs' intervals contain the median of all runs' ratios.

A 95% interval that accounts for run-to-run spread covers the median in about 19 of 20 runs; a
later run's estimate falls inside one run's interval less often than that (both carry noise),
about 83% of the time for well-calibrated intervals.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.environments import environment_id
from kg.fsutil import write_atomic
from kg.model import Check, Label, plain
from kg.paths import calibration_dir, find_root
from kg.textutil import file_stamp, utc_now
from verify.run import environment
from verify.run.engine import guarded, run_check
from verify.run.options import RunOptions, RunResult
from verify.run.placement import place


@dataclass(frozen=True)
class CellSpread:
    """One cell over the runs: each run's ratio and interval, and how the intervals cover."""

    label: str
    ratios: list[float]
    intervals: list[tuple[float, float]]
    inside_first: int  # later runs whose ratio lies inside the first run's interval
    cover_median: int  # runs whose interval contains the median of all runs' ratios

    @property
    def spread(self) -> float:
        """Largest over smallest ratio (1.0: the runs agree exactly)."""
        return max(self.ratios) / min(self.ratios) if self.ratios else 1.0


@dataclass(frozen=True)
class Repeatability:
    """One claim checked several times."""

    claim_id: str
    labels: list[str]
    cells: list[CellSpread]
    records: list[str]
    seconds: list[float]
    repeats: bool = field(default=False)  # every run gave the same label
    reason: str = ""  # why it was not run here (then labels is empty)

    @property
    def flips(self) -> bool:
        """Whether one run said holds and another does not hold."""
        return {Label.HOLDS.value, Label.DOES_NOT_HOLD.value} <= set(self.labels)


def spread(results: list[RunResult]) -> list[CellSpread]:
    """Per cell, the ratios and intervals of runs that measured it, and their coverage."""
    by_cell: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        for c in (r.record or {}).get("cells", []):
            if c.get("summary"):
                by_cell.setdefault(c["label"], []).append(c["summary"])
    out = []
    for label, sums in by_cell.items():
        ratios = [s["ratio"] for s in sums]
        cis = [(s["ci_low"], s["ci_high"]) for s in sums]
        mid = statistics.median(ratios)
        first = cis[0]
        out.append(CellSpread(
            label, ratios, cis,
            inside_first=sum(first[0] <= r <= first[1] for r in ratios[1:]),
            cover_median=sum(lo <= mid <= hi for lo, hi in cis),
        ))  # fmt: skip
    return out


def reproduce(
    checks: list[Check],
    times: int,
    options: RunOptions,
    *,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> list[Repeatability]:
    """Run each check `times` times in a row and report how its verdict and ratios repeat,
    guarded as `verify run` is (verify.run.engine.guarded)."""
    with guarded(options):
        return _reproduce(checks, times, options, on_progress=on_progress)


def _reproduce(
    checks: list[Check],
    times: int,
    options: RunOptions,
    *,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> list[Repeatability]:
    """Run each check `times` times in a row and report how its verdict and ratios repeat."""
    env = environment.collect()
    cuda = environment.has_cuda()
    out = []
    for check in checks:
        # placed as `verify run` places it: a claim stated for GPUs is not reproduced on a CPU
        where = place(check, options, "auto", cuda=cuda)
        if where.options is None:
            out.append(Repeatability(check.claim_id, [], [], [], [], reason=where.reason))
            continue
        results = []
        for i in range(times):
            if on_progress:
                on_progress(check.claim_id, i + 1, times)
            results.append(run_check(check, where.options, environment=env))
        labels = [r.verdict.label.value if r.verdict else r.status.value for r in results]
        out.append(Repeatability(
            claim_id=check.claim_id, labels=labels, cells=spread(results),
            records=[str(r.path) for r in results if r.path],
            seconds=[float((r.record or {}).get("duration_s") or 0.0) for r in results],
            repeats=len(set(labels)) == 1,
        ))  # fmt: skip
    return out


def save_report(rows: list[Repeatability], options: RunOptions, root: Path | None = None) -> Path:
    """Keep the report under data/calibration/ (the site's method page shows it)."""
    env = {**environment.collect(), "timing_threads": options.thread_count()}
    env_id = environment_id(env)
    measured = utc_now()
    path = (
        calibration_dir(Path(root or find_root()))
        / f"{file_stamp(measured)}-reproduce-{env_id}.json"
    )
    report = {"kind": "reproduce", "measured": measured, "environment_id": env_id,
              "options": options.to_dict(),
              "claims": [{**plain(r), "flips": r.flips,
                          "cells": [{**plain(c), "spread": c.spread} for c in r.cells]}
                         for r in rows]}  # fmt: skip
    write_atomic(path, json.dumps(report, indent=1) + "\n")
    return path
