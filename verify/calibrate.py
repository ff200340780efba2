"""A/A calibration: how often the method calls a difference where there is none.

Two ways to ask it. ``simulate_aa`` draws synthetic samples (no framework) from a model with the
troubles real runs have: each process starts a little faster or slower than another, the machine
drifts during a pair (clock, heat, a neighbour), samples are noisy with occasional outliers. Taking
the samples in interleaved (A B B A) or blocked (all A, then all B) order shows why the runner
interleaves. ``run_aa`` puts a tier against itself through the real runner and verdict logic.

Both judge each A/A result with two rules a correct method must not get wrong: "about 1.0x"
(tolerance t; any does-not-hold is false) and "at least 1.1x" (no tolerance; any holds is false).
They also count how often the 95% CI excludes 1.0 (a false "significant difference"), which should
happen about 5% of the time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from verify import stats
from verify.verdicts import DOES_NOT_HOLD, HOLDS, CellEstimate, Rule, judge

ABOUT_ONE = {"metric": "median_latency", "better": "lower", "threshold": 1.0, "quantifier": "about"}
AT_LEAST = {"metric": "median_latency", "better": "lower", "threshold": 1.1, "tolerance": 0.0,
            "quantifier": "at-least"}  # fmt: skip


@dataclass(frozen=True)
class AAReport:
    """False-verdict rates over a number of A/A comparisons."""

    runs: int
    order: str
    ci_excludes_one: float  # share of runs whose 95% CI misses 1.0
    about_false: float  # "about 1.0x" judged does-not-hold
    about_holds: float
    at_least_false: float  # "at least 1.1x" judged holds
    median_half_width: float  # relative CI half-width, median over runs

    def to_dict(self) -> dict:
        """Plain dict for --json."""
        return asdict(self)


def aa_rules(tolerance: float) -> tuple[Rule, Rule]:
    """The two rules an A/A result is judged by."""
    sides = {"subject": "a", "baseline": "a"}
    return (
        Rule.from_dict({**ABOUT_ONE, **sides, "tolerance": tolerance}),
        Rule.from_dict({**AT_LEAST, **sides}),
    )


def tally(summaries: list[stats.CellSummary], order: str, tolerance: float) -> AAReport:
    """Rates of false verdicts over A/A cell summaries (one cell per run)."""
    about, at_least = aa_rules(tolerance)
    excl = about_false = about_holds = at_least_false = 0
    for s in summaries:
        cell = [CellEstimate("", s.ratio, s.ci_low, s.ci_high)]
        excl += s.ci_low > 1.0 or s.ci_high < 1.0
        label = judge(about, cell).label
        about_false += label == DOES_NOT_HOLD
        about_holds += label == HOLDS
        at_least_false += judge(at_least, cell).label == HOLDS
    n = max(len(summaries), 1)
    return AAReport(
        runs=len(summaries),
        order=order,
        ci_excludes_one=excl / n,
        about_false=about_false / n,
        about_holds=about_holds / n,
        at_least_false=at_least_false / n,
        median_half_width=float(np.median([s.half_width for s in summaries])) if summaries else 0.0,
    )


def sample_order(pairs_rounds: int, order: str) -> list[str]:
    """The side of each successive sample in one process pair."""
    if order == "blocked":
        return ["A"] * 2 * pairs_rounds + ["B"] * 2 * pairs_rounds
    return [s for r in range(pairs_rounds) for s in ("ABBA" if r % 2 == 0 else "BAAB")]


def simulate_pair(
    rng: np.random.Generator, rounds: int, order: str, drift: float, drift_sd: float,
    process_sd: float, noise_sd: float, outliers: float,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Synthetic A and B samples of one process pair, both sides truly equal."""
    sides = np.array(sample_order(rounds, order))
    t = np.linspace(-0.5, 0.5, len(sides))
    # the machine slows down over a pair (heat, clock) by `drift` on average, more or less each time
    trend = (drift + drift_sd * rng.standard_normal()) * t
    offset = np.where(sides == "A", *rng.normal(0.0, process_sd, 2))
    noise = rng.normal(0.0, noise_sd, len(sides))
    spikes = np.where(rng.random(len(sides)) < outliers, np.log(1.5), 0.0)
    values = 1e-3 * np.exp(trend + offset + noise + spikes)
    return values[sides == "A"], values[sides == "B"]


