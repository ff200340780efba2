"""The graph on a real SPARQL server (`oxigraph serve` on loopback): `verify export --to URL`
loads it, FWCLAIMS_STORE=URL (or --store URL) makes the reading commands query it, and the site
published from it is the same, byte for byte, as the one published from the embedded store."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from oxigraph_server import oxigraph_server
from site_project import make_project

from kg import api
from kg.errors import StoreError
from kg.export import to_server
from kg.load import load_corpus
from kg.sparqlstore import SparqlStore
from verify.publish.build import publish


@pytest.fixture(scope="module")
def server():
    with oxigraph_server() as url:
        yield url


@pytest.fixture(scope="module")
def site_root(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("remote"))


def verify(root: Path, *args: str, store: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FWCLAIMS_STORE"}
    if store is not None:
        env["FWCLAIMS_STORE"] = store
    return subprocess.run([sys.executable, "-m", "verify", "--root", str(root), *args],
                          capture_output=True, text=True, timeout=120, env=env)  # fmt: skip


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def test_export_to_server_then_reading_commands_query_it(server, site_root):
    loaded = verify(site_root, "export", "--to", server)
    assert loaded.returncode == 0, loaded.stderr
    assert "quads into" in loaded.stderr
    here = verify(site_root, "list", "--json")
    there = verify(site_root, "list", "--json", store=server)
    assert there.returncode == 0, there.stderr
    assert json.loads(there.stdout) == json.loads(here.stdout)
    shown = verify(site_root, "--store", server, "show", "fixture-latency", "--json")
    assert json.loads(shown.stdout)["id"] == "fixture-latency"


def test_server_holds_the_same_quads_as_the_embedded_store(server, site_root):
    corpus = load_corpus(site_root, store="")
    assert to_server(corpus, server) == len(corpus.store)
    remote = SparqlStore(server)
    assert len(remote) == len(corpus.store)
    to_server(corpus, server)  # a second load replaces, it does not add
    assert len(remote) == len(corpus.store)


def test_read_api_rows_from_server_equal_embedded_rows(server, site_root):
    here = load_corpus(site_root, store="")
    to_server(here, server)
    there = load_corpus(site_root, store=server)
    assert isinstance(there.store, SparqlStore)
    assert api.claims(there) == api.claims(here)
    assert api.runs(there) == api.runs(here)
    assert api.all_measurements(there) == api.all_measurements(here)
    assert api.environments(there) == api.environments(here)
    assert api.evidence(there) == api.evidence(here)


def test_publish_from_server_is_byte_identical_to_embedded(server, site_root, tmp_path):
    here = load_corpus(site_root, store="")
    to_server(here, server)
    publish(here, tmp_path / "embedded")
    publish(load_corpus(site_root, store=server), tmp_path / "server")
    a, b = _tree(tmp_path / "embedded"), _tree(tmp_path / "server")
    assert sorted(a) == sorted(b) and len(a) > 20
    assert [name for name in a if a[name] != b[name]] == []
    assert not filecmp.dircmp(tmp_path / "embedded", tmp_path / "server").diff_files


def test_unreachable_store_is_one_line_and_exit_2(site_root):
    done = verify(site_root, "list", store="http://127.0.0.1:9")
    assert done.returncode == 2
    assert done.stderr.startswith("error: cannot reach the SPARQL store at http://127.0.0.1:9")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_store_that_is_not_a_url_is_refused(site_root):
    done = verify(site_root, "list", store="localhost:7878")
    assert done.returncode == 2 and "not an http(s) URL" in done.stderr


def test_server_error_names_the_request(server):
    with pytest.raises(StoreError, match="answered 400"):
        SparqlStore(server).query("SELECT nonsense")


def test_check_validates_the_files_even_with_a_store(server, site_root):
    done = verify(site_root, "check", "--json", store=server)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["records"] == 4  # three run records, one exploration record
