"""A/A calibration through the real runner, and the harness's own overhead.

``run_aa`` puts a tier against itself through the same runner and verdict logic as a claim;
verify.judge.calibration holds the statistics and the simulation. From the A/A series (each run's
per-pair log ratios, kept in the report) ``floor_row`` estimates the tier's variance floor
(verify.judge.floors), which later timed runs in this environment apply (verify.run.floors), and
re-judges the series with it, each run's floor estimated from the other runs. ``calibrate`` does
all of it and ``save_report`` keeps the report under data/calibration/ for the site's method page.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kg.environments import environment_id
from kg.fsutil import write_atomic
from kg.model import Check, CheckType, Kind, Rule, RunStatus
from kg.paths import calibration_dir, find_root
from kg.textutil import file_stamp, utc_now
from verify.judge import floors, stats
from verify.judge.calibration import ABOUT_ONE, AAReport, simulate_aa, tally
from verify.run import environment
from verify.run.engine import run_check
from verify.run.failures import CheckError
from verify.run.options import RunOptions
from verify.run.spawn import WorkerProcess


def run_aa(
    module: str,
    tier: str,
    params: dict[str, Any],
    runs: int,
    options: RunOptions,
    *,
    tolerance: float = 0.1,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[AAReport, dict[str, list[list[float]]]]:
    """A/A false-verdict rates through the real runner: `tier` against itself, `runs` times;
    with them the series, per size class one list of per-pair log ratios per run and cell."""
    check = Check(
        claim_id=f"calibrate-{tier}", kind=Kind.PERFORMANCE, benchmark="calibrate", module=module,
        benchmark_type=CheckType.BENCHMARK, parameters=params,
        rule=Rule.from_dict({**ABOUT_ONE, "subject": tier, "baseline": tier,
                             "tolerance": tolerance}),
        conditions={"device": "any"},
    )  # fmt: skip
    env = environment.collect()
    # the intervals are judged as the pairs make them: a floor from an earlier report would
    # hide the very spread this measures
    options = dataclasses.replace(options, write=False, variance_floor=False)
    summaries, series = [], {}
    for i in range(runs):
        result = run_check(check, options, environment=env)
        if result.status != RunStatus.OK or result.record is None:
            raise CheckError(f"A/A run of {tier} failed: {result.reason}")
        for c in result.record["cells"]:
            if c["summary"]:
                summaries.append(c["summary"])
                logs = [math.log(r) for r in c["summary"]["pair_ratios"]]
                series.setdefault(floors.size_class(c["cell"]), []).append(logs)
        if on_progress:
            on_progress(i + 1, runs)
    return tally([stats.CellSummary(**s) for s in summaries], f"runner {tier}", tolerance), series


def floor_row(module: str, tier: str, series: dict[str, list[list[float]]]) -> dict[str, Any]:
    """A tier's variance floor per size class and pooled over classes, each with its
    leave-one-out check (intervals excluding 1 and re-run coverage, before and after)."""
    by_class: dict[str, Any] = {}
    pooled = [run for cls in sorted(series) for run in series[cls]]
    for cls, runs in [*sorted(series.items()), (floors.ALL_SIZES, pooled)]:
        usable = [r for r in runs if len(r) >= 2]
        if len(usable) < 3 or (cls == floors.ALL_SIZES and floors.ALL_SIZES in by_class):
            continue
        by_class[cls] = {**floors.estimate(usable).to_dict(),
                         "leave_one_out": floors.leave_one_out(usable).to_dict()}  # fmt: skip
    return {"module": module, "tier": tier, "by_class": by_class, "series": series}


def measure_overhead(calls: int = 200_000, samples: int = 20) -> dict[str, float]:
    """The harness's own cost: per timed call (no-op tier) and per sample round trip."""
    with WorkerProcess("noop", threads=1, device="cpu", mem_cap_mb=2048) as w:
        ctx = {"device": "cpu", "threads": 1, "seed": 0, "scratch": ""}
        sid = w.call("open", 60, module="verify.benchmarks.selftest", tier="noop",
                     cell={"label": "noop", "size": 1}, params={}, ctx=ctx)["sid"]  # fmt: skip
        w.call("warmup", 60, sid=sid)
        in_loop = min(w.call("sample", 60, sid=sid, calls=calls, n=samples)["wall"])
        trips = []
        for _ in range(samples):
            t0 = time.perf_counter()
            w.call("sample", 60, sid=sid, calls=1, n=1)
            trips.append(time.perf_counter() - t0)
    bare = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(calls):
            pass
        bare.append((time.perf_counter() - t0) / calls)
    return {
        "per_call_s": in_loop,  # loop + call of an empty function, all inside the clock
        "bare_loop_s": min(bare),  # an empty loop timed the same way, for comparison
        "round_trip_s": float(np.median(trips)),  # one sample request, outside the clock
        "calls": calls,
    }


