"""A variance floor for the t interval, estimated from A/A runs on this machine (pure).

Three process pairs give a sample standard deviation with two degrees of freedom, so a run whose
pairs happen to agree gets an interval far narrower than what a re-run would see. An A/A series
(a tier against itself, run after run through the real runner) pools many runs: its per-pair log
ratios show how far one pair's ratio strays from the truth, which for A/A is known to be 1.

``estimate`` turns a series (one list of per-pair log ratios per run) into a floor on the standard
deviation of one pair's log ratio. It takes the larger of two estimates of the same quantity:

- the spread of pairs within runs, pooled over every run (its degrees of freedom add up);
- the spread of the run estimates, scaled to one pair: a run of n pairs whose estimate m misses
  the truth c contributes n (m - c)^2. If runs share nothing, both estimate the same variance;
  if something is shared by the pairs of one run (the state of the machine that hour, the cell
  order a seed gave), only the second sees it, and it is the one a re-run's interval must cover.

A floor is known far better than a run's own spread (its degrees of freedom are the series' runs
or pairs, not a run's pairs less one), so the interval it implies takes the t quantile of its own
degrees of freedom: the interval is the wider of the pairs' own t interval and the floor's. With
the run's t quantile instead (4.30 for three pairs) a floor from twenty runs would give intervals
about twice as wide as the spread it measured.

A cell compares two tiers. An A/A pair holds two processes of the same tier, so its log ratio's
variance is twice one process's; a cell's pair holds one process of each tier, so its variance is
the sum of the two tiers' halves: ``combine`` adds the floors in quadrature and halves the sum,
which gives back the A/A floor when both sides are the same tier (with Welch-Satterthwaite degrees
of freedom). A tier that was not calibrated adds nothing, so the floor is never more than what was
measured.

Floors are kept per tier and input-size class (``size_class``), and pooled over classes for cells
without an input size; a cell gets only its own class's floor, none where its class was not
calibrated.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import numpy as np

from verify.judge import stats
from verify.judge.calibration import coverage

ALL_SIZES = "all"  # the key of a tier's floor pooled over every size class
SMALL_MAX_PX = 64  # inputs up to this size are "small": per-call overhead dominates their time


Tag = TypeVar("Tag")


def rows_in_force(
    reports: Iterable[tuple[Mapping[str, Any], Tag]],
) -> dict[tuple[str, str], tuple[Mapping[str, Any], Tag]]:
    """The floors in force: per (benchmark module, tier), the floor row of the first of
    `reports` (one environment's calibration reports, newest first, each with a tag such as its
    file) that holds floors for the tier, with that report's tag. A newer report of other tiers
    leaves a tier's floors as they were; a row whose A/A runs gave no floor (no size class) holds
    none."""
    out: dict[tuple[str, str], tuple[Mapping[str, Any], Tag]] = {}
    for report, tag in reports:
        rows = report.get("floors")
        for row in rows if isinstance(rows, list) else []:
            if (
                isinstance(row, Mapping)
                and isinstance(row.get("by_class"), Mapping)
                and row["by_class"]
            ):
                out.setdefault((str(row.get("module")), str(row.get("tier"))), (row, tag))
    return out


def size_class(cell: Mapping[str, Any]) -> str:
    """The input-size class a cell's floor is looked up by: small or large (all: no size)."""
    size = cell.get("size")
    if not isinstance(size, int) or isinstance(size, bool):
        return ALL_SIZES
    return "small" if size <= SMALL_MAX_PX else "large"


@dataclass(frozen=True)
class Floor:
    """A floor on one pair's log-ratio standard deviation and its degrees of freedom (None:
    unknown, the run's own are used)."""

    sd: float = 0.0
    df: int | None = None


NO_FLOOR = Floor()