def simulate_aa(
    runs: int = 200,
    *,
    order: str = "interleaved",
    pairs: int = 3,
    rounds: int = 10,
    drift: float = 0.05,
    drift_sd: float = 0.05,
    process_sd: float = 0.02,
    noise_sd: float = 0.03,
    outliers: float = 0.03,
    tolerance: float = 0.1,
    seed: int = 0,
) -> AAReport:
    """A/A false-verdict rates of the statistics alone, on synthetic samples."""
    rng = np.random.default_rng(seed)
    summaries = []
    for run in range(runs):
        a, b = [], []
        for _ in range(pairs):
            sa, sb = simulate_pair(
                rng, rounds, order, drift, drift_sd, process_sd, noise_sd, outliers
            )
            a.append(sa)
            b.append(sb)
        summaries.append(
            stats.summarize_cell("", a, b, metric="median_latency", better="lower", seed=run)
        )
    return tally(summaries, order, tolerance)


def run_aa(
    module: str,
    tier: str,
    params: dict,
    runs: int,
    options,
    *,
    tolerance: float = 0.1,
    on_progress: Callable[[int, int], None] | None = None,
) -> AAReport:
    """A/A false-verdict rates through the real runner: `tier` against itself, `runs` times."""
    from verify.runner import run_check

    summaries = []
    check = {
        "claim_id": f"calibrate-{tier}",
        "benchmark": "calibrate",
        "module": module,
        "benchmark_type": "benchmark",
        "parameters": params,
        "rule": {**ABOUT_ONE, "subject": tier, "baseline": tier, "tolerance": tolerance},
        "conditions": {"device": "any"},
    }
    from verify.environment import collect

    environment = collect()
    options = dataclasses.replace(options, write=False)
    for i in range(runs):
        result = run_check(check, options, environment=environment)
        if result.status != "ok":
            raise RuntimeError(f"A/A run of {tier} failed: {result.reason}")
        summaries.extend(c["summary"] for c in result.record["cells"] if c["summary"])
        if on_progress:
            on_progress(i + 1, runs)
    return tally([stats.CellSummary(**s) for s in summaries], f"runner {tier}", tolerance)


def measure_overhead(calls: int = 200_000, samples: int = 20) -> dict:
    """The harness's own cost: per timed call (no-op tier) and per sample round trip."""
    import time

    from verify.spawn import WorkerProcess

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


DEFAULT_AA = (
    ("verify.benchmarks.latency", "torch-eager"),
    ("verify.benchmarks.latency", "keras-call"),
)
AA_PARAMS = {"model": "small-cnn", "batch_sizes": [1], "input_sizes": [28], "channels": 3,
             "classes": 8}  # fmt: skip


def calibrate(
    runs: int,
    options,
    *,
    simulations: int = 500,
    tolerance: float = 0.1,
    tiers: tuple[tuple[str, str], ...] = DEFAULT_AA,
    params: dict | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> dict:
    """The whole calibration: simulated A/A (interleaved vs blocked), real A/A runs, overhead."""
    say = on_progress or (lambda message: None)
    report: dict = {"tolerance": tolerance, "simulated": [], "runner": [], "overhead": None}
    for order in ("interleaved", "blocked"):
        say(f"simulating {simulations} A/A comparisons, {order} order")
        report["simulated"].append(
            simulate_aa(simulations, order=order, tolerance=tolerance).to_dict()
        )
    for module, tier in tiers if runs > 0 else ():
        say(f"{runs} A/A runs of {tier} through the runner")
        done = lambda i, n, tier=tier: say(f"{tier}: {i} of {n} A/A runs done")  # noqa: E731
        try:
            aa = run_aa(module, tier, params or AA_PARAMS, runs, options, tolerance=tolerance,
                        on_progress=done)  # fmt: skip
            report["runner"].append(aa.to_dict())
        except RuntimeError as e:
            report["runner"].append({"order": f"runner {tier}", "error": str(e)})
    say("measuring the harness overhead")
    report["overhead"] = measure_overhead()
    return report


def save_report(report: dict, root=None):
    """Write a calibration report to data/calibration/<time>-<environment>.json (append-only,
    atomic), with the environment it was measured in; returns the path."""
    import json
    from pathlib import Path

    from kg.paths import calibration_dir, find_root
    from verify import environment, records

    env = environment.collect()
    env_id = environment.environment_id(env)
    started = records.utc_now()
    stamp = started.split(".")[0].replace("-", "").replace(":", "") + "Z"
    folder = calibration_dir(Path(root or find_root()))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stamp}-{env_id}.json"
    from verify.output import write_atomic

    write_atomic(path, json.dumps({**report, "environment_id": env_id, "measured": started,
                                   "environment": env}, indent=1) + "\n")  # fmt: skip
    return path
