"""Run records load into the graph as PROV-O activities and come back through the read API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kg import api
from kg.errors import ValidationFailed
from kg.load import load_corpus

FIXTURE = Path(__file__).with_name("fixtures") / "record-v1.json"
ENV = "x86-2core-cpu-torch2.13.0-tf2.21.0-abc123"


def _add_record(
    project: Path, name: str = "20261121T180000Z-fixture-latency-0f3c2a9b.json"
) -> Path:
    folder = project / "data" / "results" / ENV
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(FIXTURE, folder / name))


def test_records_become_runs_with_verdict_and_environment(project):
    _add_record(project)
    corpus = load_corpus(project, use_cache=False)
    [run] = api.runs(corpus, "fixture-latency")
    assert run.verdict == "holds" and run.environment == ENV
    # named as the site names it (kg.environments.name_environments), by the CPU model
    assert (
        run.environment_label
        == "2-core Example CPU @ 2.0GHz, torch 2.13.0 / TF 2.21.0 / Keras 3.15.1"
    )
    assert run.record.startswith("data/results/") and run.benchmark == "inference-latency"
    [cell] = api.measurements(corpus, run.run)
    assert (cell.ratio, cell.ci_low, cell.ci_high, cell.sample_size) == (9.1, 8.7, 9.6, 60)


def test_records_are_prov_activities(project):
    _add_record(project)
    corpus = load_corpus(project, use_cache=False)
    assert corpus.ask(
        "ASK { ?r a prov:Activity ; prov:used ?e ; prov:startedAtTime ?t . ?e a prov:Entity ."
        " ?v a schema:ClaimReview ; schema:itemReviewed claim:fixture-latency ; prov:wasGeneratedBy ?r }"
    )


def test_latest_verdict_per_claim_and_environment(project):
    _add_record(project)
    newer = json.loads(FIXTURE.read_text())
    newer.update(
        record_id="20261122T000000Z-fixture-latency-11111111", ended="2026-11-22T00:00:00Z"
    )
    newer["verdict"] = {"label": "inconclusive", "explanation": "The interval straddles 2x."}
    path = project / "data" / "results" / ENV / "20261122T000000Z-fixture-latency-11111111.json"
    path.write_text(json.dumps(newer))
    corpus = load_corpus(project, use_cache=False)
    [latest] = api.latest_runs(corpus)["fixture-latency"].values()
    assert latest.verdict == "inconclusive"
    [env] = api.environments(corpus)
    assert env.runs == 2 and env.torch == "2.13.0+cpu"


def test_truncated_record_is_left_out_and_named_unless_strict(project):
    path = _add_record(project)
    path.write_text(path.read_text()[:200])
    corpus = load_corpus(project, use_cache=False)
    assert api.runs(corpus) == [] and api.claim(corpus, "fixture-latency").id == "fixture-latency"
    [skipped] = corpus.skipped
    assert path.name in str(skipped) and "not valid JSON" in str(skipped)
    with pytest.raises(ValidationFailed) as e:
        load_corpus(project, use_cache=False, record_policy="strict")
    [problem] = e.value.problems
    assert problem.file.startswith("data/results/") and "not valid JSON" in problem.message
    assert problem.line is not None


def test_record_from_newer_fwclaims_is_refused_saying_to_upgrade(project):
    path = _add_record(project)
    rec = json.loads(path.read_text())
    rec["schema_version"] = 99
    path.write_text(json.dumps(rec))
    with pytest.raises(ValidationFailed) as e:
        load_corpus(project, use_cache=False, record_policy="strict")
    assert "upgrade fwclaims" in str(e.value)


def test_a_cached_corpus_still_names_the_records_it_left_out(project):
    path = _add_record(project)
    path.write_text("{")
    first = load_corpus(project)
    again = load_corpus(project)
    assert again.from_cache and [str(e) for e in again.skipped] == [str(e) for e in first.skipped]
    assert again.records == []


def test_an_exploration_outside_its_claims_device_says_so_in_its_sentence():
    # a GPU claim explored on this CPU by name: its labels are about the CPU, not the claim
    import copy

    import pyoxigraph as ox
    from site_project import exploration_record

    from kg import ns
    from kg.recordgraph import record_quads

    def sentence(rec):
        quads = record_quads(rec, "data/results/x/r.json")
        [text] = [
            q.object.value for q in quads if q.predicate == ox.NamedNode(ns.SCHEMA + "description")
        ]
        return text

    rec = exploration_record()
    rec["check"]["conditions"] = {"device": "gpu"}
    rec["options"] = {"device": "cpu"}
    assert sentence(rec).endswith(
        "Explored outside the claim's scope: on a CPU, while the claim is about GPUs; this says"
        " nothing for or against the claim itself."
    )
    # and a flag the index shows beside the label
    flag = ox.NamedNode(ns.FWC + "outsideScope")
    assert [q.object.value for q in record_quads(rec, "r.json") if q.predicate == flag] == ["true"]
    same = copy.deepcopy(rec)
    same["options"]["device"] = "cuda"
    assert "outside" not in sentence(same)
    assert not [q for q in record_quads(same, "r.json") if q.predicate == flag]
    anywhere = copy.deepcopy(rec)
    anywhere["check"]["conditions"]["device"] = "any"
    assert sentence(anywhere) == rec["exploration"]["summary"]["sentence"]


def test_the_index_row_of_a_claim_explored_outside_its_scope_says_so():
    from verify.publish.build import environment

    row = environment().get_template("rows.html").module.index_row
    args = ("c", "c", "cat", "performance", "text", "holds", False, None, None, (), ())
    outside = str(row(*args, "mixed", True))
    assert "mixed, outside scope</span>" in outside and "robustness-mixed" not in outside
    inside = str(row(*args, "mixed", False))
    assert 'robustness-mixed" title' in inside and "outside scope" not in inside
