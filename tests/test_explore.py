"""verify explore: the multiverse design, the robustness labels on canned specifications, and a
real exploration on a tiny design (two baseline tiers x two cells) through record, graph and site."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from kg import api
from kg.load import load_corpus
from kg.model import Label
from kg.records import read_record
from verify.judge.robustness import Robustness, Spec, Split, summarise
from verify.run import explore
from verify.run.engine import run_check
from verify.run.options import RunOptions

REPO = Path(__file__).resolve().parent.parent


def design(corpus, check):
    """The multiverse the check's benchmark declares (claims/benchmarks.ttl)."""
    return api.multiverses(corpus)[check.benchmark]


H, N, UNSURE = Label.HOLDS, Label.DOES_NOT_HOLD, Label.INCONCLUSIVE


def spec(label: Label, ratio: float = 2.0, **factors: str) -> Spec:
    low, high = (ratio * 0.9, ratio * 1.1)
    return Spec({"subject": "torch-eager", **factors}, ratio, low, high, label)


def test_robust_when_the_claim_holds_in_nearly_every_specification():
    specs = [spec(H, baseline="keras-predict")] * 9 + [spec(N, baseline="tf-function")]
    s = summarise(specs, H)
    assert (s.label, s.total, s.holds, s.does_not_hold) == (Robustness.ROBUST, 10, 9, 1)


def test_fragile_names_the_factor_that_separates_holding_from_not():
    specs = [spec(H, 50, baseline="keras-predict", batch=b) for b in "1248"]
    specs += [spec(N, 1.1, baseline="tf-function", batch=b) for b in "1248"]
    s = summarise(specs, H, {"baseline": "the baseline's API"})
    assert s.label == Robustness.FRAGILE and s.split is not None and s.split.factor == "baseline"
    assert s.split.levels == {"keras-predict": (4, 4), "tf-function": (0, 4)}
    assert s.sentence == (
        "Holds as stated; fragile over 8 specifications: holds in 4, does not hold in 4, the other"
        " side wins in 0. It turns most on the baseline's API: it holds in 4 of 4 specifications"
        " with Keras predict, in 0 of 4 with tf.function."
    )


def test_reversed_when_the_other_side_wins_in_most_specifications():
    specs = [spec(N, 0.4, baseline="tf-function")] * 6 + [
        spec(H, 3.0, baseline="keras-predict")
    ] * 4
    s = summarise(specs, H)
    assert s.label == Robustness.REVERSED and s.reversed == 6


def test_mixed_when_no_factor_explains_it_or_the_claim_fails_as_stated():
    scattered = [spec(H, baseline="a", batch="1"), spec(N, baseline="a", batch="8"),
                 spec(N, baseline="b", batch="1"), spec(H, baseline="b", batch="8")]  # fmt: skip
    assert summarise(scattered, H).label == Robustness.MIXED
    split = [spec(H, baseline="a")] * 2 + [spec(N, baseline="b")] * 2
    assert (
        summarise(split, N).label == Robustness.MIXED
    )  # fragile needs the claim to hold as stated
    assert summarise(split, UNSURE).sentence.startswith("Inconclusive as stated; mixed over 4")


def test_two_factors_that_split_equally_well_are_both_named():
    # two one-at-a-time arms around the stated setup: changing the baseline loses the claim, and
    # so does changing the threads; neither factor explains it better than the other
    specs = [spec(H, 50, baseline="keras-predict", threads="1")] * 2
    specs += [spec(N, 1.1, baseline="tf-function", threads="1")] * 2
    specs += [spec(N, 1.1, baseline="keras-predict", threads="2")] * 2
    names = {"baseline": "the baseline's API", "threads": "the thread count"}
    s = summarise(specs, H, names)
    assert s.split is not None and s.split.factor == "baseline"
    assert s.sentence.endswith(
        " It turns most on the baseline's API: it holds in 2 of 4 specifications with Keras"
        " predict, in 0 of 2 with tf.function. As much on the thread count: it holds in 2 of 4"
        " specifications with 1 thread, in 0 of 2 with 2 threads."
    )
    # one factor alone: no second sentence
    assert "As much on" not in summarise(specs[:4], H, names).sentence


def test_a_split_reads_best_level_first():
    sp = Split("threads", {"2": (1, 4), "1": (4, 4)})
    assert sp.separation == 0.75
    assert sp.sentence() == "holds in 4 of 4 specifications with 1 thread, in 1 of 4 with 2 threads"


