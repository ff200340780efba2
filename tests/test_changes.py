"""Keeping the survey current: staleness, flips between environments and along history, the
version series, and lifecycle (deprecated / superseded) from probes and cited sources."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from clikit import verify

from kg import changes
from kg.changes import RunSelector
from kg.errors import UsageError
from kg.lifecycle import Lifecycle, Note, lifecycle_label, lifecycles
from kg.load import load_corpus
from verify.run.codehash import code_hash
from verify.run.status import Here, staleness

FIXTURE = json.loads((Path(__file__).with_name("fixtures") / "record-v1.json").read_text())
OLD = "x86-2core-cpu-torch2.13.0-tf2.15.1-aaa111"
NEW = "x86-2core-cpu-torch2.13.0-tf2.21.0-bbb222"
HERE = Here(NEW, "2-core x86 CPU, torch 2.13.0 / TF 2.21.0",
            {"torch": "2.13.0+cpu", "tensorflow": "2.21.0", "keras": "3.15.1"})  # fmt: skip

LIFECYCLE_CLAIM = """
@prefix fwc: <https://w3id.org/fwclaims/ns#> .
@prefix claim: <https://w3id.org/fwclaims/claim/> .
@prefix src: <https://w3id.org/fwclaims/source/> .
@prefix bench: <https://w3id.org/fwclaims/benchmark/> .
@prefix schema: <http://schema.org/> .
@prefix prov: <http://www.w3.org/ns/prov#> .

claim:fixture-script a fwc:CapabilityClaim ;
    schema:identifier "fixture-script" ;
    schema:text "PyTorch models can be serialised with TorchScript." ;
    fwc:category fwc:Deployment ;
    schema:appearance [ a fwc:Appearance ; schema:isPartOf src:course-notes-2025 ;
        fwc:locator "Deployment row" ] ;
    prov:wasDerivedFrom src:pytorch-docs-2026 ;
    fwc:lifecycle [ a fwc:LifecycleNote ; schema:name "TorchScript" ;
        fwc:lifecycleStatus fwc:DeprecatedFeature ; fwc:successor "torch.export" ;
        prov:wasDerivedFrom src:pytorch-docs-2026 ] ;
    fwc:checkedBy [ a fwc:Check ; fwc:benchmark bench:torchscript ;
        fwc:parameters \"\"\"{"mode": "script"}\"\"\" ;
        fwc:rule [ a fwc:DecisionRule ; fwc:metric "succeeds" ; fwc:better "higher" ;
            fwc:subject "torch" ; fwc:threshold 1.0 ; fwc:tolerance 0.0 ; fwc:quantifier fwc:Exists ] ] .
