"""A/A statistics: how often the method calls a difference where there is none (pure).

``simulate_aa`` draws synthetic samples (no framework) from a model with the troubles real runs
have: each process starts a little faster or slower than another, the machine drifts during a pair
(clock, heat, a neighbour), samples are noisy with occasional outliers. Taking the samples in
interleaved (A B B A) or blocked (all A, then all B) order shows why the runner interleaves.
``tally`` judges A/A results with two rules a correct method must not get wrong: "about 1.0x"
(tolerance t; any does-not-hold is false) and "at least 1.1x" (no tolerance; any holds is false),
and counts how often the 95% CI excludes 1.0 (a false "significant difference"), which should
happen about 5% of the time. Coverage asks the re-run question directly: how many later runs'
estimates fall inside the first run's 95% interval, and over every ordered pair of runs, how often
one run's interval holds another's estimate (about 95% if the interval covers run-to-run spread;
a little less in pairs, since the other estimate has its own noise).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from kg.model import Label, Rule
from verify.judge import stats
from verify.judge.explain import CellEstimate
from verify.judge.verdicts import judge

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
    covered_by_first: float | None = None  # later runs' estimates inside the first run's CI
    pairwise_coverage: float | None = None  # run j's estimate inside run i's CI, over i != j

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for --json."""
        return asdict(self)


def aa_rules(tolerance: float) -> tuple[Rule, Rule]:
    """The two rules an A/A result is judged by."""
    sides = {"subject": "a", "baseline": "a"}
    return (
        Rule.from_dict({**ABOUT_ONE, **sides, "tolerance": tolerance}),
        Rule.from_dict({**AT_LEAST, **sides}),
    )


def coverage(summaries: list[stats.CellSummary]) -> tuple[float | None, float | None]:
    """(share of later runs inside the first run's CI, share of ordered pairs i != j whose
    estimate j lies inside interval i); None when there are fewer than two runs."""
    if len(summaries) < 2:
        return None, None
    first, later = summaries[0], summaries[1:]
    by_first = sum(first.ci_low <= s.ratio <= first.ci_high for s in later) / len(later)
    pairs = [(a, b) for i, a in enumerate(summaries) for j, b in enumerate(summaries) if i != j]
    inside = sum(a.ci_low <= b.ratio <= a.ci_high for a, b in pairs)
    return by_first, inside / len(pairs)


def tally(summaries: list[stats.CellSummary], order: str, tolerance: float) -> AAReport:
    """Rates of false verdicts over A/A cell summaries (one cell per run)."""
    about, at_least = aa_rules(tolerance)
    excl = about_false = about_holds = at_least_false = 0
    for s in summaries:
        cell = [CellEstimate("", s.ratio, s.ci_low, s.ci_high)]
        excl += s.ci_low > 1.0 or s.ci_high < 1.0
        label = judge(about, cell).label
        about_false += label == Label.DOES_NOT_HOLD
        about_holds += label == Label.HOLDS
        at_least_false += judge(at_least, cell).label == Label.HOLDS
    n = max(len(summaries), 1)
    by_first, pairwise = coverage(summaries)
    return AAReport(
        runs=len(summaries),
        order=order,
        ci_excludes_one=excl / n,
        about_false=about_false / n,
        about_holds=about_holds / n,
        at_least_false=at_least_false / n,
        median_half_width=float(np.median([s.half_width for s in summaries])) if summaries else 0.0,
        covered_by_first=by_first,
        pairwise_coverage=pairwise,
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
    for _ in range(runs):
        a, b = [], []
        for _ in range(pairs):
            sa, sb = simulate_pair(
                rng, rounds, order, drift, drift_sd, process_sd, noise_sd, outliers
            )
            a.append(sa)
            b.append(sb)
        summaries.append(stats.summarize_cell("", a, b, metric="median_latency", better="lower"))
    return tally(summaries, order, tolerance)