AA_MODULE = "verify.benchmarks.latency"
# its inference tiers, every one of which runs on a CPU (the engine may not import the module
# itself, whose sessions import the frameworks; tests/test_cli_calibrate.py keeps the two equal)
AA_TIERS = ("torch-eager", "torch-compile", "keras-predict", "keras-call", "tf-function", "tf-xla",
            "jax-jit", "keras-jax-predict", "keras-jax-call")  # fmt: skip
DEFAULT_AA = ((AA_MODULE, "torch-eager"), (AA_MODULE, "keras-call"))


def aa_tiers(names: list[str]) -> tuple[tuple[str, str], ...]:
    """The latency tiers to put against themselves, in the order given (a repeat once);
    ValueError, naming the valid ones, for a name that is not one of AA_TIERS."""
    unknown = [n for n in names if n not in AA_TIERS]
    if unknown:
        raise ValueError(f"unknown tier{'s' * (len(unknown) > 1)} {', '.join(unknown)}: use"
                         f" one of {', '.join(AA_TIERS)}")  # fmt: skip
    return tuple((AA_MODULE, n) for n in dict.fromkeys(names))


AA_PARAMS = {"model": "small-cnn", "batch_sizes": [1], "input_sizes": [28], "channels": 3,
             "classes": 8}  # fmt: skip


def calibrate(
    runs: int,
    options: RunOptions,
    *,
    simulations: int = 500,
    tolerance: float = 0.1,
    tiers: tuple[tuple[str, str], ...] = DEFAULT_AA,
    params: dict[str, Any] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The whole calibration: simulated A/A (interleaved vs blocked), real A/A runs, overhead."""
    say = on_progress or (lambda message: None)
    report: dict[str, Any] = {"tolerance": tolerance, "simulated": [], "runner": [],
                              "floors": [], "overhead": None}  # fmt: skip
    for order in ("interleaved", "blocked"):
        say(f"simulating {simulations} A/A comparisons, {order} order")
        report["simulated"].append(
            simulate_aa(simulations, order=order, tolerance=tolerance).to_dict()
        )
    for module, tier in tiers if runs > 0 else ():
        say(f"{runs} A/A runs of {tier} through the runner")
        done = lambda i, n, tier=tier: say(f"{tier}: {i} of {n} A/A runs done")  # noqa: E731
        try:
            aa, series = run_aa(module, tier, params or AA_PARAMS, runs, options,
                                tolerance=tolerance, on_progress=done)  # fmt: skip
            report["runner"].append(aa.to_dict())
            report["floors"].append(floor_row(module, tier, series))
        except CheckError as e:
            report["runner"].append({"order": f"runner {tier}", "error": str(e)})
    say("measuring the harness overhead")
    report["overhead"] = measure_overhead()
    return report


def save_report(report: dict[str, Any], root: Path | None = None) -> Path:
    """Write a calibration report to data/calibration/<time>-<environment>.json (append-only,
    atomic), with the environment it was measured in; returns the path."""
    env = environment.collect()
    env_id = environment_id(env)
    started = utc_now()
    folder = calibration_dir(Path(root or find_root()))
    path = folder / f"{file_stamp(started)}-{env_id}.json"
    write_atomic(path, json.dumps({**report, "environment_id": env_id, "measured": started,
                                   "environment": env}, indent=1) + "\n")  # fmt: skip
    return path