def test_design_varies_each_side_over_the_tiers_that_answer_the_same_question(corpus):
    check = api.claim_checks(corpus, "inference-latency-3x")[0]
    d = design(corpus, check)
    levels = explore.levels(check, d, physical_cores=2)
    assert levels["subject"] == ["torch-eager", "torch-compile"]
    assert levels["baseline"][0] == "keras-predict"
    assert {"keras-call", "tf-function", "tf-xla", "keras-jax-predict", "jax-jit"} <= set(
        levels["baseline"]
    )
    assert levels["threads"] == ["1", "2"] and levels["model"] == ["small-cnn", "resnet"]
    assert levels["layout"] == ["contiguous", "channels_last"]
    plan = explore.one_at_a_time(check, d, physical_cores=2)
    assert not plan[0].extended and plan[0].factors == explore.stated_setup(check, d)
    assert explore.variant(check, plan[0], d).parameters["input_sizes"] == [28, 64, 128, 224]
    # the edges close the first pass: they cost the most
    assert plan[-1].extended and plan[-1].factors == explore.stated_setup(check, d)
    assert plan[-1].key() != plan[0].key()
    assert len(plan) == 1 + 1 + (len(levels["baseline"]) - 1) + 1 + 1 + 1 + 1
    grid = explore.variant(check, plan[-1], d).parameters
    assert grid["batch_sizes"] == [1, 8, 16] and grid["input_sizes"] == [16, 28, 64, 128, 224, 392]
    assert grid["tiers"] == ["torch-eager", "keras-predict"]
    one = explore.variant(check, plan[-2], d).parameters  # the other model, stated grid
    assert one["model"] == "resnet" and one["input_sizes"] == [28, 64, 128, 224]


def test_the_model_factor_names_models_the_benchmarks_build(corpus):
    # a level the benchmarks do not know fails the setup in its worker ("unknown model"): the
    # levels are those the benchmark's parameter schema lists, the default first
    from verify.benchmarks import models
    from verify.judge.robustness import level_name

    for d in api.multiverses(corpus).values():
        assert d.vary["model"] == models.MODELS
        assert d.vary["torch_memory_format"] == ("contiguous", "channels_last")
    assert [level_name("model", m) for m in models.MODELS] == [
        "the small CNN", "the ResNet-style network"]  # fmt: skip


def test_each_ratio_benchmark_declares_its_multiverse_over_all_its_tiers(corpus):
    # claims/benchmarks.ttl (fwc:multiverse): every tier of the two ratio benchmarks has a side
    found = api.multiverses(corpus)
    assert sorted(found) == ["inference-latency", "training-throughput"]
    for d in found.values():
        bench = next(k for ks in api.checks(corpus).values() for k in ks
                     if k.benchmark == d.benchmark)  # fmt: skip
        tiers = {str(r["t"]) for r in corpus.query(
            "SELECT ?t WHERE { ?b schema:identifier ?id ; fwc:tier ?t }", id=bench.benchmark)}  # fmt: skip
        assert set().union(*d.sides.values()) == tiers
        assert sorted(d.sides) == ["torch", "xla"] and list(d.vary)[0] == "threads"
    assert found["inference-latency"].grid == ("batch_sizes", "input_sizes")
    assert found["inference-latency"].budget_s == 600
    assert found["training-throughput"].budget_s == 1200


def test_a_multiverse_declaration_names_only_the_benchmarks_own_tiers_and_parameters():
    from kg import multiverse

    names, tiers = {"batch_sizes", "input_sizes", "model", "threads"}, {"a", "b", "c"}
    schema = {"properties": {"model": {"enum": ["x", "y"]}, "batch_sizes": {"type": "array"}}}

    def body(**kw):
        found = {"sides": {"one": ["a"], "two": ["b", "c"]}, "vary": ["threads", "model"],
                 "grid": ["batch_sizes", "input_sizes"], "budget_s": 60, **kw}  # fmt: skip
        return json.dumps(found)

    assert multiverse.problems(body(), names, tiers, schema) == []
    assert multiverse.problems("{", names, tiers, schema)[0].startswith(
        "fwc:multiverse is not JSON"
    )
    assert "exactly the keys" in multiverse.problems("{}", names, tiers, schema)[0]
    assert multiverse.problems(body(sides={"one": ["a", "z"]}), names, tiers, schema) == [
        "fwc:multiverse \"sides\" group 'one' names 'z', which is no fwc:tier of the benchmark:"
        " use one of a, b, c"
    ]
    assert (
        "more than one place"
        in multiverse.problems(body(sides={"one": ["a"], "two": ["a"]}), names, tiers, schema)[0]
    )
    assert (
        "lists two or more levels"
        in multiverse.problems(body(vary=["batch_sizes"]), names, tiers, schema)[0]
    )
    assert '"grid"' in multiverse.problems(body(grid=["batch_sizes"]), names, tiers, schema)[0]
    assert '"budget_s"' in multiverse.problems(body(budget_s=-1), names, tiers, schema)[0]
    assert '"budget_s"' in multiverse.problems(body(budget_s=True), names, tiers, schema)[0]


