"""`verify status`, `diff`, `results` and `show` name environments as the site does (one
implementation, kg.environments), mark the environment `verify env` reports as this machine, and
keep the id beside the name; on the committed claims and run records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clikit import run_cli

from kg import api
from kg.load import load_corpus
from verify.run import status as status_mod
from verify.run.status import Here

REPO = Path(__file__).resolve().parent.parent
OLD = "x86-2core-avx512-cpu-torch2.13.0-tf2.21.0-7b313a"
NEW = "x86-2core-cpu-torch2.13.0-tf2.21.0-jax0.10.2-9facdd"


@pytest.fixture(scope="module")
def names():
    return api.environment_names(load_corpus(REPO))


@pytest.fixture
def here_is_new(monkeypatch):
    """This machine is the committed JAX environment, wherever the test runs."""
    monkeypatch.setattr("verify.cli.output.this_environment", lambda: NEW)


def test_this_environment_is_the_id_verify_env_reports():
    from verify.cli.output import this_environment

    code, out, err = run_cli(REPO, "env", "--json")
    assert code == 0, err
    assert json.loads(out)["environment_id"] == this_environment()


def test_results_name_environments_as_the_site_and_mark_this_machine(names, here_is_new):
    code, out, err = run_cli(REPO, "results", "--claim", "inference-latency-3x")
    assert code == 0, err
    # the two hosts differ in their CPU's vector instruction set, and their names say so
    assert names[NEW].short == "2-core AMD EPYC · TF 2.21.0 · Keras 3.15.1 · JAX 0.10.2"
    assert names[OLD].machine == "2-core AMD EPYC with AVX-512"
    assert f"{names[NEW].short} (this machine)" in out
    assert names[OLD].short in out and "x86 CPU" not in out
    legend = out[out.index("environments:") :].splitlines()[1:]
    assert f"  {names[NEW].short} (this machine): {NEW}" in legend
    assert f"  {names[OLD].short}: {OLD}" in legend
    assert len(legend) == 6  # the six environments the claim ran in, each once


def test_results_json_keeps_the_id_beside_the_names(names, here_is_new):
    code, out, _ = run_cli(REPO, "results", "--claim", "inference-latency-3x", "--json")
    rows = json.loads(out)
    assert code == 0 and {r["environment_id"] for r in rows} >= {NEW, OLD}
    for r in rows:
        assert r["environment_label"] == names[r["environment_id"]].display
        assert r["environment_short"] == names[r["environment_id"]].short
        assert r["here"] == (r["environment_id"] == NEW)


def test_show_names_each_environment_with_its_id_this_machine_marked(names, here_is_new):
    code, out, err = run_cli(REPO, "show", "tf-small-input-edge")
    assert code == 0, err
    tail = out[out.index("Latest verdicts") :]
    assert f"  {names[NEW].display} (this machine) [{NEW}]" in tail
    assert f"  {names[OLD].display} [{OLD}]" in tail
    assert "x86 CPU" not in tail and tail.count("(this machine)") == 1


def test_show_json_combines_several_checks_per_environment(names, here_is_new):
    code, out, _ = run_cli(REPO, "show", "tf-graph-speedup", "--json")
    found = {v["environment"]: v for v in json.loads(out)["latest_verdicts"]}
    assert code == 0 and found[NEW]["here"] and not found[OLD]["here"]
    assert found[NEW]["environment_short"] == names[NEW].short
    assert {c["check_id"] for c in found[NEW]["checks"]} == {"main", "xla"}
    # only the main check ran in the older environment: the claim stays open there
    assert [c["label"] for c in found[OLD]["checks"] if c["check_id"] == "xla"] == [None]
    main = next(c["label"] for c in found[OLD]["checks"] if c["check_id"] == "main")
    assert main == "holds" and found[OLD]["combined"]["label"] == "inconclusive"


def test_diff_names_both_sides_with_ids_and_marks_this_machine(names, here_is_new):
    code, out, err = run_cli(REPO, "diff", OLD, NEW)
    assert code == 0, err
    # training-cnn-25pct did not hold on the old machine; its newest verdict here is whatever the
    # newest committed record says, which the JSON report gives
    _, as_json, _ = run_cli(REPO, "diff", OLD, NEW, "--json")
    flip = next(f for f in json.loads(as_json)["flips"] if f["claim_id"] == "training-cnn-25pct")
    assert flip["before"]["verdict"] == "does-not-hold" != flip["after"]["verdict"]
    assert f"training-cnn-25pct: does-not-hold -> {flip['after']['verdict']}" in out
    assert f"  A {names[OLD].display} [{OLD}]:" in out
    assert f"  B {names[NEW].display} (this machine) [{NEW}]:" in out
    assert "x86 CPU" not in out


def test_diff_json_says_which_side_is_this_machine(names, here_is_new):
    code, out, _ = run_cli(REPO, "diff", OLD, NEW, "--json")
    report = json.loads(out)
    assert code == 0 and report["this_environment"] == NEW
    flip = next(f for f in report["flips"] if f["claim_id"] == "training-cnn-25pct")
    assert flip["before"]["environment_label"] == names[OLD].display
    assert flip["after"]["environment"] == NEW


def _here(env_id: str, monkeypatch, row=None) -> None:
    found = Here(env_id, "2-core x86 CPU, as collected", {"torch": "2.13.0+cpu"}, row)
    monkeypatch.setattr(status_mod.Here, "detect", classmethod(lambda cls: found))


def test_status_names_this_machine_as_the_site_does(names, monkeypatch):
    _here(NEW, monkeypatch)
    code, out, err = run_cli(REPO, "status")
    assert code == 0, err
    assert f"This environment: {NEW} ({names[NEW].display})" in out
    assert "x86 CPU" not in out
    code, out, _ = run_cli(REPO, "status", "--json")
    assert json.loads(out)["environment"]["label"] == names[NEW].display


def test_status_names_a_machine_not_in_the_graph_among_the_graph_environments(monkeypatch):
    from dataclasses import replace

    graph = {e.id: e for e in api.environments(load_corpus(REPO))}
    new_id = "x86-2core-cpu-torch2.13.0-tf2.21.0-jax0.10.2-ffffff"
    _here(new_id, monkeypatch, replace(graph[NEW], id=new_id, cpu="Intel Xeon"))
    code, out, err = run_cli(REPO, "status")
    assert code == 0, err
    assert f"This environment: {new_id} (2-core Intel Xeon, torch 2.13.0" in out
    # reasons name the graph's environments as the site does
    assert "not run in this environment yet; newest run on 2-core AMD EPYC" in out
