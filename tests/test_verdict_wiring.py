"""Several checks per claim, qualifier and scope in records and rows, GPU claims on a CPU, check
parameters that are applied or refused: from the claim files through `verify run` to the graph."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kg import api
from kg.errors import ValidationFailed
from kg.load import load_corpus
from kg.model import Check, CheckType, Combine, Kind, Quantifier, Rule, combine, verdict_words
from kg.records import read_record
from tests.clikit import run_cli
from verify.run import environment as env_mod
from verify.run.engine import run_claims, select
from verify.run.options import RunOptions
from verify.run.placement import NEEDS_CUDA, place

REPO = Path(__file__).resolve().parent.parent
PREFIXES = """@prefix fwc:    <https://w3id.org/fwclaims/ns#> .
@prefix claim:  <https://w3id.org/fwclaims/claim/> .
@prefix src:    <https://w3id.org/fwclaims/source/> .
@prefix bench:  <https://w3id.org/fwclaims/benchmark/> .
@prefix schema: <http://schema.org/> .
"""
SELFTEST_BENCH = """
bench:selftest a fwc:Benchmark ;
    schema:identifier "selftest" ;
    rdfs:label "Runner self-test" ;
    schema:description "A numpy matrix product timed against itself, for testing the runner." ;
    fwc:module "verify.benchmarks.selftest" ;
    fwc:parameterName "sizes", "work", "tiers", "threads", "device" ;
    fwc:tier "numpy-a", "numpy-b" .
"""


def _check(check_id: str | None, params: str, extra: str = "") -> str:
    named = f'fwc:checkId "{check_id}" ;' if check_id else ""
    return f"""[ a fwc:Check ; {named} {extra}
        fwc:benchmark bench:selftest ;
        fwc:parameters \"\"\"{params}\"\"\" ;
        fwc:rule [ a fwc:DecisionRule ; fwc:metric "median_latency" ; fwc:better "lower" ;
            fwc:subject "numpy-a" ; fwc:baseline "numpy-b" ; fwc:threshold 1.0 ;
            fwc:tolerance 0.1 ; fwc:quantifier fwc:About ] ]"""


def _claim(cid: str, checks: list[str], *, device: str = "AnyDevice", combine: str = "") -> str:
    joint = f'fwc:combine "{combine}" ;' if combine else ""
    return f"""
claim:{cid} a fwc:PerformanceClaim ;
    schema:identifier "{cid}" ;
    schema:text "Two identical numpy tiers take about the same time per call." ;
    fwc:category fwc:InferenceLatency ;
    schema:appearance [ a fwc:Appearance ;
        schema:isPartOf src:survey-patterns-article ;
        fwc:locator "nowhere: a test claim" ] ;
    fwc:restsOn "the runner's own tests" ;
    fwc:condition [ a fwc:Conditions ; fwc:device fwc:{device} ] ;
    {joint}
    fwc:checkedBy {" , ".join(checks)} .