def test_verify_check_locates_a_broken_multiverse_declaration(tmp_path):
    from kg.errors import CorpusError

    shutil.copytree(REPO / "claims", tmp_path / "claims")
    path = tmp_path / "claims" / "benchmarks.ttl"
    text = path.read_text()
    assert text.count('"jax-jit"]},') == 1
    path.write_text(text.replace('"jax-jit"]},', '"jax-jit", "tf-lite"]},', 1))
    with pytest.raises(CorpusError) as e:
        load_corpus(tmp_path, use_cache=False)
    line = next(n for n, t in enumerate(path.read_text().splitlines(), 1) if "fwc:multiverse" in t)
    assert [str(p) for p in e.value.problems] == [
        f"claims/benchmarks.ttl:{line}: benchmark 'inference-latency': fwc:multiverse \"sides\""
        " group 'xla' names 'tf-lite', which is no fwc:tier of the benchmark: use one of"
        " jax-jit, keras-call, keras-jax-call, keras-jax-predict, keras-predict, tf-function,"
        " tf-xla, torch-compile, torch-eager"
    ]


def test_design_never_pits_a_tier_against_itself_and_one_thread_machines_skip_threads(corpus):
    check = api.claim_checks(corpus, "pytorch-eager-overhead")[0]
    plan = explore.one_at_a_time(check, design(corpus, check), physical_cores=1)
    assert all(s.factors["subject"] != s.factors["baseline"] for s in plan)
    assert all(s.factors["threads"] == "1" for s in plan)
    crossed = explore.crossed(check, design(corpus, check), 1, ["subject", "baseline"])
    assert {(s.factors["subject"], s.factors["baseline"]) for s in crossed} == {
        ("torch-compile", "torch-eager"),
        ("torch-eager", "torch-compile"),
    }


def test_a_claim_without_a_ratio_check_cannot_be_explored(corpus):
    from kg.errors import UsageError
    from verify.run.engine import explore_claims

    with pytest.raises(UsageError, match="no ratio check"):
        explore_claims(["tensorboard-both"])


@pytest.mark.slow
def test_a_real_exploration_is_recorded_loaded_and_drawn(tmp_path, corpus):
    root = tmp_path / "project"
    shutil.copytree(REPO / "claims", root / "claims")
    check = api.claim_checks(corpus, "inference-latency-3x")[0]
    check = dataclasses.replace(check, parameters={**check.parameters, "batch_sizes": [1],
                                                   "input_sizes": [28, 64]})  # fmt: skip
    # two pairs per setup, never more: the path through record, graph and site is the same
    opts = RunOptions(results_dir=root / "data" / "results", busy_cores=None, pair_seconds=0.5,
                      min_pairs=2, max_pairs=2)  # fmt: skip
    found = explore.explore(check, design(corpus, check), opts, lambda c, o: run_check(c, o),
                            budget=60, edges=False,
                            only={"baseline": ["keras-predict", "tf-function"]})  # fmt: skip
    assert [s["factors"]["baseline"] for s in found.setups] == ["keras-predict", "tf-function"]
    assert len(found.specs) == 4 and sum(s.stated for s in found.specs) == 2
    assert found.summary is not None and found.summary.total == 4
    path = explore.write(found, opts)
    record = read_record(path)
    assert record["exploration"]["summary"]["label"] == found.summary.label.value
    assert record["verdict"]["explanation"] == found.summary.sentence
    # the record ends with its last setup, not with the stated one that ran first
    assert found.base is not None and found.base.record is not None
    assert record["ended"] == found.ended and found.ended > found.base.record["ended"]

    loaded = load_corpus(root, use_cache=False)
    (row,) = api.explorations(loaded, "inference-latency-3x")
    assert row.robustness == found.summary.label.value and row.stated == found.stated
    specs = api.specifications(loaded, row.run)
    assert [s.factors for s in specs] == [s.factors for s in found.specs]
    assert api.runs(loaded, "inference-latency-3x") == []  # an exploration is not a run

    from verify.publish.build import publish

    site = publish(loaded, root / "_site").out
    page = (site / "claims" / "inference-latency-3x.html").read_text()
    assert "What the verdict turns on" in page and 'class="chart spec-curve"' in page
    assert page.count('class="dot"') >= 4 * 2  # baseline and input rows, one dot per spec each
    index = (site / "index.html").read_text()
    assert f"robustness-{row.robustness}" in index
    assert json.loads(path.read_text())["record_id"] == path.stem


