"""`verify serve` under hostile or heavy use, against a real uvicorn server in a subprocess: no
federated query reaches another port, a huge body is cut off without being read, slow SPARQL
leaves the JSON API fast, and a killed server's store copy is removed by the next one."""

from __future__ import annotations

import http.client
import select
import socket
import statistics
import threading
import time
import urllib.parse
from collections import Counter

import httpx
import psutil
import pytest
from serve_process import Listener, Server
from site_project import make_project

from kg.load import load_corpus
from verify.publish.build import publish

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i FILTER(?c != ?i) }"
WORKERS, QUEUE = 2, 4  # the server's defaults
FEDERATED = {
    "plain": "SELECT * WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "lowercase": "select * where { service <{url}> { ?s ?p ?o } }",
    "silent": "SELECT * WHERE { SERVICE SILENT <{url}> { ?s ?p ?o } }",
    "https": "SELECT * WHERE { SERVICE <{https}> { ?s ?p ?o } }",
    "optional": "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE <{url}> { ?s ?p ?x } } }",
    "optional-silent-https": "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE SILENT <{https}> { ?s ?p ?x } } }",
    "ask": "ASK { SERVICE <{url}> { ?s ?p ?o } }",
    "construct": "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "construct-silent": "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE SILENT <{url}> { ?s ?p ?o } }",
    "describe": "DESCRIBE ?s WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "subquery": "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <{url}> { ?s ?p ?o } } } }",
    "union": "SELECT * WHERE { { ?s ?p ?o } UNION { SERVICE <{url}> { ?s ?p ?o } } }",
    "minus": "SELECT * WHERE { ?s ?p ?o MINUS { SERVICE <{url}> { ?s ?p ?o } } }",
    "filter-exists": "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <{url}> { ?s ?p ?o } } }",
    "filter-not-exists": "ASK { ?s ?p ?o FILTER NOT EXISTS { SERVICE <{url}> { ?s ?p ?o } } }",
    "bind-exists": "SELECT * WHERE { BIND(EXISTS { SERVICE <{url}> { ?s ?p ?o } } AS ?b) }",
    "graph": "SELECT * WHERE { GRAPH ?g { SERVICE <{url}> { ?s ?p ?o } } }",
    "variable": "SELECT * WHERE { VALUES ?u { <{url}> } SERVICE ?u { ?s ?p ?o } }",
    "prefixed-name": "PREFIX far: <{base}> SELECT * WHERE { SERVICE far:sparql { ?s ?p ?o } }",
}
# Oxigraph parses RDF 1.2 triple terms, rdflib does not: such a query cannot be checked.
UNCHECKABLE = "SELECT * WHERE { SERVICE <{url}> { ?s ?p <<( ?a ?b ?c )>> } }"


@pytest.fixture(scope="module")
def project_site(tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("hardening") / "project")
    site = publish(load_corpus(project, use_cache=False), project / "_site").out
    return project, site


@pytest.fixture(scope="module")
def server(project_site, tmp_path_factory):
    project, site = project_site
    srv = Server(project, site, tmp_path_factory.mktemp("server-tmp"), "--query-timeout", "2")
    yield srv
    srv.stop()


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


def _federated(template: str, port: int) -> str:
    """The query with the listener's address in place of {url}, {https} and {base}."""
    base = f"127.0.0.1:{port}/"
    for name, value in (("{url}", f"http://{base}sparql"), ("{https}", f"https://{base}sparql"),
                        ("{base}", f"http://{base}")):  # fmt: skip
        template = template.replace(name, value)
    return template


@pytest.mark.parametrize("template", FEDERATED.values(), ids=FEDERATED.keys())
def test_sparql_federated_query_is_refused_and_sends_nothing(server, listener, template):
    query = _federated(template, listener.port)
    r = httpx.get(server.url + "/sparql", params={"query": query}, timeout=30)
    assert r.status_code == 400, r.text[:300]
    assert r.json()["error"] == "query refused" and "federated" in r.json()["detail"]
    assert listener.received == []


def test_sparql_query_rdflib_cannot_parse_is_refused_not_run(server, listener):
    r = httpx.get(server.url + "/sparql", params={"query": _federated(UNCHECKABLE, listener.port)},
                  timeout=30)  # fmt: skip
    assert r.status_code == 400, r.text[:300]
    assert "does not parse as SPARQL 1.1, so it cannot be checked" in r.json()["detail"]
    assert listener.received == []