@dataclass(frozen=True)
class FloorEstimate:
    """A floor on one pair's log-ratio standard deviation and the two estimates behind it."""

    sd: float
    df: int  # of the estimate that won
    within_sd: float  # pairs around their own run's mean, pooled over runs
    between_sd: float  # run estimates around the truth, scaled to one pair
    runs: int
    pairs: int

    @property
    def floor(self) -> Floor:
        """The floor the judge applies."""
        return Floor(self.sd, self.df)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for a calibration report."""
        return asdict(self)


def estimate(series: Sequence[Sequence[float]], centre: float | None = 0.0) -> FloorEstimate:
    """The floor from runs' per-pair log ratios. ``centre`` is the true log ratio (0 for A/A);
    None estimates it as the mean of the runs (re-runs of a claim), with the one degree of freedom
    that costs."""
    runs = [np.asarray(r, dtype=float) for r in series if len(r) >= 2]
    if len(runs) < 2:
        raise ValueError("a floor needs at least two runs of at least two pairs each")
    dev = sum(float(np.sum((r - r.mean()) ** 2)) for r in runs)
    within_df = sum(len(r) - 1 for r in runs)
    within = dev / within_df
    means = np.array([r.mean() for r in runs])
    sizes = np.array([len(r) for r in runs], dtype=float)
    if centre is None:
        between_df = len(runs) - 1
        between = float(np.sum(sizes * (means - means.mean()) ** 2)) / between_df
    else:
        between_df = len(runs)
        between = float(np.mean(sizes * (means - centre) ** 2))
    return FloorEstimate(
        sd=math.sqrt(max(within, between)),
        df=between_df if between >= within else within_df,
        within_sd=math.sqrt(within),
        between_sd=math.sqrt(between),
        runs=len(runs),
        pairs=int(sizes.sum()),
    )


def combine(subject: Floor | None, baseline: Floor | None) -> Floor:
    """One cell's floor from its two tiers' A/A floors (None: that tier was not calibrated)."""
    parts = [(f.sd**2 / 2.0, f.df) for f in (subject, baseline) if f is not None and f.sd > 0]
    if not parts:
        return NO_FLOOR
    var = sum(v for v, _ in parts)
    if len(parts) == 1:
        # one side's spread alone: the other side's is unknown, so nothing is added for it
        return Floor(math.sqrt(var), parts[0][1])
    dfs = [df for _, df in parts]
    if any(df is None for df in dfs):
        return Floor(math.sqrt(var), None)
    df = var**2 / sum(v**2 / float(d) for v, d in parts if d)
    return Floor(math.sqrt(var), max(1, int(df)))


def tier_floor(table: Mapping[str, Mapping[str, Floor]], tier: str, cls: str) -> Floor | None:
    """A tier's floor for a size class (None where that class was not calibrated: small inputs
    spread more than large ones, so one class's floor says nothing about another's)."""
    return (table.get(tier) or {}).get(cls)


def cell_floor(
    table: Mapping[str, Mapping[str, Floor]], subject: str, baseline: str, cell: Mapping[str, Any]
) -> Floor:
    """The floor a cell's interval gets: its two tiers' floors for its size class, combined."""
    cls = size_class(cell)
    return combine(tier_floor(table, subject, cls), tier_floor(table, baseline, cls))


def interval(logs: Sequence[float], floor: Floor = NO_FLOOR) -> stats.CellSummary:
    """A cell summary from per-pair log ratios alone (the samples are not needed to re-judge)."""
    arr = np.asarray(logs, dtype=float)
    centre, lo, hi = stats.t_interval(arr, stats.CONFIDENCE, floor.sd, floor.df)
    return stats.CellSummary(
        label="", metric="", subject_median=0.0, baseline_median=0.0, subject_p90=0.0,
        baseline_p90=0.0, ratio=math.exp(centre), ci_low=math.exp(lo), ci_high=math.exp(hi),
        confidence=stats.CONFIDENCE, n_processes=len(arr), n_samples_subject=0,
        n_samples_baseline=0, pair_ratios=tuple(float(math.exp(x)) for x in arr),
    )  # fmt: skip


@dataclass(frozen=True)
class Rejudged:
    """How a series' intervals fare with and without a leave-one-out floor."""

    runs: int
    excludes_before: int  # intervals that miss the truth (A/A: exclude 1)
    excludes_after: int
    coverage_before: float | None  # run j's estimate inside run i's interval, i != j
    coverage_after: float | None
    median_floor_sd: float  # of the floors the runs got, each from the other runs

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for a calibration report."""
        return asdict(self)


def leave_one_out(series: Sequence[Sequence[float]], centre: float | None = 0.0) -> Rejudged:
    """Re-judge every run of a series with a floor estimated from the other runs, so that no run
    helps set its own interval; the truth is ``centre`` (None: the mean of the other runs)."""
    runs = [list(r) for r in series if len(r) >= 2]
    if len(runs) < 3:
        raise ValueError("leave-one-out needs at least three runs of at least two pairs each")
    before: list[stats.CellSummary] = []
    after: list[stats.CellSummary] = []
    sds: list[float] = []
    excl_before = excl_after = 0
    for i, logs in enumerate(runs):
        others = runs[:i] + runs[i + 1 :]
        floor = estimate(others, centre).floor
        truth = centre if centre is not None else float(np.mean([np.mean(r) for r in others]))
        plain, floored = interval(logs), interval(logs, floor)
        excl_before += not plain.ci_low <= math.exp(truth) <= plain.ci_high
        excl_after += not floored.ci_low <= math.exp(truth) <= floored.ci_high
        before.append(plain)
        after.append(floored)
        sds.append(floor.sd)
    return Rejudged(
        runs=len(runs),
        excludes_before=excl_before,
        excludes_after=excl_after,
        coverage_before=coverage(before)[1],
        coverage_after=coverage(after)[1],
        median_floor_sd=float(np.median(sds)),
    )