def test_exploration_without_a_specification_says_why(corpus):
    # A machine busy in every pair leaves each run without a cell summary: the exploration then
    # names that reason instead of a bare "nothing measured".
    from kg.model import RunStatus, Verdict
    from verify.run.options import RunResult

    [check] = api.claim_checks(corpus, "inference-latency-3x")
    busy = Verdict(Label.INCONCLUSIVE, "The machine was busy during every pair.")

    def run(c, o):
        return RunResult(c.claim_id, RunStatus.OK, busy, {"cells": [{"label": "b1-s28",
                         "cell": {"batch": 1, "size": 28}, "summary": None}]})  # fmt: skip

    found = explore.explore(
        check, design(corpus, check), RunOptions(), run, budget=0, only={}, edges=False
    )
    assert not found.specs and found.summary is None
    assert [s["reason"] for s in found.setups] == [busy.explanation]
    assert explore.nothing_measured(found) == f"nothing measured: {busy.explanation}"


def test_exploration_stops_at_its_budget_after_the_stated_setup(corpus, monkeypatch):
    # Each canned run "takes" 100 s of the clock: with a 150 s budget the stated setup and one
    # more run, and every other setup is listed as not run because the budget was spent.
    from kg.model import RunStatus, Verdict
    from verify.run.options import RunResult

    clock = [0.0]
    monkeypatch.setattr(explore.time, "monotonic", lambda: clock[0])
    [check] = api.claim_checks(corpus, "inference-latency-3x")

    def run(c, o):
        clock[0] += 100.0
        return RunResult(
            c.claim_id, RunStatus.OK, Verdict(Label.INCONCLUSIVE, "busy"), {"cells": []}
        )

    d = design(corpus, check)
    found = explore.explore(check, d, RunOptions(), run, budget=150, edges=False, physical_cores=2)
    ran = [s for s in found.setups if s["status"] != "not-run"]
    skipped = [s for s in found.setups if s["status"] == "not-run"]
    assert len(ran) == 2 and ran[0]["factors"] == explore.stated_setup(check, d)
    assert skipped and all(s["reason"] == "the budget was spent" for s in skipped)
    plan = explore.one_at_a_time(check, d, physical_cores=2)
    assert len(found.setups) == len([s for s in plan if not s.extended])


def test_exploration_measures_the_edges_last_and_counts_each_stated_cell_once(corpus):
    # The edges run re-measures the stated grid (a grid is a product of batches and sizes), but
    # only its new cells become specifications: each stated cell is the stated setup's, once.
    from kg.model import RunStatus, Verdict
    from verify.run.options import RunResult

    [check] = api.claim_checks(corpus, "inference-latency-3x")
    seen = []

    def run(c, o):
        p = c.parameters
        seen.append((tuple(p["tiers"]), len(p["batch_sizes"]) * len(p["input_sizes"])))
        cells = [{"label": f"b{b}-s{s}", "cell": {"batch": b, "size": s},
                  "summary": {"ratio": 5.0, "ci_low": 4.0, "ci_high": 6.0}}
                 for b in p["batch_sizes"] for s in p["input_sizes"]]  # fmt: skip
        return RunResult(c.claim_id, RunStatus.OK, Verdict(Label.HOLDS, "canned"), {"cells": cells})

    only = {"baseline": ["keras-call"]}
    d = design(corpus, check)
    found = explore.explore(check, d, RunOptions(), run, budget=1e6, only=only, physical_cores=1)
    stated = explore.stated_cells(check, d)
    assert seen[0] == (("torch-eager", "keras-predict"), len(stated))  # as stated, its grid
    assert seen[1][0] == ("torch-eager", "keras-call")
    assert seen[2] == (("torch-eager", "keras-predict"), 3 * 6)  # then the grid with its edges
    as_stated = [s for s in found.specs if s.factors["baseline"] == "keras-predict"]
    cells = [(int(s.factors["batch"]), int(s.factors["input"])) for s in as_stated]
    assert len(cells) == len(set(cells)) == 3 * 6
    assert {c for c, s in zip(cells, as_stated, strict=True) if s.stated} == stated
