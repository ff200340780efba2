"""Scale benchmarks: a synthetic corpus of 10,000 claims and 50,000 run records (tests/synth.py),
loaded, validated, queried the way the site queries it, and published, in the embedded store and
on a real Oxigraph server (`oxigraph serve` on loopback).

The benchmarks are skipped by the default `--benchmark-skip` in pyproject.toml; run them with

    .venv/bin/pytest tests/benchmarks --benchmark-only      (or `make bench`)

and add `--benchmark-timer time.process_time` to measure CPU time on a busy machine.
FWCLAIMS_SCALE_CLAIMS and FWCLAIMS_SCALE_RECORDS change the size. The heavy steps run one round
each. The plain tests at the bottom always run.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest
from oxigraph_server import oxigraph_server
from synth import environments, synthetic_record, write_corpus

from kg import api, paths
from kg.export import to_server
from kg.load import load_corpus
from kg.records import dumps, read_record, record_files
from verify.publish.build import publish

# the suite's 600 s per-test limit is for tests; at full size a benchmark's untimed set-up alone
# (a cold load and a first full publish of 50,000 records) can take longer
pytestmark = pytest.mark.timeout(3600)

CLAIMS = int(os.environ.get("FWCLAIMS_SCALE_CLAIMS", "10000"))
RECORDS = int(os.environ.get("FWCLAIMS_SCALE_RECORDS", "50000"))


@pytest.fixture(scope="session")
def scale_root(tmp_path_factory) -> Path:
    """The synthetic project folder, written once per session."""
    return write_corpus(tmp_path_factory.mktemp("scale"), claims=CLAIMS, records=RECORDS)


@pytest.fixture(scope="session")
def scale_server(scale_corpus):
    """A real Oxigraph server holding the synthetic graph."""
    with oxigraph_server() as url:
        to_server(scale_corpus, url)
        yield url


def site_queries(corpus) -> int:
    """What the site asks of the read API, from a cold memo: claims, runs, cells, the rest."""
    corpus.memo.clear()
    n = len(api.claims(corpus)) + len(api.runs(corpus)) + len(api.all_measurements(corpus))
    n += len(api.environments(corpus)) + len(api.latest_runs(corpus)) + len(api.evidence(corpus))
    return n + len(api.all_citation_chains(corpus)) + len(api.sources(corpus))


@pytest.fixture(scope="session")
def scale_corpus(scale_root):
    """The synthetic corpus, validated once and cached."""
    return load_corpus(scale_root)


def test_cold_load_and_validate(benchmark, scale_root):
    corpus = benchmark.pedantic(
        load_corpus, args=(scale_root,), kwargs={"use_cache": False}, rounds=1, iterations=1
    )
    benchmark.extra_info.update(claims=CLAIMS, records=RECORDS, triples=len(corpus.store))
    assert not corpus.from_cache and len(corpus.records) == RECORDS


def test_warm_load_from_cache(benchmark, scale_root, scale_corpus):
    corpus = benchmark.pedantic(load_corpus, args=(scale_root,), rounds=1, iterations=1)
    benchmark.extra_info.update(claims=CLAIMS, records=RECORDS, triples=len(corpus.store))
    assert corpus.from_cache and len(corpus.store) == len(scale_corpus.store)


def test_site_queries_embedded(benchmark, scale_corpus):
    n = benchmark.pedantic(site_queries, args=(scale_corpus,), rounds=1, iterations=1)
    assert n > CLAIMS + RECORDS


def test_publish_full_embedded(benchmark, scale_corpus, tmp_path_factory):
    """The first publish: nothing in the document or measurement caches yet."""
    out = tmp_path_factory.mktemp("site") / "site"
    result = benchmark.pedantic(
        publish, args=(scale_corpus, out), kwargs={"full": True}, rounds=1, iterations=1
    )
    benchmark.extra_info.update(pages=result.pages, files=result.files)
    assert result.claims == CLAIMS and result.canonicalised == CLAIMS


def test_publish_full_with_warm_caches(benchmark, scale_corpus, tmp_path_factory):
    """Every page rendered again, the documents and measurement rows from the caches that the
    first publish filled."""
    out = tmp_path_factory.mktemp("site-warm") / "site"
    publish(scale_corpus, out, full=True)  # fills the caches if test_publish_full_embedded did not
    result = benchmark.pedantic(
        publish, args=(scale_corpus, out), kwargs={"full": True}, rounds=1, iterations=1
    )
    assert result.claims == CLAIMS and result.canonicalised == 0


def _linked_copy(scale_root: Path, tmp_path_factory, name: str) -> Path:
    root = tmp_path_factory.mktemp(name) / "p"
    shutil.copytree(scale_root / "claims", root / "claims")
    shutil.copytree(scale_root / "data", root / "data", copy_function=os.link)  # no bytes copied
    return root


def _new_record(root: Path) -> None:
    """A new run on the machine that measured last (record names start with the run's time), so
    "this machine" stays the same: a run from another machine would rebuild every claim page."""
    newest = read_record(max(record_files(paths.results_dir(root)), key=lambda f: f.name))
    env_id, env = next((e, v) for e, v in environments() if e == newest["environment_id"])
    rec = synthetic_record(newest["check"], env_id, env, RECORDS + 1, random.Random(1))
    (paths.results_dir(root) / env_id / f"{rec['record_id']}.json").write_text(dumps(rec))


def test_load_after_one_new_record(benchmark, scale_root, tmp_path_factory):
    """The cached corpus with one record added since: the record is read, nothing else."""
    root = _linked_copy(scale_root, tmp_path_factory, "load-incr")
    load_corpus(root)

    def setup():
        _new_record(root)
        return (root,), {}

    corpus = benchmark.pedantic(load_corpus, setup=setup, rounds=1, iterations=1)
    assert corpus.from_cache and len(corpus.records) == RECORDS + 1


def test_load_after_a_claim_file_edit(benchmark, scale_root, tmp_path_factory):
    """The cached corpus after one claim file changed: the claim files are parsed and validated
    again, the records' graphs kept from the cache (no record is read)."""
    root = _linked_copy(scale_root, tmp_path_factory, "load-edit")
    load_corpus(root)

    def setup():
        edited = root / "claims" / "synthetic-000.ttl"
        edited.write_text(edited.read_text().replace("in setting 0.", "in setting zero.", 1))
        return (root,), {}

    corpus = benchmark.pedantic(load_corpus, setup=setup, rounds=1, iterations=1)
    assert not corpus.from_cache and len(corpus.records) == RECORDS
    assert any(c.text.endswith("in setting zero.") for c in api.claims(corpus).values())


def test_publish_incremental_after_one_new_record(benchmark, scale_root, tmp_path_factory):
    """A full publish, one new record, then the timed incremental publish (the corpus is loaded
    before the clock starts; test_load_after_one_new_record times that), checked against --full."""
    root = _linked_copy(scale_root, tmp_path_factory, "incr")
    out = root / "site"
    publish(load_corpus(root), out)

    def setup():
        _new_record(root)
        return (load_corpus(root), out), {}

    result = benchmark.pedantic(publish, setup=setup, rounds=1, iterations=1)
    benchmark.extra_info.update(reused=result.reused, claims=result.claims)
    assert result.reused == CLAIMS - 1


def test_server_load(benchmark, scale_corpus):
    with oxigraph_server() as url:
        quads = benchmark.pedantic(to_server, args=(scale_corpus, url), rounds=1, iterations=1)
    assert quads == len(scale_corpus.store)


def test_site_queries_on_server(benchmark, scale_root, scale_server):
    corpus = load_corpus(scale_root, store=scale_server)
    n = benchmark.pedantic(site_queries, args=(corpus,), rounds=1, iterations=1)
    assert n > CLAIMS + RECORDS


def test_publish_full_from_server(benchmark, scale_root, scale_server, tmp_path_factory):
    corpus = load_corpus(scale_root, store=scale_server)
    out = tmp_path_factory.mktemp("site-server") / "site"
    result = benchmark.pedantic(publish, args=(corpus, out), kwargs={"full": True, "cache": False},
                                rounds=1, iterations=1)  # fmt: skip
    assert result.claims == CLAIMS


def test_list_claims(benchmark, scale_corpus):
    rows = benchmark(api.list_claims, scale_corpus)
    assert len(rows) == CLAIMS


def test_list_claims_of_one_category(benchmark, scale_corpus):
    rows = benchmark(api.list_claims, scale_corpus, category="memory")
    assert rows and all(r.category == "memory" for r in rows)


def test_claim_lookup(benchmark, scale_corpus):
    claim_id = api.claim_ids(scale_corpus)[CLAIMS // 2]
    row = benchmark(api.claim, scale_corpus, claim_id)
    assert row.id == claim_id and row.appearances


def test_count_query(benchmark, scale_corpus):
    query = "SELECT (COUNT(?c) AS ?n) WHERE { ?c a fwc:PerformanceClaim ; fwc:checkedBy ?k }"
    rows = benchmark(scale_corpus.query, query)
    assert 0 < rows[0]["n"] < CLAIMS


# ------------------------------------------------------------------ always run, not benchmarks


def test_synth_small_corpus_passes_validation(tmp_path):
    write_corpus(tmp_path, claims=50, files=3, seed=1)
    corpus = load_corpus(tmp_path, use_cache=False)
    claims = api.list_claims(corpus)
    assert len(claims) == 50
    assert {r.kind for r in claims} == {"performance", "capability", "adoption", "qualitative"}
    assert any(r.checkable for r in claims) and not all(r.checkable for r in claims)
    assert api.contradiction_pairs(corpus)


def test_synth_is_deterministic_per_seed(tmp_path):
    texts = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        write_corpus(tmp_path / name, claims=20, files=2, seed=seed)
        texts.append((tmp_path / name / "claims" / "synthetic-001.ttl").read_text())
    assert texts[0] == texts[1] != texts[2]


def test_synth_run_records_are_valid_and_filed_by_environment(tmp_path):
    write_corpus(tmp_path, claims=40, files=2, seed=2, records=90)
    files = record_files(paths.results_dir(tmp_path))
    assert len(files) == 90
    for f in files:
        rec = read_record(f)  # schema, record_id == stem, folder == environment_id
        assert rec["record_id"] == f.stem and rec["environment_id"] == f.parent.name
    corpus = load_corpus(tmp_path, use_cache=False, record_policy="strict")
    runs = api.runs(corpus)
    assert len(runs) == 90 and len({r.environment for r in runs}) > 1
    assert any(api.measurements(corpus, r.run) for r in runs)
