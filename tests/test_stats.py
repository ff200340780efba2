"""The ratio and its t interval over process pairs, on synthetic samples with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from verify.judge import stats
from verify.judge.calibration import coverage, sample_order, simulate_aa


def _processes(
    rng, centre: float, pairs: int, n: int, process_sd: float = 0.02, noise: float = 0.05
):
    return [
        centre * np.exp(rng.normal(0, process_sd) + rng.normal(0, noise, n)) for _ in range(pairs)
    ]


def test_summarize_recovers_a_known_ratio_and_the_ci_covers_it():
    rng = np.random.default_rng(1)
    subject = _processes(rng, 1e-3, pairs=5, n=40)
    baseline = _processes(rng, 3e-3, pairs=5, n=40)
    s = stats.summarize_cell("c", subject, baseline, metric="median_latency", better="lower")
    assert s.ratio == pytest.approx(3.0, rel=0.05)
    assert s.ci_low < 3.0 < s.ci_high
    assert s.n_processes == 5 and s.n_samples_subject == 200


def test_summarize_ci_shrinks_as_more_pairs_agree():
    rng = np.random.default_rng(2)
    widths = []
    for pairs in (3, 12):
        sub, base = _processes(rng, 1.0, pairs, 20), _processes(rng, 2.0, pairs, 20)
        widths.append(stats.summarize_cell("", sub, base, metric="m", better="lower").half_width)
    assert widths[1] < widths[0] / 2


def test_summarize_interval_is_wide_when_pairs_disagree_however_many_samples_each_has():
    # two pairs each say something precise, but they disagree: the interval must show it
    sub = [np.full(500, 1.0), np.full(500, 1.0), np.full(500, 1.0)]
    base = [np.full(500, 2.0), np.full(500, 2.6), np.full(500, 1.6)]
    s = stats.summarize_cell("", sub, base, metric="median_latency", better="lower")
    assert s.ci_low < 1.6 and s.ci_high > 2.6
    assert s.pair_ratios == pytest.approx((2.0, 2.6, 1.6))


def test_summarize_t_interval_covers_the_true_ratio_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(400):
        sub = _processes(rng, 1.0, 3, 15, process_sd=0.05)
        base = _processes(rng, 2.0, 3, 15, process_sd=0.05)
        s = stats.summarize_cell("", sub, base, metric="median_latency", better="lower")
        hits += s.ci_low <= 2.0 <= s.ci_high
    assert 0.91 <= hits / 400 <= 0.99


def test_summarize_variance_floor_widens_an_interval_of_pairs_that_agree_too_well():
    same = [np.full(5, 1.0)] * 3
    double = [np.full(5, 2.0)] * 3
    tight = stats.summarize_cell("", same, double, metric="m", better="lower")
    floored = stats.summarize_cell("", same, double, metric="m", better="lower", floor_sd=0.05)
    assert tight.ci_low == pytest.approx(2.0) and floored.ci_low < 1.9 < 2.1 < floored.ci_high


def test_ratio_above_one_means_the_subject_wins_in_both_directions():
    fast, slow = [np.full(5, 1.0)] * 3, [np.full(5, 2.0)] * 3
    lower = stats.summarize_cell("", fast, slow, metric="median_latency", better="lower")
    # higher is better on a timed benchmark: seconds per call become calls per second
    higher = stats.summarize_cell("", fast, slow, metric="throughput", better="higher")
    assert lower.ratio == pytest.approx(2.0)
    assert higher.ratio == pytest.approx(2.0)


def test_p90_metric_uses_the_90th_percentile():
    sub = [np.arange(1.0, 11.0)] * 3
    base = [np.arange(1.0, 11.0) * 2] * 3
    s = stats.summarize_cell("", sub, base, metric="p90_latency", better="lower")
    assert s.ratio == pytest.approx(2.0)
    assert s.subject_p90 == pytest.approx(np.quantile(np.arange(1.0, 11.0), 0.9))


def test_pair_ratios_need_a_sample_in_every_process_and_matched_pairs():
    with pytest.raises(ValueError, match="at least one sample"):
        stats.pair_log_ratios([np.ones(3), np.array([])], [np.ones(3)] * 2, 0.5, "lower")
    with pytest.raises(ValueError, match="same number of processes"):
        stats.pair_log_ratios([np.ones(3)], [np.ones(3)] * 2, 0.5, "lower")


def test_sample_order_interleaves_abba_then_baab():
    assert "".join(sample_order(2, "interleaved")) == "ABBABAAB"
    assert "".join(sample_order(2, "blocked")) == "AAAABBBB"


def test_simulated_aa_interleaved_order_avoids_the_false_differences_blocked_order_makes():
    interleaved = simulate_aa(150, order="interleaved", seed=5)
    blocked = simulate_aa(150, order="blocked", seed=5)
    assert interleaved.ci_excludes_one <= 0.10
    assert blocked.ci_excludes_one >= 2 * interleaved.ci_excludes_one
    assert interleaved.about_false <= 0.02 and interleaved.at_least_false <= 0.02


def _run(ratio: float, low: float, high: float) -> stats.CellSummary:
    return stats.CellSummary(
        label="b1-s28", metric="median_latency", subject_median=1.0, baseline_median=ratio,
        subject_p90=1.0, baseline_p90=ratio, ratio=ratio, ci_low=low, ci_high=high,
        confidence=0.95, n_processes=3, n_samples_subject=30, n_samples_baseline=30,
    )  # fmt: skip


def test_coverage_counts_later_runs_inside_the_first_interval_and_every_ordered_pair():
    runs = [_run(1.00, 0.95, 1.05), _run(1.04, 1.00, 1.08), _run(1.07, 1.02, 1.12)]
    by_first, pairwise = coverage(runs)
    assert by_first == 0.5  # 1.04 inside [0.95, 1.05], 1.07 outside
    # inside: 1.04 in run 1's, 1.00 and 1.07 in run 2's, 1.04 in run 3's: 4 of 6 ordered pairs
    assert pairwise == pytest.approx(4 / 6)
    assert coverage(runs[:1]) == (None, None)


def test_simulated_aa_reports_how_often_re_runs_fall_inside_the_first_interval():
    report = simulate_aa(60, order="interleaved", seed=3)
    assert report.covered_by_first is not None and report.pairwise_coverage is not None
    # the synthetic runs share one true ratio, so most re-runs land inside a 95% interval
    assert 0.7 <= report.pairwise_coverage <= 1.0
