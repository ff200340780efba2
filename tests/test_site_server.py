"""`verify serve`: the JSON API, the read-only SPARQL endpoint and the site files, all read-only."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from site_project import GPU_ENV, make_project

from kg.load import load_corpus
from verify.publish.build import publish
from verify.serve.app import create_app
from verify.serve.errors import QueryRefused
from verify.serve.limits import Limits
from verify.serve.query import query_form
from verify.serve.static import site_file

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i FILTER(?c != ?i) }"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("serve") / "project")
    corpus = load_corpus(project, use_cache=False)
    site = publish(corpus, project / "_site").out
    app = create_app(site, corpus, Limits(query_timeout=0.5, max_rows=5, workers=1))
    with TestClient(app) as client:
        yield client, site


@pytest.fixture
def client(served):
    return served[0]


def test_api_lists_claims_with_status_and_verdicts(client):
    rows = client.get("/api/claims").json()
    assert [r["id"] for r in rows] == ["fixture-latency", "fixture-opinion", "fixture-xss"]
    latency = rows[0]
    assert latency["status"] == "mixed" and latency["verdicts"][GPU_ENV] == "does-not-hold"
    assert latency["page"] == "/claims/fixture-latency.html"


def test_api_filters_claims(client):
    # one status per claim, as the site counts it: a claim whose environments disagree is mixed,
    # and is not listed again under each environment's verdict
    assert [r["id"] for r in client.get("/api/claims?status=mixed").json()] == ["fixture-latency"]
    assert client.get("/api/claims?status=does-not-hold").json() == []
    assert [r["id"] for r in client.get("/api/claims?q=easier learn").json()] == ["fixture-opinion"]
    assert client.get("/api/claims?kind=capability").json() == []


def test_api_claim_detail_and_runs(client):
    c = client.get("/api/claims/fixture-latency").json()
    assert c["conclusion"].startswith("Does not hold in 1 of 2 environments")
    assert ["fixture-latency", "becirovic-2025"] in c["citation_chains"]
    runs = client.get("/api/claims/fixture-latency/runs").json()
    assert len(runs) == 3 and runs[0]["environment"] == GPU_ENV
    assert runs[0]["measurements"][1] | {"ratio": 0.5, "ci_low": 0.4} == runs[0]["measurements"][1]
    record = client.get(runs[0]["record"])
    assert (
        record.status_code == 200
        and record.json()["record_id"] == "20261122T100000Z-fixture-latency-22222222"
    )


def test_api_claim_exploration_has_every_specification(client):
    x = client.get("/api/claims/fixture-latency/exploration").json()
    assert (x["robustness"], x["stated"], x["outside_scope"]) == ("fragile", "holds", False)
    assert [s["factors"]["baseline"] for s in x["specifications"]] == [
        "keras-predict", "keras-predict", "tf-function", "tf-function"]  # fmt: skip
    assert x["record"].startswith("/records/")
    missing = client.get("/api/claims/fixture-opinion/exploration")
    assert missing.status_code == 404 and "not explored" in missing.json()["detail"]["reason"]


def test_api_unknown_claim_is_a_json_404_with_suggestions(client):
    r = client.get("/api/claims/fixture-latensy")
    assert r.status_code == 404 and r.json()["error"] == "not found"
    assert r.json()["detail"]["did_you_mean"][0] == "fixture-latency"


def test_api_sources_and_environments(client):
    sources = client.get("/api/sources").json()
    assert {"becirovic-2025", "course-notes-2025"} <= {s["id"] for s in sources}
    envs = client.get("/api/environments").json()
    assert {e["id"] for e in envs} == {GPU_ENV, "x86-2core-cpu-torch2.13.0-tf2.21.0-abc123"}


def test_api_bad_parameters_are_4xx_json(client):
    r = client.get("/api/claims", params={"q": "x" * 500})
    assert r.status_code == 422 and r.json()["error"] == "invalid request"
    r = client.delete("/api/claims")
    assert r.status_code == 405 and r.json()["error"] == "method not allowed"


def test_openapi_documents_models_and_errors(client):
    spec = client.get("/openapi.json").json()
    get = spec["paths"]["/api/claims/{claim_id}"]["get"]["responses"]
    assert get["200"]["content"]["application/json"]["schema"]["$ref"].endswith("ClaimDetail")
    assert "404" in get and "503" in spec["paths"]["/sparql"]["get"]["responses"]


def test_sparql_select_as_json_and_csv(client):
    q = "SELECT ?id WHERE { ?c a fwc:PerformanceClaim ; schema:identifier ?id }"
    r = client.get("/sparql", params={"query": q})
    assert r.headers["content-type"] == "application/sparql-results+json"
    assert r.json()["results"]["bindings"] == [
        {"id": {"type": "literal", "value": "fixture-latency"}}
    ]
    r = client.get("/sparql", params={"query": q}, headers={"Accept": "text/csv"})
    assert (
        r.headers["content-type"].startswith("text/csv") and r.text == "id\r\nfixture-latency\r\n"
    )
    r = client.post("/sparql", content=q, headers={"Content-Type": "application/sparql-query"},
                    params={"format": "csv"})  # fmt: skip
    assert r.text == "id\r\nfixture-latency\r\n"
    r = client.post("/sparql", data={"query": "ASK { claim:fixture-xss ?p ?o }"})
    assert r.json() == {"head": {}, "boolean": True}


def test_sparql_construct_as_turtle(client):
    r = client.get("/sparql", params={"query": "CONSTRUCT WHERE { claim:fixture-opinion a ?t }"})
    assert r.headers["content-type"].startswith("text/turtle") and "fwc:QualitativeClaim" in r.text


def test_sparql_caps_rows_and_says_so(client):
    r = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert len(r.json()["results"]["bindings"]) == 5 and r.json()["truncated"] is True
    assert r.headers["x-result-truncated"] == "true"


@pytest.mark.parametrize(
    "request_args",
    [
        {"params": {"query": "INSERT DATA { <http://a> <http://b> <http://c> }"}},
        {"params": {"query": "# SELECT\nPREFIX x: <http://x/#SELECT> DELETE WHERE { ?s ?p ?o }"}},
        {"params": {"query": "CLEAR ALL"}},
        {"method": "POST", "data": {"update": "DROP ALL"}},
        {"method": "POST", "content": "LOAD <http://example.org/x>",
         "headers": {"Content-Type": "application/sparql-update"}},
    ],
)  # fmt: skip
def test_sparql_update_is_refused(client, request_args):
    args = dict(request_args)
    r = client.request(args.pop("method", "GET"), "/sparql", **args)
    assert r.status_code == 400 and r.json()["error"] == "query refused"
    assert (
        client.get("/sparql", params={"query": "ASK { <http://a> ?p ?o }"}).json()["boolean"]
        is False
    )


def test_sparql_bad_requests_are_400_or_415(client):
    r = client.get("/sparql")  # no query: a 400 that says how to give one
    assert r.status_code == 400 and r.json()["error"] == "missing query"
    assert "?query=" in r.json()["detail"] and "application/sparql-query" in r.json()["detail"]
    r = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p "})
    assert r.status_code == 400 and "does not parse" in r.json()["detail"]
    assert client.get("/sparql", params={"query": "ASK {}", "format": "turtle"}).status_code == 400
    r = client.post("/sparql", content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 415


def test_sparql_slow_query_is_cut_off_and_the_endpoint_recovers(client):
    start = time.monotonic()
    r = client.get("/sparql", params={"query": SLOW})
    assert r.status_code == 503 and "longer than 0.5 s" in r.json()["detail"]
    assert time.monotonic() - start < 5
    assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


def test_query_form_reads_past_prologue_and_comments():
    assert query_form("# a comment with INSERT\nPREFIX a: <http://x/#> select * {}") == "SELECT"
    assert query_form("BASE <http://x/> DESCRIBE <y>") == "DESCRIBE"
    for text in ("", "WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "SERVICE"):
        with pytest.raises(QueryRefused):
            query_form(text)


@pytest.mark.parametrize(
    "path", ["/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/static/%2e%2e/../.fwclaims-site",
             "//etc/passwd", "/%2Fetc%2Fpasswd", "/claims/..%2f..%2fetc/passwd", "/nope.html"],
)  # fmt: skip
def test_static_paths_outside_the_site_are_404(client, path):
    r = client.get(path)
    assert r.status_code == 404 and r.json()["error"] == "not found"


def test_static_symlink_out_of_the_site_is_404(served, tmp_path):
    client, site = served
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the web")
    link = site / "static" / "leak.txt"
    link.symlink_to(secret)
    try:
        assert client.get("/static/leak.txt").status_code == 404
        assert site_file(site.resolve(), "static/leak.txt") is None
        assert site_file(site.resolve(), "/etc/passwd") is None
    finally:
        link.unlink()


def test_static_pages_are_served_with_types_and_policy(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/changes.xml").headers["content-type"] == "application/atom+xml"
    assert (
        client.get("/claims/fixture-latency.ttl").headers["content-type"].startswith("text/turtle")
    )


def test_server_writes_nothing(served):
    client, site = served

    def snapshot() -> dict:
        return {p: p.stat().st_mtime_ns for p in Path(site).rglob("*")}

    before = snapshot()
    for args in (("POST", "/index.html"), ("PUT", "/x.html"), ("POST", "/api/claims")):
        assert client.request(*args, content=b"x").status_code in (405, 404)
    client.post("/sparql", data={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"})
    assert snapshot() == before and not os.access(site / "x.html", os.F_OK)


def test_api_claim_lists_its_checks_and_runs_carry_check_qualifier_and_scope(client):
    c = client.get("/api/claims/fixture-latency").json()
    assert [k["check_id"] for k in c["checks"]] == ["main"] and c["combine"] == "all"
    runs = client.get("/api/claims/fixture-latency/runs").json()
    assert {r["check_id"] for r in runs} == {"main"}
    assert all("qualifier" in r and "scope" in r for r in runs)
