"""The graph as a schema.org reader queries it: every claim is a schema:Claim, the site's example
queries all run and return rows, and /sparql without a query says how to ask one."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kg import api
from kg.load import load_corpus
from verify.publish.build import publish
from verify.publish.examples import EXAMPLES
from verify.serve.app import create_app
from verify.serve.limits import Limits

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(REPO, use_cache=False)


@pytest.fixture(scope="module")
def client(corpus, tmp_path_factory):
    site = publish(corpus, tmp_path_factory.mktemp("sparql") / "_site").out
    with TestClient(create_app(site, corpus, Limits(workers=1, max_rows=1000))) as c:
        yield c, site


def test_every_claim_is_found_as_a_schema_claim(corpus):
    found = {r["id"] for r in corpus.query(
        "SELECT ?id WHERE { ?c a schema:Claim ; schema:identifier ?id }")}  # fmt: skip
    assert found == set(api.claims(corpus)) and len(found) >= 40


def test_schema_claim_count_through_the_endpoint(client, corpus):
    c, _ = client
    r = c.get("/sparql", params={"query": "SELECT (COUNT(?c) AS ?n) WHERE { ?c a schema:Claim }"})
    assert r.status_code == 200
    assert int(r.json()["results"]["bindings"][0]["n"]["value"]) == len(api.claims(corpus))


@pytest.mark.parametrize("example", EXAMPLES, ids=[x.id for x in EXAMPLES])
def test_example_query_runs_and_returns_rows(client, example):
    c, site = client
    r = c.get("/sparql", params={"query": example.query})
    assert r.status_code == 200, r.text
    assert len(r.json()["results"]["bindings"]) >= 1
    assert example.title in (site / "queries.html").read_text()


def test_sparql_without_a_query_is_a_helpful_400(client):
    c, _ = client
    for r in (c.get("/sparql"), c.get("/sparql?query=%20"),
              c.post("/sparql", data={"format": "json"})):  # fmt: skip
        assert r.status_code == 400
        body = r.json()
        assert body["error"] == "missing query" and "?query=" in body["detail"]
        assert "application/sparql-query" in body["detail"]
