"""Ratio of medians and its hierarchical bootstrap CI, on synthetic samples with known answers."""

from __future__ import annotations

import time

import numpy as np
import pytest

from verify.judge import stats
from verify.judge.calibration import sample_order, simulate_aa


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


def test_summarize_ci_shrinks_with_more_samples():
    rng = np.random.default_rng(2)
    widths = []
    for pairs, n in ((3, 10), (6, 80)):
        sub, base = _processes(rng, 1.0, pairs, n, 0.0), _processes(rng, 2.0, pairs, n, 0.0)
        widths.append(stats.summarize_cell("", sub, base, metric="m", better="lower").half_width)
    assert widths[1] < widths[0] / 2


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


def test_rank_counting_quantile_equals_numpy_quantile():
    rng = np.random.default_rng(3)
    side = stats._Side([rng.random(7), rng.random(4), rng.random(9)])
    ranks = side.resampled_ranks(rng.integers(0, 3, size=(200, 3)), rng)
    for q in (0.5, 0.9):
        assert np.allclose(side.quantile(ranks, q), np.quantile(side.sorted[ranks], q, axis=1))


def test_bootstrap_of_2000_resamples_takes_well_under_a_second():
    rng = np.random.default_rng(4)
    sub, base = _processes(rng, 1.0, 5, 40), _processes(rng, 1.5, 5, 40)
    stats.bootstrap_ratio_ci(sub, base, "lower")  # first call pays numpy's warm-up
    t0 = time.perf_counter()
    stats.bootstrap_ratio_ci(sub, base, "lower", n_boot=2000)
    assert time.perf_counter() - t0 < 0.5


def test_bootstrap_needs_a_sample_in_every_process():
    with pytest.raises(ValueError, match="at least one sample"):
        stats.bootstrap_ratio_ci([np.ones(3), np.array([])], [np.ones(3)] * 2, "lower")


def test_sample_order_interleaves_abba_then_baab():
    assert "".join(sample_order(2, "interleaved")) == "ABBABAAB"
    assert "".join(sample_order(2, "blocked")) == "AAAABBBB"


def test_simulated_aa_interleaved_order_avoids_the_false_differences_blocked_order_makes():
    interleaved = simulate_aa(150, order="interleaved", seed=5)
    blocked = simulate_aa(150, order="blocked", seed=5)
    assert interleaved.ci_excludes_one <= 0.10
    assert blocked.ci_excludes_one >= 2 * interleaved.ci_excludes_one
    assert interleaved.about_false <= 0.02 and interleaved.at_least_false <= 0.02
