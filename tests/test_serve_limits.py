"""The server's caps and request checks, in process: Accept headers, body size, admission, the
workers' memory cap, how a missing query is answered, and that nothing loads from the network."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from site_project import make_project

from kg.load import load_corpus
from verify.publish.build import publish
from verify.serve.app import create_app
from verify.serve.errors import EndpointBusy, MalformedHeader, NotAcceptable
from verify.serve.limits import Admission, Limits
from verify.serve.query import parse_accept, pick_format

ROWS = "SELECT ?s WHERE { ?s a fwc:PerformanceClaim }"
# Sorting a cross join materialises every row: unbounded, this reached 1.5 GB in 3.7 s.
HUNGRY = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY RAND() LIMIT 1"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("limits") / "project")
    corpus = load_corpus(project, use_cache=False)
    site = publish(corpus, project / "_site").out
    limits = Limits(query_timeout=20, workers=1, queue=1, query_memory_mib=128, max_body=4096)
    app = create_app(site, corpus, limits, scratch=tmp_path_factory.mktemp("scratch"))
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize(
    "accept",
    ["text/csv;q=1.2.3", "text/csv;q=2", "text/csv;q=0.1234", "text/csv;q", "text/csv;q=",
     "csv", "/csv", "text/", "text/csv;=1", 'text/csv;x="unterminated'],
)  # fmt: skip
def test_sparql_malformed_accept_is_400(client, accept):
    r = client.get("/sparql", params={"query": ROWS}, headers={"Accept": accept})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad request" and "Accept" in r.json()["detail"]


def test_sparql_accept_of_nothing_offered_is_406(client):
    r = client.get("/sparql", params={"query": ROWS}, headers={"Accept": "image/png, text/html"})
    assert r.status_code == 406 and "text/csv" in r.json()["detail"]
    r = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s a fwc:Run }"},
                   headers={"Accept": "text/csv"})  # fmt: skip
    assert r.status_code == 406 and "text/turtle" in r.json()["detail"]


def test_sparql_accept_picks_the_most_specific_and_heaviest(client):
    def media(accept: str) -> str:
        r = client.get("/sparql", params={"query": ROWS}, headers={"Accept": accept})
        assert r.status_code == 200, r.text
        return r.headers["content-type"].split(";")[0]

    assert media("text/*") == "text/csv"
    assert media("text/csv;q=0.5, application/json") == "application/sparql-results+json"
    assert media("*/*;q=0.8, text/csv;q=0") == "application/sparql-results+json"
    assert media('text/csv;charset="utf-8";, application/json;q=0.1') == "text/csv"


def test_parse_accept_reads_ranges_and_weights():
    assert parse_accept("text/csv;q=0.5, , */*;q=0 ,application/ld+json") == [
        ("text/csv", 0.5), ("*/*", 0.0), ("application/ld+json", 1.0)
    ]  # fmt: skip
    assert parse_accept("") == []
    with pytest.raises(MalformedHeader):
        parse_accept("text/csv;q=1.001")


def test_pick_format_refuses_when_everything_is_weighted_zero():
    with pytest.raises(NotAcceptable):
        pick_format("SELECT", None, "*/*;q=0")
    assert pick_format("ASK", None, None) == "json"


def test_sparql_body_over_the_cap_is_413(client):
    r = client.post(
        "/sparql", content=b"#" * 5000, headers={"Content-Type": "application/sparql-query"}
    )
    assert r.status_code == 413 and r.json()["error"] == "body too large"
    assert r.headers["connection"] == "close"


def test_sparql_chunked_body_over_the_cap_is_413(client):
    def chunks():
        for _ in range(100):  # 100 KiB offered, the cap is 4 KiB
            yield b"#" * 1024

    r = client.post(
        "/sparql", content=chunks(), headers={"Content-Type": "application/sparql-query"}
    )
    assert r.status_code == 413 and "4096 bytes" in r.json()["detail"]


def test_sparql_body_under_the_cap_is_read(client):
    r = client.post("/sparql", content=ROWS, headers={"Content-Type": "application/sparql-query"},
                    params={"format": "csv"})  # fmt: skip
    assert (
        r.status_code == 200
        and r.text == "s\r\nhttps://w3id.org/fwclaims/claim/fixture-latency\r\n"
    )


def test_sparql_worker_memory_cap_answers_503_and_the_endpoint_recovers(client):
    start = time.monotonic()
    r = client.get("/sparql", params={"query": HUNGRY})
    assert r.status_code == 503, r.text
    assert "needed more than 128 MiB" in r.json()["detail"]
    assert time.monotonic() - start < 20  # stopped by memory, well before the time limit
    assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


@pytest.mark.parametrize("where", ["the URL", "a form"])
def test_sparql_without_a_query_says_how_to_give_one(client, where):
    if where == "the URL":
        r = client.get("/sparql", params={"format": "csv"})
    else:
        r = client.post("/sparql", data={"format": "csv"})
    assert r.status_code == 400 and r.json()["error"] == "missing query"
    assert "?query=" in r.json()["detail"]


def test_sparql_deeply_nested_query_is_refused_with_a_reason(client):
    query = "SELECT * WHERE { FILTER(" + "(" * 3000 + "1" + ")" * 3000 + ") }"
    r = client.get("/sparql", params={"query": query})
    assert r.status_code == 400 and "nested too deeply" in r.json()["detail"]
    assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200


def test_server_offers_no_page_that_loads_scripts_from_the_network(client):
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"] == "fwclaims"


@pytest.mark.serial  # a refusal within 0.1 s: a loaded machine can stall the thread longer
def test_admission_refuses_at_once_when_every_slot_is_taken():
    gate = Admission(2)
    with gate.slot(), gate.slot():
        start = time.monotonic()
        with pytest.raises(EndpointBusy, match="2 SPARQL queries"):
            with gate.slot():
                pass
        assert time.monotonic() - start < 0.1
    with gate.slot():  # freed again
        pass
