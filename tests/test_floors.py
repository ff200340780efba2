"""A variance floor from `verify calibrate`: estimated from A/A series, combined per cell, applied
by the judge only where a report for this environment holds one, and named in the record."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats as sps
from test_runner import ENV, check

from kg.environments import environment_id
from kg.model import Label, RunStatus
from verify.judge import floors, stats
from verify.run import floors as run_floors
from verify.run.calibrate import floor_row
from verify.run.engine import run_check
from verify.run.options import RunOptions
from verify.run.state import CellData, CheckState

ENV_ID = environment_id({**ENV, "timing_threads": 1})
SELFTEST = "verify.benchmarks.selftest"


def test_floor_estimate_takes_the_larger_of_the_pooled_pair_spread_and_the_run_spread():
    # pairs agree within each run (sd 0.01), but the runs' estimates stray by +-0.1 from 1x
    series = [[m - 0.01, m, m + 0.01] for m in (0.1, -0.1, 0.1, -0.1)]
    est = floors.estimate(series)
    assert est.within_sd == pytest.approx(0.01)
    assert est.between_sd == pytest.approx(math.sqrt(3) * 0.1)  # n (m - 0)^2 with n = 3
    assert est.sd == est.between_sd and (est.runs, est.pairs, est.df) == (4, 12, 4)
    scattered = [[0.2, -0.2, 0.0], [0.0, 0.2, -0.2]]  # runs agree, pairs do not
    assert floors.estimate(scattered).floor == floors.Floor(pytest.approx(0.2), 4)


def test_floor_estimate_needs_two_runs_and_estimates_the_truth_when_it_is_not_known():
    with pytest.raises(ValueError, match="at least two runs"):
        floors.estimate([[0.1, 0.2]])
    shifted = [[2.0 + m - 0.01, 2.0 + m + 0.01] for m in (0.1, -0.1, 0.1, -0.1)]
    known = floors.estimate([[m - 0.01, m + 0.01] for m in (0.1, -0.1, 0.1, -0.1)])
    # around their own mean the shifted runs spread as the A/A runs do around 0 (one df less)
    assert floors.estimate(shifted, centre=None).between_sd == pytest.approx(
        known.between_sd * math.sqrt(4 / 3)
    )


def test_floor_of_a_cell_adds_its_tiers_in_quadrature_and_an_aa_cell_gets_its_tier_floor():
    F = floors.Floor
    assert floors.combine(F(0.1, 20), F(0.1, 20)) == F(pytest.approx(0.1), 40)
    assert floors.combine(F(0.3, 10), F(0.4, 10)).sd == pytest.approx(math.sqrt(0.125))
    assert floors.combine(F(0.1, 20), None) == F(pytest.approx(0.1 / math.sqrt(2)), 20)
    assert floors.combine(F(0.1, None), F(0.1, 5)).df is None  # unknown on one side: unknown
    assert floors.combine(None, None) == floors.NO_FLOOR


def test_cell_floor_uses_only_its_own_size_class_and_the_pooled_floor_for_cells_without_size():
    F = floors.Floor
    table = {"a": {"small": F(0.2, 10), "all": F(0.1, 10)}, "b": {"large": F(0.4, 10)}}
    small, large = {"batch": 1, "size": 28}, {"batch": 1, "size": 224}
    assert floors.size_class(small) == "small" and floors.size_class(large) == "large"
    assert floors.cell_floor(table, "a", "a", small).sd == pytest.approx(0.2)
    # a's large inputs were not calibrated: its small-input floor is not borrowed for them
    assert floors.cell_floor(table, "a", "a", large) == floors.NO_FLOOR
    assert floors.cell_floor(table, "a", "b", large) == floors.combine(None, F(0.4, 10))
    assert floors.cell_floor(table, "a", "a", {"label": "no size"}).sd == pytest.approx(0.1)
    assert floors.cell_floor(table, "b", "b", small) == floors.NO_FLOOR
    assert floors.cell_floor(table, "x", "y", small) == floors.NO_FLOOR


def test_interval_with_a_floor_takes_the_quantile_of_the_floors_own_degrees_of_freedom():
    logs = np.log([2.0, 2.0 * math.exp(0.001), 2.0 * math.exp(-0.001)])
    lo, hi = stats.t_interval(logs, 0.95, 0.1, 20)[1:]  # on the log scale
    half = (hi - lo) / 2
    assert half == pytest.approx(sps.t.ppf(0.975, 20) * 0.1 / math.sqrt(3))
    # without degrees of freedom the run's own (2) are used: a far wider interval
    unknown = stats.t_interval(logs, 0.95, 0.1)
    assert (unknown[2] - unknown[1]) / 2 == pytest.approx(sps.t.ppf(0.975, 2) * 0.1 / math.sqrt(3))


def test_leave_one_out_floor_makes_too_narrow_intervals_cover_the_other_runs():
    rng = np.random.default_rng(1)
    # every run shares an offset its three pairs cannot see: intervals far too narrow
    series = [list(rng.normal(0.0, 0.1) + rng.normal(0.0, 0.01, 3)) for _ in range(20)]
    r = floors.leave_one_out(series)
    assert r.runs == 20 and r.excludes_before >= 10 and r.excludes_after <= 2
    # a right 95% interval holds another run's estimate about 83% of the time (both are noisy)
    assert r.coverage_before < 0.5 < 0.75 < r.coverage_after
    assert r.median_floor_sd == pytest.approx(math.sqrt(3) * 0.1, rel=0.4)
    assert r.coverage_after < 0.999  # the floor's own quantile: not an interval as wide as it gets


def test_calibrate_floor_row_keeps_the_series_and_a_floor_per_size_class():
    series = {"small": [[m - 0.01, m, m + 0.01] for m in (0.1, -0.1, 0.05, -0.05)]}
    row = floor_row("verify.benchmarks.latency", "torch-eager", series)
    assert row["series"] == series and set(row["by_class"]) == {"small", "all"}
    small = row["by_class"]["small"]
    assert small["sd"] == pytest.approx(floors.estimate(series["small"]).sd)
    assert small["leave_one_out"]["runs"] == 4


def _report(folder, env_id=ENV_ID, sd=0.2, stamp="20261201T000000Z", tiers=("numpy-a",)):
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"module": SELFTEST, "tier": t, "by_class": {"small": {"sd": sd, "df": 19}}}
            for t in tiers]  # fmt: skip
    path = folder / f"{stamp}-{env_id}.json"
    path.write_text(json.dumps({"environment_id": env_id, "measured": stamp, "floors": rows}))
    return path


def test_load_reads_the_newest_report_of_this_environment_that_has_floors(tmp_path):
    cal = tmp_path / "calibration"
    assert run_floors.load(ENV_ID, cal) is None  # no folder: no floor
    _report(cal, sd=0.1, stamp="20261201T000000Z")
    _report(cal, sd=0.3, stamp="20261202T000000Z")
    _report(cal, env_id="other-env", sd=0.9, stamp="20261203T000000Z")
    (cal / f"20261204T000000Z-reproduce-{ENV_ID}.json").write_text(
        json.dumps({"kind": "reproduce", "environment_id": ENV_ID, "claims": []})
    )
    found = run_floors.load(ENV_ID, cal)
    assert found is not None and found.report.endswith(f"20261202T000000Z-{ENV_ID}.json")
    got = found.cell_floor(SELFTEST, "numpy-a", "numpy-a", {"size": 16})
    assert got == floors.Floor(pytest.approx(0.3), 38)
    assert run_floors.load("no-such-env", cal) is None


def test_load_keeps_a_tiers_floor_from_an_older_report_when_a_newer_one_calibrated_others(
    tmp_path,
):
    cal = tmp_path / "calibration"
    older = _report(cal, sd=0.1, stamp="20261201T000000Z", tiers=("numpy-a", "numpy-b"))
    newer = _report(cal, sd=0.3, stamp="20261202T000000Z", tiers=("numpy-b",))
    found = run_floors.load(ENV_ID, cal)
    assert found is not None and found.report.endswith(newer.name)  # the newest report used
    small = {"size": 16}
    assert found.cell_floor(SELFTEST, "numpy-a", "numpy-a", small).sd == pytest.approx(0.1)
    assert found.cell_floor(SELFTEST, "numpy-b", "numpy-b", small).sd == pytest.approx(0.3)
    record = found.describe(SELFTEST, "numpy-a", "numpy-b")
    assert record["report"].endswith(newer.name) and record["measured"] == "20261202T000000Z"
    assert record["subject"]["report"].endswith(older.name)
    assert record["subject"]["measured"] == "20261201T000000Z"
    assert record["baseline"]["report"].endswith(newer.name)
    assert record["baseline"]["floors"]["small"]["sd"] == pytest.approx(0.3)
    # a side no report calibrated names no report
    assert found.describe(SELFTEST, "numpy-a", "noop")["baseline"] == {"tier": "noop",
                                                                       "floors": None}  # fmt: skip


def test_load_takes_a_tiers_floor_from_the_newest_report_that_calibrated_it(tmp_path):
    cal = tmp_path / "calibration"
    _report(cal, sd=0.1, stamp="20261201T000000Z", tiers=("numpy-a", "numpy-b"))
    newer = _report(cal, sd=0.4, stamp="20261203T000000Z", tiers=("numpy-a",))
    _report(cal, env_id="other-env", sd=0.9, stamp="20261204T000000Z", tiers=("numpy-a",))
    # a newer report whose A/A runs gave numpy-a no floor leaves the one before in force
    (cal / f"20261205T000000Z-{ENV_ID}.json").write_text(json.dumps({
        "environment_id": ENV_ID, "measured": "20261205T000000Z",
        "floors": [{"module": SELFTEST, "tier": "numpy-a", "by_class": {}}]}))  # fmt: skip
    found = run_floors.load(ENV_ID, cal)
    assert found is not None and found.report.endswith(newer.name)
    assert found.cell_floor(SELFTEST, "numpy-a", "numpy-a", {"size": 16}).sd == pytest.approx(0.4)
    assert found.cell_floor(SELFTEST, "numpy-b", "numpy-b", {"size": 16}).sd == pytest.approx(0.1)
    assert found.describe(SELFTEST, "numpy-a", "numpy-a")["subject"]["report"].endswith(newer.name)


def _state(floor: run_floors.VarianceFloors | None, spread: float) -> CheckState:
    """A timed check whose three pairs measured ratio 2 with per-pair log spread `spread`."""
    state = CheckState(check(), RunOptions(budget=1.0))
    state.kind, state.floors = "timed", floor
    cell = CellData({"label": "n16", "size": 16})
    for k, dev in enumerate((-spread, 0.0, spread)):
        cell.add_pair()
        cell.samples["A"][k] = [1.0e-3] * 5
        cell.samples["B"][k] = [2.0e-3 * math.exp(dev)] * 5
    state.cells = [cell]
    return state


def _floor(sd: float) -> run_floors.VarianceFloors:
    f = {"small": floors.Floor(sd, None)}  # the run's own degrees of freedom, as with no df known
    return run_floors.VarianceFloors("data/calibration/x.json", "2026-12-01T00:00:00Z",
                                     {SELFTEST: {"numpy-a": f, "numpy-b": f}})  # fmt: skip


def test_judge_widens_an_interval_of_pairs_that_agree_too_well_to_the_floor():
    plain = _state(None, 0.001).summaries()[0]
    floored = _state(_floor(0.2), 0.001).summaries()[0]
    assert plain is not None and floored is not None
    assert plain.ratio == pytest.approx(floored.ratio) == pytest.approx(2.0, rel=1e-3)
    assert plain.half_width < 0.01 and floored.half_width > 0.4
    assert floored.floored and floored.floor_sd == pytest.approx(0.2) and not plain.floored
    # "about 2x" within 10%: shown by the tight pairs alone, not once re-run spread is allowed for
    state = _state(_floor(0.2), 0.001)
    state.rule = check("about", 2.0).rule
    assert state.judge().label == Label.INCONCLUSIVE
    tight = _state(None, 0.001)
    tight.rule = check("about", 2.0).rule
    assert tight.judge().label == Label.HOLDS


def test_judge_keeps_the_pairs_own_spread_where_it_is_larger_than_the_floor():
    plain = _state(None, 0.3).summaries()[0]
    floored = _state(_floor(0.05), 0.3).summaries()[0]
    assert plain is not None and floored is not None
    assert (floored.ci_low, floored.ci_high) == (plain.ci_low, plain.ci_high)
    assert floored.floor_sd == pytest.approx(0.05) and not floored.floored


def test_record_names_the_floor_and_its_report_or_none_without_one():
    state = _state(_floor(0.2), 0.001)
    rec = state.to_record(state.judge(), RunStatus.OK, ENV, ENV_ID)
    assert rec["variance_floor"]["report"] == "data/calibration/x.json"
    assert rec["variance_floor"]["subject"] == {
        "tier": "numpy-a",
        "floors": {"small": {"sd": 0.2, "df": None}},
        "report": "data/calibration/x.json",
        "measured": "2026-12-01T00:00:00Z",
    }
    assert rec["variance_floor"]["cells"]["n16"]["sd"] == pytest.approx(0.2)
    assert rec["cells"][0]["summary"]["floored"] is True
    bare = _state(None, 0.001)
    assert bare.to_record(bare.judge(), RunStatus.OK, ENV, ENV_ID)["variance_floor"] is None


@pytest.mark.parametrize("with_report", [True, False])
def test_run_check_applies_this_environments_floor_only_when_a_report_holds_one(
    tmp_path, with_report
):
    cal = tmp_path / "calibration"
    if with_report:  # a floor far above any pairs' own spread, even on a busy machine
        _report(cal, sd=2.0, tiers=("numpy-a", "numpy-b"))
    opts = RunOptions(budget=0.5, min_sample_s=0.005, setup_timeout=10, sample_timeout=5,
                      mem_cap_mb=400, results_dir=tmp_path / "results", calibration_dir=cal,
                      busy_cores=None)  # fmt: skip
    result = run_check(check(sizes=[16]), opts, environment=ENV)
    summary = result.record["cells"][0]["summary"]
    if with_report:
        assert result.record["variance_floor"]["report"].endswith(f"-{ENV_ID}.json")
        assert summary["floor_sd"] == pytest.approx(2.0) and summary["floored"]
        # two tiers of df 19 each: 38 degrees of freedom, t quantile about 2.02
        assert summary["floor_df"] == 38
        half = math.log(summary["ci_high"] / summary["ci_low"]) / 2
        assert half == pytest.approx(sps.t.ppf(0.975, 38) * 2.0 / math.sqrt(summary["n_processes"]))
    else:
        assert result.record["variance_floor"] is None and summary["floor_sd"] == 0.0


def test_calibrate_keeps_the_series_and_a_later_run_here_gets_its_floor(tmp_path):
    from verify.run import calibrate

    opts = RunOptions(budget=0.5, min_sample_s=0.005, setup_timeout=10, sample_timeout=5,
                      mem_cap_mb=400, busy_cores=None, results_dir=tmp_path / "results")  # fmt: skip
    report = calibrate.calibrate(3, opts, simulations=10, tiers=((SELFTEST, "numpy-a"),),
                                 params={"sizes": [16]})  # fmt: skip
    [row] = report["floors"]
    assert row["tier"] == "numpy-a" and len(row["series"]["small"]) == 3
    assert report["runner"][0]["runs"] == 3 and row["by_class"]["small"]["runs"] == 3
    saved = calibrate.save_report(report, root=tmp_path)
    opts.calibration_dir = saved.parent
    result = run_check(check(sizes=[16]), opts)  # this machine's environment, as calibrate's
    floor = result.record["variance_floor"]
    assert floor["report"].endswith(saved.name) and floor["subject"]["floors"]["small"]
    assert floor["baseline"]["floors"] is None  # numpy-b was not calibrated: it adds nothing
    sd = row["by_class"]["small"]["sd"]
    assert result.record["cells"][0]["summary"]["floor_sd"] == pytest.approx(sd / math.sqrt(2))
