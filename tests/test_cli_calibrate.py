"""`verify calibrate --tier`: which tiers the A/A runs calibrate, and a clear refusal of a tier
the latency benchmark does not have, before anything runs."""

from __future__ import annotations

import json
import re

import pytest
from clikit import run_cli

from verify.benchmarks import latency
from verify.run import calibrate as cal


@pytest.fixture
def calls(monkeypatch) -> list[dict]:
    """Each calibration the command asks for, by its keyword arguments; none really runs."""
    seen: list[dict] = []

    def fake(runs, options, **kw):
        seen.append({"runs": runs, **kw})
        return {"tolerance": 0.1, "simulated": [], "runner": [], "floors": [], "overhead": None}

    monkeypatch.setattr(cal, "calibrate", fake)
    return seen


def test_calibrate_refuses_an_unknown_tier_naming_the_valid_ones_before_it_runs(tmp_path, calls):
    code, out, err = run_cli(tmp_path, "calibrate", "--tier", "keras-call", "--tier", "torch-eagr",
                             "--no-save", "--json")  # fmt: skip
    assert code == 2 and calls == [] and out == ""
    assert "--tier" in err and "torch-eagr" in err and "Traceback" not in err
    assert all(t in err for t in latency.TIERS)


def test_calibrate_runs_the_tiers_asked_for_and_by_default_torch_eager_and_keras_call(
    tmp_path, calls
):
    asked = ["--tier", "keras-predict", "--tier", "tf-xla", "--tier", "keras-predict"]
    code, out, _ = run_cli(tmp_path, "calibrate", *asked, "--runs", "2", "--no-save", "--json")
    assert code == 0 and json.loads(out)["floors"] == []
    assert calls[-1]["runs"] == 2
    assert calls[-1]["tiers"] == (("verify.benchmarks.latency", "keras-predict"),
                                  ("verify.benchmarks.latency", "tf-xla"))  # fmt: skip
    code, _, _ = run_cli(tmp_path, "calibrate", "--no-save", "--json")
    assert code == 0 and calls[-1]["tiers"] == cal.DEFAULT_AA
    assert [t for _, t in cal.DEFAULT_AA] == ["torch-eager", "keras-call"]


def test_calibrate_offers_every_inference_tier_of_the_latency_benchmark():
    assert cal.AA_TIERS == tuple(latency.TIERS) and cal.AA_MODULE == latency.__name__


def test_calibrate_help_names_every_latency_tier(tmp_path):
    code, out, _ = run_cli(tmp_path, "calibrate", "--help")
    assert code == 0 and "--tier" in out
    # the help wraps at hyphens ("torch-\n eager"): joined again, each name is one word
    words = re.findall(r"[\w-]+", " ".join(out.split()).replace("- ", "-"))
    assert all(t in words for t in latency.TIERS), out
