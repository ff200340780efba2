"""The JSON API names environments as the site does and keeps their ids; a claim lists every check
and, per environment, each check's newest verdict beside the combined one (committed data)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kg.load import load_corpus
from kg.model import Label, combine
from verify.publish.sitedata import gather
from verify.serve.app import create_app
from verify.serve.limits import Limits

REPO = Path(__file__).resolve().parent.parent
OLD = "x86-2core-avx512-cpu-torch2.13.0-tf2.21.0-7b313a"
NEW = "x86-2core-cpu-torch2.13.0-tf2.21.0-jax0.10.2-9facdd"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    corpus = load_corpus(REPO, use_cache=False)
    data = gather(corpus, documents=False)
    app = create_app(tmp_path_factory.mktemp("site"), corpus, Limits(workers=1))
    with TestClient(app) as client:
        yield client, data


def test_api_runs_carry_the_site_names_the_id_and_this_machine(served):
    client, data = served
    runs = client.get("/api/claims/inference-latency-3x/runs").json()
    assert {r["environment"] for r in runs} >= {OLD, NEW}
    for r in runs:
        env = data.environments[r["environment"]]
        assert r["environment_label"] == env.display and "x86 CPU" not in r["environment_label"]
        assert r["environment_short"] == env.short
        assert r["here"] == (r["environment"] == data.here)
    assert any(r["here"] for r in runs)


def test_api_environments_give_label_short_name_and_this_machine(served):
    client, data = served
    envs = client.get("/api/environments").json()
    assert [e["id"] for e in envs] == data.env_order and envs[0]["here"]
    assert sum(e["here"] for e in envs) == 1
    for e in envs:
        assert e["label"] == e["display"] == data.env_label(e["id"])
        assert e["short"] == data.environments[e["id"]].short and "x86 CPU" not in e["label"]


def test_api_claim_lists_every_check_and_each_ones_verdict_per_environment(served):
    client, data = served
    c = client.get("/api/claims/tf-graph-speedup").json()
    assert [k["check_id"] for k in c["checks"]] == ["main", "xla"]
    by_env = {v["environment"]: v for v in c["verdicts"]}
    new = by_env[NEW]
    assert {k["check_id"] for k in new["checks"]} == {"main", "xla"}
    labels = [Label(k["verdict"]) for k in sorted(new["checks"], key=lambda k: k["check_id"])]
    assert new["verdict"] == combine(labels, c["combine"]).value
    assert new["environment_short"] == data.environments[NEW].short
    assert [v["environment"] for v in c["verdicts"] if v["here"]] == [data.here]
    # the older environment ran only the main check, so the claim is open there
    old = by_env[OLD]
    assert [k["check_id"] for k in old["checks"]] == ["main"] and old["verdict"] == "inconclusive"


def test_api_claim_list_gives_every_check_and_the_combined_verdicts(served):
    client, data = served
    rows = {r["id"]: r for r in client.get("/api/claims").json()}
    row = rows["tf-graph-speedup"]
    assert row["checks"] == ["main", "xla"] and row["check"] == "inference-latency"
    assert row["verdicts"][OLD] == "inconclusive"
    assert row["status"] == data.status("tf-graph-speedup")
    assert rows["pytorch-dynamic-graph"]["checks"] == ["main"]
