"""Published DAWNBench numbers recorded as fwc:Measurement evidence and read through kg.api.evidence."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg import api, evidence
from kg.errors import UnknownClaim
from kg.load import load_corpus, turtle_files
from kg.model import plain

REPO = Path(__file__).resolve().parent.parent
DAWNBENCH = REPO / "data" / "snapshots" / "dawnbench"


@pytest.fixture(scope="module")
def rows(corpus):
    return {r.id.split("/", 1)[1]: plain(r) for r in api.evidence(corpus)}


def test_evidence_committed_file_matches_the_snapshot():
    assert evidence.is_current(REPO), "run `verify evidence import` and commit the result"


def test_evidence_one_measurement_per_dawnbench_entry(rows):
    assert len(rows) == len(list(DAWNBENCH.glob("*.json"))) == 31


def test_evidence_corpus_loads_the_snapshot_turtle():
    assert REPO / "data" / "snapshots" / "dawnbench-evidence.ttl" in turtle_files(REPO)


def test_evidence_inference_latency_per_image_as_published(rows):
    torch_cpu = rows["inference-dawn-resnet164-b-16vcpus-gc-pytorch"]
    tf_cpu = rows["inference-dawn-resnet164-b-16vcpus-gc-tensorflow"]
    assert torch_cpu["value"] == pytest.approx(75.35, abs=0.01)
    assert tf_cpu["value"] == pytest.approx(31.13, abs=0.01)
    assert (torch_cpu["unit"], torch_cpu["device"], torch_cpu["phase"]) == (
        "ms",
        "cpu",
        "inference",
    )
    assert (torch_cpu["framework"], torch_cpu["version"]) == ("torch", "0.1.12")
    assert (tf_cpu["framework"], tf_cpu["version"]) == ("tensorflow", "1.2")
    assert torch_cpu["source"] == "dawnbench-2017"
    assert torch_cpu["url"].endswith("/CIFAR10/inference/dawn_resnet164_b_16vCPUs-gc_pytorch.json")
    assert rows["inference-dawn-resnet164-b-1p100-dawn-pytorch"]["device"] == "gpu"


def test_evidence_training_time_is_first_epoch_reaching_94pct(rows):
    hours, epoch = evidence.time_to_accuracy(
        DAWNBENCH / "train-dawn_resnet164_b_1p100-dawn_pytorch.tsv"
    )
    assert (round(hours, 3), epoch) == (3.031, 138)
    row = rows["train-dawn-resnet164-b-1p100-dawn-pytorch"]
    assert (row["value"], row["unit"], row["phase"]) == (
        pytest.approx(3.03102, abs=1e-4),
        "h",
        "training",
    )
    later = rows["train-dawn-resnet164-nb-1p100-dawn-tensorflow-part2"]
    assert (later["version"], later["date"]) == ("1.3", "2018-02-02")


def test_evidence_for_a_claim_lists_only_measurements_bearing_on_it(corpus):
    training = api.evidence(corpus, "training-cnn-25pct")
    inference = api.evidence(corpus, "inference-latency-3x")
    assert len(training) == 16 and {r.phase for r in training} == {"training"}
    assert len(inference) == 15 and {r.phase for r in inference} == {"inference"}
    assert api.evidence(corpus, "tf-xla-compiler") == []


def test_evidence_unknown_claim_is_reported_with_suggestions(corpus):
    with pytest.raises(UnknownClaim):
        api.evidence(corpus, "inference-latency-3")


def test_evidence_links_only_to_existing_claims(corpus):
    ids = set(api.claim_ids(corpus))
    assert all(set(r.claims) <= ids for r in api.evidence(corpus))


def test_evidence_links_are_in_the_claim_files_not_in_python(corpus):
    assert not hasattr(evidence, "BEARS_ON")
    assert "bearsOn" not in evidence.evidence_file(REPO).read_text()
    text = (REPO / "claims" / "performance.ttl").read_text()
    assert "dawn:inference-dawn-resnet164-b-16vcpus-gc-pytorch" in text
    linked = corpus.query("SELECT ?c ?m WHERE { ?c fwc:evidence ?m . ?m a fwc:Measurement }")
    assert {r["c"].rsplit("/", 1)[-1] for r in linked} == {
        "inference-latency-3x", "training-cnn-25pct", "performance-tie"}  # fmt: skip
    every = corpus.query("SELECT ?m WHERE { ?c fwc:evidence ?m }")
    assert len(every) == len(linked)  # every link names a measurement that exists


def test_evidence_measurements_are_not_counted_as_claims_of_their_source(corpus):
    row, uses = api.source(corpus, "dawnbench-2017")
    assert not any("dawn-resnet164" in u.id for u in uses)
    assert row.supports == len({u.id for u in uses if u.how == "rests-on"})


def test_evidence_import_writes_and_checks_the_file(monkeypatch, capsys, full_copy):
    from verify.cli.app import main

    shutil.copytree(DAWNBENCH, full_copy / "data" / "snapshots" / "dawnbench")
    monkeypatch.setenv("FWCLAIMS_ROOT", str(full_copy))

    def run(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["verify", "--root", str(full_copy), "evidence", *args])
        try:
            main()
        except SystemExit as e:
            return int(e.code or 0)
        return 0

    assert run("import", "--check") == 1  # not written yet
    assert run("import") == 0
    assert "wrote 31 measurements" in capsys.readouterr().out
    assert run("import", "--check") == 0
    target = full_copy / "data" / "snapshots" / "dawnbench-evidence.ttl"
    target.write_text(target.read_text().replace("75.3522", "70.0"))
    assert run("import", "--check") == 1
    assert len(api.evidence(load_corpus(full_copy, use_cache=False))) == 31


def test_survey_modules_import_no_framework():
    code = (
        "import sys, kg.scaffold, kg.evidence, verify.judge.adoption, verify.cli.survey;"
        "heavy = {'torch', 'tensorflow', 'keras', 'jax'} & set(sys.modules);"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)