"""


def _project(tmp_path: Path, *claims: str) -> Path:
    root = tmp_path / "project"
    folder = root / "claims"
    folder.mkdir(parents=True)
    shutil.copy(REPO / "claims" / "sources.ttl", folder / "sources.ttl")
    benches = (REPO / "claims" / "benchmarks.ttl").read_text(encoding="utf-8")
    (folder / "benchmarks.ttl").write_text(benches + SELFTEST_BENCH, encoding="utf-8")
    (folder / "selftest.ttl").write_text(PREFIXES + "".join(claims), encoding="utf-8")
    return root


TWO_CHECKS = _claim(
    "selftest-two",
    [_check("main", '{"sizes": [16]}'),
     _check("doubled", '{"sizes": [16], "work": {"numpy-b": 2}, "threads": 2}',
            'fwc:standsIn "a doubled product stands in for a slower tier" ;')],
    combine="any",
)  # fmt: skip


def _problems(root: Path) -> list[str]:
    with pytest.raises(ValidationFailed) as e:
        load_corpus(root, use_cache=False)
    return [str(p) for p in e.value.problems]


def _line(root: Path, needle: str) -> int:
    lines = (root / "claims" / "selftest.ttl").read_text().splitlines()
    return next(i + 1 for i, ln in enumerate(lines) if needle in ln)


def test_claim_checks_reads_every_check_with_its_id_stand_in_and_the_combine_rule(tmp_path):
    corpus = load_corpus(_project(tmp_path, TWO_CHECKS), use_cache=False)
    checks = api.claim_checks(corpus, "selftest-two")
    assert [c.check_id for c in checks] == ["main", "doubled"]
    assert checks[1].stands_in == "a doubled product stands in for a slower tier"
    assert checks[1].parameters["work"] == {"numpy-b": 2}
    assert checks[0].stands_in is None
    assert api.claim(corpus, "selftest-two").combine == "any"
    (summary,) = [r for r in api.list_claims(corpus) if r.id == "selftest-two"]
    assert summary.check == "selftest"  # one row per claim, however many checks


def test_claim_check_without_an_id_is_main_and_combine_defaults_to_all(tmp_path):
    corpus = load_corpus(_project(tmp_path, _claim("selftest-one", [_check(None, "{}")])),
                         use_cache=False)  # fmt: skip
    (check,) = api.claim_checks(corpus, "selftest-one")
    assert check.check_id == "main"
    assert api.claim(corpus, "selftest-one").combine == "all"


def test_check_several_checks_without_their_own_ids_are_refused_at_the_claim(tmp_path):
    root = _project(tmp_path, _claim("selftest-two", [_check("main", "{}"), _check(None, "{}")]))
    (line,) = [p for p in _problems(root) if "fwc:checkId" in p]
    assert line.startswith(f"claims/selftest.ttl:{_line(root, 'fwc:checkedBy')}: ")
    assert "has 2 checks, so each needs its own fwc:checkId" in line


def test_check_two_checks_with_the_same_id_are_refused(tmp_path):
    root = _project(tmp_path, _claim("selftest-two", [_check("main", "{}"), _check("main", "{}")]))
    assert any(
        "each needs its own fwc:checkId (found 'main', 'main')" in p for p in _problems(root)
    )


def test_check_combine_must_be_all_or_any(tmp_path):
    root = _project(tmp_path, _claim("selftest-one", [_check(None, "{}")], combine="most"))
    assert any("fwc:combine must be" in p for p in _problems(root))


def test_check_tiers_must_list_exactly_the_rules_subject_and_baseline(tmp_path):
    root = _project(tmp_path, _claim("selftest-one",
                                     [_check(None, '{"tiers": ["numpy-a"]}')]))  # fmt: skip
    (line,) = _problems(root)
    assert line.startswith(f"claims/selftest.ttl:{_line(root, 'fwc:parameters')}: ")
    assert "tiers lists 'numpy-a' but the rule compares 'numpy-a' and 'numpy-b'" in line


def test_check_tiers_listing_subject_and_baseline_in_any_order_are_accepted(tmp_path):
    root = _project(tmp_path, _claim("selftest-one",
                                     [_check(None, '{"tiers": ["numpy-b", "numpy-a"]}')]))  # fmt: skip
    load_corpus(root, use_cache=False)


def test_verify_check_exits_2_on_a_tiers_mismatch_with_file_and_line(tmp_path):
    root = _project(tmp_path, _claim("selftest-one",
                                     [_check(None, '{"tiers": ["numpy-a", "numpy-b", "noop"]}')]))  # fmt: skip
    code, out, err = run_cli(root, "check")
    assert code == 2
    assert f"claims/selftest.ttl:{_line(root, 'fwc:parameters')}:" in out + err


def test_tf_graph_speedup_measures_its_xla_tier_as_a_second_check():
    checks = api.claim_checks(load_corpus(), "tf-graph-speedup")
    assert [(c.check_id, c.rule.subject, c.rule.baseline) for c in checks] == [
        ("main", "tf-function", "keras-call"), ("xla", "tf-xla", "keras-call")]  # fmt: skip


def _canned(claim_device: str = "any", **params: object) -> Check:
    rule = Rule("median_latency", "lower", "numpy-a", "numpy-b", 1.0, 0.1, Quantifier.ABOUT)
    return Check("c", Kind.PERFORMANCE, "selftest", "verify.benchmarks.selftest",
                 CheckType.BENCHMARK, dict(params), rule, {"device": claim_device})  # fmt: skip


def test_place_a_checks_own_threads_override_the_run_option():
    placed = place(_canned(threads=3), RunOptions(threads=1), "auto", cuda=False)
    assert placed.options is not None and placed.options.threads == 3


def test_place_a_checks_own_device_restricts_where_it_runs():
    on_cpu = place(_canned(device="cpu"), RunOptions(), "auto", cuda=True)
    assert on_cpu.options is not None and on_cpu.options.device == "cpu"
    refused = place(_canned(device="cpu"), RunOptions(), "cuda", cuda=True)
    assert refused.options is None and "runs only on cpu" in refused.reason
    needs = place(_canned(device="cuda"), RunOptions(), "auto", cuda=False)
    assert needs.options is None and needs.reason == NEEDS_CUDA


def test_place_a_gpu_claim_without_cuda_is_not_checkable_unless_judged_outside_scope():
    assert place(_canned("gpu"), RunOptions(), "auto", cuda=False).reason == NEEDS_CUDA
    outside = place(_canned("gpu"), RunOptions(), "auto", cuda=False, outside_scope=True)
    assert outside.options is not None and outside.options.device == "cpu"
    assert place(_canned("gpu"), RunOptions(), "auto", cuda=True).options.device == "cuda"


def _opts(root: Path) -> RunOptions:
    return RunOptions(budget=2, min_pairs=2, max_pairs=2, pair_seconds=0.3, busy_cores=None,
                      results_dir=root / "data" / "results")  # fmt: skip


@pytest.mark.slow
def test_run_makes_one_record_per_check_with_its_id_threads_and_the_combined_verdict(
    tmp_path, monkeypatch
):
    root = _project(tmp_path, TWO_CHECKS)
    monkeypatch.setenv("FWCLAIMS_ROOT", str(root))
    found = run_claims(["selftest-two"], _opts(root), device="cpu")
    assert [r.check_id for r in found] == ["main", "doubled"]
    records = [read_record(r.path) for r in found]
    assert [rec["check_id"] for rec in records] == ["main", "doubled"]
    assert [rec["options"]["threads"] for rec in records] == [1, 2]  # the check's own threads
    assert (
        "What ran: a doubled product stands in for a slower tier."
        in (records[1]["verdict"]["explanation"])
    )
    expected = combine([r.verdict.label for r in found], Combine.ANY)
    assert [r.combined for r in found] == [expected, expected]
    runs = api.runs(load_corpus(root, use_cache=False), "selftest-two")
    assert sorted(r.check_id for r in runs) == ["doubled", "main"]
    code, out, _ = run_cli(root, "show", "selftest-two")
    assert code == 0 and "main: " in out and "doubled: " in out and "combined: " in out


@pytest.mark.slow
def test_run_a_gpu_claim_without_cuda_is_not_checkable_here_and_writes_nothing(
    tmp_path, monkeypatch
):
    if env_mod.has_cuda():
        pytest.skip("this machine has a CUDA GPU")
    root = _project(tmp_path, _claim("selftest-gpu", [_check(None, '{"sizes": [16]}')],
                                     device="GPU"))  # fmt: skip
    monkeypatch.setenv("FWCLAIMS_ROOT", str(root))
    code, out, _ = run_cli(root, "run", "--claim", "selftest-gpu", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["status"] == "not-checkable" and row["record"] is None
    assert row["verdict"]["explanation"] == "Not checkable here: needs a CUDA GPU."
    assert not (root / "data" / "results").exists()


@pytest.mark.slow
def test_run_judge_outside_scope_runs_a_gpu_claim_on_the_cpu_with_scope_outside(
    tmp_path, monkeypatch
):
    if env_mod.has_cuda():
        pytest.skip("this machine has a CUDA GPU")
    root = _project(tmp_path, _claim("selftest-gpu", [_check(None, '{"sizes": [16]}')],
                                     device="GPU"))  # fmt: skip
    monkeypatch.setenv("FWCLAIMS_ROOT", str(root))
    (result,) = run_claims(["selftest-gpu"], _opts(root), outside_scope=True)
    record = read_record(result.path)
    assert record["options"]["device"] == "cpu"
    assert record["verdict"]["scope"] == "outside"
    assert "Measured outside the claim's scope: CPU" in record["verdict"]["explanation"]
    (run,) = api.runs(load_corpus(root, use_cache=False), "selftest-gpu")
    assert run.scope == "outside" and run.outside_scope
    code, out, _ = run_cli(root, "show", "selftest-gpu")
    assert code == 0 and "(outside the claim's scope)" in out


RECORD = Path(__file__).with_name("fixtures") / "record-v1.json"
ENV = "x86-2core-cpu-torch2.13.0-tf2.21.0-abc123"


def _record(project: Path, name: str, **verdict: str) -> None:
    rec = json.loads(RECORD.read_text())
    rec["record_id"] = name
    rec["verdict"] = {"label": "holds", "explanation": "It held.", **verdict}
    folder = project / "data" / "results" / ENV
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(rec))


def test_run_rows_carry_the_records_qualifier_scope_and_check_id(project):
    _record(project, "20261121T180000Z-fixture-latency-0f3c2a9b", qualifier="larger-than-claimed",
            scope="outside")  # fmt: skip
    (run,) = api.runs(load_corpus(project, use_cache=False), "fixture-latency")
    assert (run.qualifier, run.scope, run.check_id) == ("larger-than-claimed", "outside", "main")


def test_old_records_without_qualifier_or_scope_read_as_before(project):
    _record(project, "20261121T180000Z-fixture-latency-0f3c2a9b")
    (run,) = api.runs(load_corpus(project, use_cache=False), "fixture-latency")
    assert (run.qualifier, run.scope, run.check_id) == (None, None, "main")


def test_show_prints_label_qualifier_and_outside_scope(project):
    _record(project, "20261121T180000Z-fixture-latency-0f3c2a9b", qualifier="larger-than-claimed",
            scope="outside")  # fmt: skip
    code, out, _ = run_cli(project, "show", "fixture-latency")
    assert code == 0
    assert ENV in out
    assert ("main: holds (the gap is larger than claimed) (outside the claim's scope)"
            in " ".join(out.split()))  # fmt: skip


def test_a_record_with_an_unknown_qualifier_is_refused(project):
    _record(project, "20261121T180000Z-fixture-latency-0f3c2a9b", qualifier="roughly")
    corpus = load_corpus(project, use_cache=False)
    assert api.runs(corpus) == []
    (skipped,) = corpus.skipped
    assert "qualifier" in str(skipped)


def test_an_old_record_of_a_gpu_claim_run_on_the_cpu_reads_as_outside_the_scope(project):
    rec = json.loads(RECORD.read_text())
    rec["record_id"] = name = "20261121T180000Z-fixture-latency-0f3c2a9b"
    rec["check"]["conditions"]["device"] = "gpu"
    folder = project / "data" / "results" / ENV
    folder.mkdir(parents=True)
    (folder / f"{name}.json").write_text(json.dumps(rec))
    (run,) = api.runs(load_corpus(project, use_cache=False), "fixture-latency")
    assert run.scope == "outside"


def test_an_old_record_run_on_the_claims_own_device_has_no_scope(project):
    _record(project, "20261121T180000Z-fixture-latency-0f3c2a9b")
    (run,) = api.runs(load_corpus(project, use_cache=False), "fixture-latency")
    assert run.scope is None


def test_select_passes_the_published_figures_bearing_on_a_claim_to_its_judge():
    (sel,) = select(["inference-latency-3x"]).values()
    assert len(sel.evidence) == 15 and all(e.phase == "inference" for e in sel.evidence)


def test_verdict_words_show_label_qualifier_and_scope():
    assert verdict_words("holds", "as-claimed") == "holds (as claimed)"
    assert verdict_words("does-not-hold", None, "outside") == (
        "does-not-hold (outside the claim's scope)"
    )
    assert verdict_words("inconclusive", "through-fallback") == (
        "inconclusive (only through a fallback)"
    )


@pytest.mark.slow
def test_run_prints_each_checks_verdict_and_the_combined_one(tmp_path):
    root = _project(tmp_path, TWO_CHECKS)
    code, out, err = run_cli(root, "run", "--claim", "selftest-two", "--budget", "2",
                             "--results-dir", str(tmp_path / "results"))  # fmt: skip
    assert code == 0, err
    rows = [" ".join(ln.split()) for ln in out.splitlines()]
    assert any(r.startswith("selftest-two main ") for r in rows)
    assert any(r.startswith("selftest-two doubled ") for r in rows)
    assert any(r.startswith("selftest-two combined ") for r in rows)


def test_status_has_a_row_per_check_and_a_check_never_run_is_never_checked(tmp_path):
    from verify.run.status import Here, staleness

    # The claims with only the records of an environment that predates tf-graph-speedup's second
    # check: there its xla check has never run.
    root = tmp_path / "project"
    shutil.copytree(REPO / "claims", root / "claims")
    old = "x86-2core-avx512-cpu-torch2.13.0-tf2.21.0-7b313a"
    shutil.copytree(REPO / "data" / "results" / old, root / "data" / "results" / old)
    here = Here("nowhere-1", "a machine with no runs", {"torch": None, "tensorflow": None,
                                                        "keras": None})  # fmt: skip
    report = staleness(load_corpus(root, use_cache=False), here, code_hash=lambda module: "same")
    rows = {(r.id, r.check_id): r for r in report.claims if r.id == "tf-graph-speedup"}
    assert set(rows) == {("tf-graph-speedup", "main"), ("tf-graph-speedup", "xla")}
    assert rows[("tf-graph-speedup", "main")].runs >= 1
    assert [x.kind for x in rows[("tf-graph-speedup", "xla")].reasons] == ["never-checked"]
    extra = sum(len(v) - 1 for v in api.checks(load_corpus(root, use_cache=False)).values() if v)
    assert extra >= 2 and report.summary["checks"] == report.summary["checkable"] + extra