@pytest.mark.parametrize(
    "body,ctype",
    [("SELECT * WHERE { SERVICE <{url}> { ?s ?p ?o } }", "application/sparql-query"),
     ("query=ASK+%7B+SERVICE+%3C{url}%3E+%7B+%3Fs+%3Fp+%3Fo+%7D+%7D",
      "application/x-www-form-urlencoded")],
)  # fmt: skip
def test_sparql_federated_query_in_a_post_body_is_refused(server, listener, body, ctype):
    content = _federated(body, listener.port)
    r = httpx.post(server.url + "/sparql", content=content, headers={"Content-Type": ctype},
                   timeout=30)  # fmt: skip
    assert r.status_code == 400, r.text[:300]
    assert "federated" in r.json()["detail"]
    assert listener.received == []


def _post_stream(port: int, total: int, *, chunked: bool) -> tuple[int, int]:
    """Offer a `total`-byte body to POST /sparql, sending until the server answers or closes;
    returns (status, bytes the server took)."""
    head = "POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {total}\r\n\r\n"
    piece = 64 << 10
    chunk = (b"%x\r\n" % piece + b"#" * piece + b"\r\n") if chunked else b"#" * piece
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode())
        while sent < total:
            readable, _, _ = select.select([s], [s], [], 10)
            if readable:
                break  # the server has answered
            try:
                sent += s.send(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        status = s.recv(64).split(b" ")[1]
    return int(status), sent


def test_big_post_is_answered_413_without_growing_the_server(server):
    proc = psutil.Process(server.proc.pid)
    httpx.post(server.url + "/sparql", content="ASK {}", timeout=30,
               headers={"Content-Type": "application/sparql-query"})  # fmt: skip
    before = proc.memory_info().rss
    declared = _post_stream(server.port, 200 << 20, chunked=False)
    streamed = _post_stream(server.port, 200 << 20, chunked=True)
    growth = proc.memory_info().rss - before
    assert declared[0] == 413 and streamed[0] == 413
    assert declared[1] < 16 << 20 and streamed[1] < 16 << 20  # it stopped reading early
    assert growth < 8 << 20, f"the server grew by {growth / 2**20:.1f} MiB"


def _median_get(url: str, n: int = 10) -> float:
    times = []
    with httpx.Client(timeout=30) as client:
        for _ in range(n):
            start = time.perf_counter()
            assert client.get(url).status_code == 200
            times.append(time.perf_counter() - start)
    return statistics.median(times)


@pytest.mark.serial  # compares latencies under load: other tests would add to it
def test_json_api_stays_fast_while_sparql_is_saturated(server):
    claims = server.url + "/api/claims"
    _median_get(claims, 3)  # warm
    unloaded = _median_get(claims)
    answers: list[tuple[int, float]] = []
    path = "/sparql?" + urllib.parse.urlencode({"query": SLOW})

    def slow() -> None:
        # http.client rather than httpx: 50 httpx clients set up TLS contexts for a second.
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        answers.append((status, time.perf_counter() - start))

    threads = [threading.Thread(target=slow) for _ in range(50)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(answers) < 50 - WORKERS - QUEUE and time.monotonic() < deadline:
        time.sleep(0.05)  # until the turned-away ones are back: the rest are running or queued
    loaded = _median_get(claims)
    still_running = sum(t.is_alive() for t in threads)
    for t in threads:
        t.join(timeout=60)
    assert still_running >= WORKERS, "the load was gone before the JSON API was measured"
    assert loaded < 20 * unloaded + 0.1, f"{loaded * 1e3:.1f} ms loaded, {unloaded * 1e3:.1f} idle"
    assert Counter(code for code, _ in answers) == {503: 50}  # SLOW runs past the time limit
    turned_away = sorted(seconds for _, seconds in answers)[: 50 - WORKERS - QUEUE]
    assert max(turned_away) < 1, "requests beyond the queue waited instead of being refused"


def _get_quietly(url: str, params: dict) -> None:
    try:
        httpx.get(url, params=params, timeout=10)
    except httpx.HTTPError:
        pass  # the server was killed under it: that is the point


def test_store_copy_of_a_killed_server_is_removed_by_the_next(project_site, tmp_path):
    project, site = project_site
    tmp = tmp_path / "tmp"
    first = Server(project, site, tmp, "--query-timeout", "120")
    copies = list(tmp.glob(f"fwclaims-sparql-{first.proc.pid}-*"))
    workers = psutil.Process(first.proc.pid).children()
    busy = threading.Thread(target=_get_quietly, args=(first.url + "/sparql", {"query": SLOW}))
    busy.start()
    time.sleep(1)  # the worker is in the middle of SLOW, which runs for minutes
    first.kill()
    busy.join(timeout=10)
    assert len(copies) == 1 and copies[0].is_dir() and workers
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == [], "a SPARQL worker outlived its server"
    second = Server(project, site, tmp)
    try:
        assert not copies[0].exists()
        assert len(list(tmp.glob(f"fwclaims-sparql-{second.proc.pid}-*"))) == 1
    finally:
        second.stop()
    assert list(tmp.glob("fwclaims-sparql-*")) == []