"""


def add_record(
    project: Path,
    env_id: str,
    *,
    verdict: str = "holds",
    ratio: float = 9.1,
    ended: str = "2026-11-21T18:00:41Z",
    tf: str = "2.21.0",
    claim: str = "fixture-latency",
    hash_: str | None = None,
    parameters: dict | None = None,
    probe: dict | None = None,
) -> dict:
    """Write a canned record (the v1 fixture, varied) and return it."""
    rec = copy.deepcopy(FIXTURE)
    n = (
        len(list((project / "data" / "results").glob("*/*.json")))
        if (project / "data").exists()
        else 0
    )
    name = f"{ended[:10].replace('-', '')}T000000Z-{claim}-{n:08x}"
    rec.update(record_id=name, claim_id=claim, environment_id=env_id, ended=ended,
               started=ended, probe=probe, schema_version=2)  # fmt: skip
    rec["check"]["claim_id"] = claim
    rec["verdict"] = {"label": verdict, "explanation": f"{verdict} at {ratio}x."}
    rec["environment"]["packages"]["tensorflow"] = tf
    del rec["benchmark_code_sha256"]
    sha = hash_ or code_hash(rec["check"]["module"])
    rec["benchmark_code"] = {"method": "definitions-v1", "sha256": sha}
    if parameters is not None:
        rec["check"]["parameters"] = parameters
    if probe is not None:
        rec["check"] = {**rec["check"], "benchmark": "torchscript",
                        "module": "verify.benchmarks.probes", "benchmark_type": "probe"}  # fmt: skip
        rec["cells"] = []
    else:
        s = rec["cells"][0]["summary"]
        s.update(ratio=ratio, ci_low=round(ratio * 0.95, 3), ci_high=round(ratio * 1.05, 3))
    folder = project / "data" / "results" / env_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(rec))
    return rec


def corpus_of(project: Path):
    return load_corpus(project, use_cache=False)


# ---------------------------------------------------------------- flips between two sides


def test_flips_lists_claim_whose_verdict_differs_with_both_measurements(project):
    add_record(project, OLD, verdict="holds", ratio=3.4, tf="2.15.1")
    add_record(project, NEW, verdict="does-not-hold", ratio=1.2, ended="2026-11-22T10:00:00Z")
    [flip] = changes.compare(
        corpus_of(project), RunSelector(environment=OLD), RunSelector(environment=NEW)
    ).flips
    assert flip.claim_id == "fixture-latency" and flip.both_decided
    a, b = flip.before, flip.after
    assert (a.verdict, b.verdict) == ("holds", "does-not-hold")
    assert a.measurements[0].ratio == 3.4
    assert b.measurements[0].ratio == 1.2
    assert b.measurements[0].ci_low == pytest.approx(1.14)
    assert a.explanation == "holds at 3.4x."
    assert a.versions["tensorflow"] == "2.15.1"


def test_flips_empty_when_verdicts_agree(project):
    add_record(project, OLD, ratio=3.4, tf="2.15.1")
    add_record(project, NEW, ratio=3.1)
    report = changes.compare(
        corpus_of(project), RunSelector(environment=OLD), RunSelector(environment=NEW)
    )
    assert report.flips == [] and report.compared == 1


def test_flips_by_version_sets_match_version_prefixes(project):
    add_record(project, OLD, verdict="holds", tf="2.15.1")
    add_record(project, NEW, verdict="inconclusive")
    a = RunSelector.parse_versions("torch=2.13.0,tensorflow=2.15")
    b = RunSelector.parse_versions("tf=2.21.0")
    [flip] = changes.compare(corpus_of(project), a, b).flips
    assert flip.before.environment == OLD and not flip.both_decided


def test_run_selector_prefix_must_be_unambiguous_and_known(project):
    add_record(project, OLD, tf="2.15.1")
    add_record(project, NEW)
    corpus = corpus_of(project)
    with pytest.raises(UsageError, match="several environments"):
        changes.compare(corpus, RunSelector(environment="x86-2core"), RunSelector(environment=NEW))
    with pytest.raises(UsageError, match="no environment matches"):
        changes.compare(corpus, RunSelector(environment="arm64"), RunSelector(environment=NEW))
    with pytest.raises(UsageError, match="NAME=VERSION"):
        RunSelector.parse_versions("pytorch2.13")


# ---------------------------------------------------------------- history and versions


def test_history_flips_lists_consecutive_changes_in_one_environment(project):
    add_record(project, NEW, verdict="holds", ended="2026-11-20T10:00:00Z")
    add_record(project, NEW, verdict="holds", ended="2026-11-21T10:00:00Z")
    add_record(project, NEW, verdict="does-not-hold", ratio=1.1, ended="2026-11-22T10:00:00Z")
    add_record(project, OLD, verdict="inconclusive", tf="2.15.1", ended="2026-11-23T10:00:00Z")
    [row] = changes.history_flips(corpus_of(project))
    assert row.after.environment == NEW and row.when.startswith("2026-11-22T10:00:00")
    assert (row.before.verdict, row.after.verdict) == ("holds", "does-not-hold")
    assert row.after.measurements[0].ratio == 1.1


def test_history_flips_across_versions_groups_by_machine(project):
    add_record(project, OLD, verdict="holds", tf="2.15.1", ended="2026-11-20T10:00:00Z")
    add_record(project, NEW, verdict="does-not-hold", ended="2026-11-22T10:00:00Z")
    corpus = corpus_of(project)
    assert changes.history_flips(corpus) == [] == changes.history_changes(corpus)
    [row] = changes.history_flips(corpus, across_versions=True)
    assert row.before.versions["tensorflow"] == "2.15.1"
    assert row.after.versions["tensorflow"] == "2.21.0"
    [change] = changes.history_changes(corpus, across_versions=True)
    assert (change.before.run, change.after.run, change.when) == (row.before.run, row.after.run,
                                                                  row.when)  # fmt: skip


def test_version_series_gives_ratio_and_ci_per_tensorflow_version(project):
    add_record(project, NEW, ratio=2.5)
    add_record(project, OLD, ratio=3.5, tf="2.15.1")
    series = changes.version_series(corpus_of(project), "fixture-latency")
    assert [(r.versions["tensorflow"], r.ratio) for r in series] == [
        ("2.15.1", 3.5), ("2.21.0", 2.5)]  # fmt: skip
    assert series[0].ci_high == pytest.approx(3.675) and series[0].cell == "batch 1, 28 px"


def test_release_orders_versions_numerically():
    assert (
        changes.release("2.9.1") < changes.release("2.13.0+cpu") < changes.release("2.15.0.post1")
    )
    assert changes.version_matches("2.16.2", "2.16") and not changes.version_matches(
        "2.1.0", "2.16"
    )


# ---------------------------------------------------------------- staleness


def _reasons(report, claim: str) -> dict[str, str]:
    [row] = [r for r in report.claims if r.id == claim]
    return {x.kind: x.detail for x in row.reasons}


def test_status_lists_claim_never_run(project):
    report = staleness(corpus_of(project), HERE)
    assert set(_reasons(report, "fixture-latency")) == {"never-checked"}
    assert report.summary["never-checked"] == 1 and report.summary["checkable"] == 1


def test_status_up_to_date_when_run_here_with_current_check(project):
    add_record(project, NEW)
    report = staleness(corpus_of(project), HERE)
    assert _reasons(report, "fixture-latency") == {} and report.summary["up_to_date"] == 1


def test_status_old_benchmark_hash_marks_claim_stale(project):
    add_record(project, NEW, hash_="00aa" * 16)
    reasons = _reasons(staleness(corpus_of(project), HERE), "fixture-latency")
    assert (
        set(reasons) == {"check-changed"}
        and "benchmark code (00aa00aa then" in reasons["check-changed"]
    )


def test_status_changed_parameters_mark_claim_stale(project):
    add_record(project, NEW, parameters={"batch_sizes": [1, 8], "input_sizes": [28]})
    reasons = _reasons(staleness(corpus_of(project), HERE), "fixture-latency")
    assert reasons["check-changed"].endswith("parameters")


def test_status_older_framework_versions_and_not_checked_here(project):
    add_record(project, OLD, tf="2.15.1")
    reasons = _reasons(staleness(corpus_of(project), HERE), "fixture-latency")
    assert set(reasons) == {"not-checked-here", "older-versions"}
    assert "TF 2.15.1" in reasons["older-versions"] and "TF 2.21.0" in reasons["older-versions"]


# ---------------------------------------------------------------- lifecycle


def _with_lifecycle_claim(project: Path) -> Path:
    (project / "claims" / "lifecycle.ttl").write_text(LIFECYCLE_CLAIM)
    return project


def test_lifecycle_from_cited_source_when_no_probe_ran(project):
    corpus = corpus_of(_with_lifecycle_claim(project))
    lc = lifecycles(corpus)["fixture-script"]
    assert (lc.status, lc.successor, lc.top.evidence, lc.top.source) == (
        "deprecated", "torch.export", "source", "pytorch-docs-2026")  # fmt: skip
    assert (
        lc.top.detail
        == "TorchScript is deprecated in favour of torch.export (source: pytorch-docs-2026)."
    )
    assert "fixture-latency" not in lifecycles(corpus)


def test_lifecycle_probe_warning_outranks_the_citation(project):
    _with_lifecycle_claim(project)
    probe = {"ok": True, "deprecated": True, "successor": "torch.export", "detail": "saved"}
    add_record(project, NEW, claim="fixture-script", probe=probe)
    corpus = corpus_of(project)
    lc = lifecycles(corpus)["fixture-script"]
    assert lc.top.evidence == "probe" and lc.successor == "torch.export"
    assert [n.evidence for n in lc.notes] == ["probe", "source"]
    assert lifecycle_label(lc, "holds") == "holds, deprecated"
    row = [r for r in staleness(corpus, HERE).claims if r.id == "fixture-script"][0]
    assert row.label == "holds, deprecated"


def test_lifecycle_label_names_the_successor():
    def note(status: str, successor: str | None = None) -> Lifecycle:
        return Lifecycle([Note(status, successor, "source", None, None, "")])

    assert lifecycle_label(note("superseded", "LiteRT"), "holds") == "holds, superseded by LiteRT"
    assert lifecycle_label(note("limited-maintenance")) == "limited maintenance"


def test_lifecycle_note_without_successor_for_superseded_is_invalid(project):
    from kg.errors import ValidationFailed

    text = LIFECYCLE_CLAIM.replace(
        'fwc:DeprecatedFeature ; fwc:successor "torch.export"', "fwc:Superseded"
    )
    (project / "claims" / "lifecycle.ttl").write_text(text)
    with pytest.raises(ValidationFailed, match="needs its successor"):
        corpus_of(project)


# ---------------------------------------------------------------- the commands


def test_diff_command_exits_1_on_flip_only_when_asked(project):
    add_record(project, OLD, verdict="holds", ratio=3.4, tf="2.15.1")
    add_record(project, NEW, verdict="does-not-hold", ratio=1.2)
    plain = verify(project, "diff", OLD[:-2], NEW)
    assert plain.returncode == 0, plain.stderr
    assert "fixture-latency: holds -> does-not-hold" in plain.stdout and "3.40x" in plain.stdout
    failing = verify(project, "diff", OLD, NEW, "--fail-on-flip", "--json")
    assert (
        failing.returncode == 1
        and json.loads(failing.stdout)["flips"][0]["claim_id"] == "fixture-latency"
    )


def test_status_command_json_exits_0(project):
    out = verify(project, "status", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["summary"]["never-checked"] == 1 and report["environment"]["environment_id"]
