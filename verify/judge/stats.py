"""Statistics of a two-sided comparison: per process pair a ratio, across pairs a t interval.

Samples arrive per side as one array per worker process (seconds per call for timed benchmarks,
one value per process for single-shot ones). Processes come in pairs: pair i ran the subject and
the baseline side by side, interleaved, so drift inside a pair hits both sides alike.

The estimand is ``ratio = stat(baseline) / stat(subject)`` when lower is better and
``stat(subject) / stat(baseline)`` when higher is better, so a ratio above 1 always means the subject
wins. ``stat`` is the median (or the 90th percentile for ``p90`` metrics) of a process's samples.
A throughput claim on a timed benchmark converts seconds per call to calls per second first (see
``metric_values``), which makes its ratio the inverse time ratio.

Process pairs are the independent units: what differs between two fresh processes (memory layout,
which cores they got, the state of the machine when they ran) is what a re-run would see again.
So each pair gives one log ratio, and the interval is a t interval over those (P - 1 degrees of
freedom): with three pairs it is wide, as it should be, and it narrows only as pairs agree. The
estimate is the geometric mean of the pairs' ratios, the centre of that interval. A variance floor
(``floor_sd``, on the log scale) adds run-to-run spread that pairs within one run cannot show,
where `verify calibrate` has measured it on this machine (verify.judge.floors).

Samples within a pair only decide how precisely each pair's own ratio is known; they enter through
the spread between pairs. A percentile bootstrap over three clusters, used before, gave intervals
that re-runs fell outside of far more often than 5% of the time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats as sps  # type: ignore[import-untyped]

CONFIDENCE = 0.95
METHOD = "t interval over process pairs of per-pair log ratios of medians"


def quantile_for(metric: str) -> float:
    """Which quantile a metric's statistic is: 0.9 for p90 metrics, else the median."""
    return 0.9 if "p90" in metric else 0.5


def metric_values(samples: npt.ArrayLike, metric: str, better: str, timed: bool) -> np.ndarray:
    """Turn raw samples into values of the metric: seconds become rates for higher-is-better."""
    values = np.asarray(samples, dtype=float)
    if timed and better == "higher":
        return 1.0 / values
    return values


def ratio_of(subject_stat: Any, baseline_stat: Any, better: str) -> Any:
    """The oriented ratio: above 1 means the subject wins."""
    if better == "lower":
        return baseline_stat / subject_stat
    return subject_stat / baseline_stat


def pair_log_ratios(
    subject: Sequence[np.ndarray], baseline: Sequence[np.ndarray], q: float, better: str
) -> np.ndarray:
    """One oriented log ratio per process pair (pairs matched by position)."""
    if len(subject) != len(baseline) or not subject:
        raise ValueError("both sides need the same number of processes, at least one")
    if any(len(p) == 0 for p in (*subject, *baseline)):
        raise ValueError("every process needs at least one sample")
    s = np.array([np.quantile(p, q) for p in subject])
    b = np.array([np.quantile(p, q) for p in baseline])
    logs: np.ndarray = np.log(ratio_of(s, b, better))
    return logs


def t_interval(
    logs: np.ndarray,
    confidence: float = CONFIDENCE,
    floor_sd: float = 0.0,
    floor_df: int | None = None,
) -> tuple[float, float, float]:
    """Centre and bounds (log scale) of the t interval over per-pair log ratios. A floor on the
    standard deviation of a pair, known with ``floor_df`` degrees of freedom (None: as many as
    the pairs have), keeps the interval at least as wide as that spread implies."""
    n = len(logs)
    centre = float(np.mean(logs))
    if n < 2:
        return centre, -math.inf, math.inf
    half = max(_t(confidence, n - 1) * float(np.std(logs, ddof=1)),
               _t(confidence, floor_df or n - 1) * floor_sd) / math.sqrt(n)  # fmt: skip
    return centre, centre - half, centre + half


def _t(confidence: float, df: int) -> float:
    return float(sps.t.ppf(0.5 + confidence / 2.0, df))


@dataclass(frozen=True)
class CellSummary:
    """What one condition cell measured: per-side statistics, the ratio and its CI."""

    label: str
    metric: str
    subject_median: float
    baseline_median: float
    subject_p90: float
    baseline_p90: float
    ratio: float
    ci_low: float
    ci_high: float
    confidence: float
    n_processes: int
    n_samples_subject: int
    n_samples_baseline: int
    method: str = METHOD
    pair_ratios: tuple[float, ...] = ()  # one per process pair, in pair order
    floor_sd: float = 0.0  # the variance floor this cell's interval was given (log scale)
    floor_df: int | None = None  # the degrees of freedom it is known with
    floored: bool = False  # whether the floor, not the pairs' own spread, set the interval

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the run record."""
        out = asdict(self)
        out["pair_ratios"] = list(self.pair_ratios)
        return out

    @property
    def half_width(self) -> float:
        """Relative half-width of the CI (0.1 means +-10% around the ratio)."""
        return (self.ci_high - self.ci_low) / 2.0 / self.ratio


def summarize_cell(
    label: str,
    subject: Sequence[npt.ArrayLike],
    baseline: Sequence[npt.ArrayLike],
    *,
    metric: str,
    better: str,
    timed: bool = True,
    floor_sd: float = 0.0,
    floor_df: int | None = None,
) -> CellSummary:
    """Summarise one cell's raw samples (one list per process and side) against a rule."""
    s_proc = [metric_values(p, metric, better, timed) for p in subject]
    b_proc = [metric_values(p, metric, better, timed) for p in baseline]
    logs = pair_log_ratios(s_proc, b_proc, quantile_for(metric), better)
    centre, lo, hi = t_interval(logs, CONFIDENCE, floor_sd, floor_df)
    own = t_interval(logs, CONFIDENCE)[2] - centre if len(logs) >= 2 else math.inf
    raw_s = np.concatenate([np.asarray(p, float) for p in subject])
    raw_b = np.concatenate([np.asarray(p, float) for p in baseline])
    return CellSummary(
        label=label,
        metric=metric,
        subject_median=float(np.median(raw_s)),
        baseline_median=float(np.median(raw_b)),
        subject_p90=float(np.quantile(raw_s, 0.9)),
        baseline_p90=float(np.quantile(raw_b, 0.9)),
        ratio=math.exp(centre),
        ci_low=math.exp(lo),
        ci_high=math.exp(hi),
        confidence=CONFIDENCE,
        n_processes=len(logs),
        n_samples_subject=len(raw_s),
        n_samples_baseline=len(raw_b),
        pair_ratios=tuple(float(math.exp(x)) for x in logs),
        floor_sd=floor_sd,
        floor_df=floor_df,
        floored=hi - centre > own,
    )
