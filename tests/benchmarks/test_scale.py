"""Scale benchmarks: a synthetic corpus of 10,000 claims (tests/synth.py), loaded, validated and queried.

Targets (issue): a load within 3 s, each query within 100 ms. The benchmarks are skipped by the
default `--benchmark-skip` in pyproject.toml; run them with

    .venv/bin/pytest tests/benchmarks --benchmark-only      (or `make bench`)

and add `--benchmark-timer time.process_time` to measure CPU time on a busy machine.
FWCLAIMS_SCALE_CLAIMS changes the size. The plain tests at the bottom always run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from synth import write_corpus

from kg import api
from kg.load import load_corpus

CLAIMS = int(os.environ.get("FWCLAIMS_SCALE_CLAIMS", "10000"))


@pytest.fixture(scope="session")
def scale_root(tmp_path_factory) -> Path:
    """The synthetic project folder, written once per session."""
    return write_corpus(tmp_path_factory.mktemp("scale"), claims=CLAIMS)


@pytest.fixture(scope="session")
def scale_corpus(scale_root):
    """The synthetic corpus, validated once and cached."""
    return load_corpus(scale_root)


def test_cold_load_and_validate(benchmark, scale_root):
    corpus = benchmark.pedantic(
        load_corpus, args=(scale_root,), kwargs={"use_cache": False}, rounds=3, iterations=1
    )
    benchmark.extra_info.update(claims=CLAIMS, triples=len(corpus.store))
    assert not corpus.from_cache


def test_warm_load_from_cache(benchmark, scale_root, scale_corpus):
    corpus = benchmark.pedantic(load_corpus, args=(scale_root,), rounds=3, iterations=1)
    benchmark.extra_info.update(claims=CLAIMS, triples=len(corpus.store))
    assert corpus.from_cache and len(corpus.store) == len(scale_corpus.store)


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


def test_synth_run_records_are_not_generated_yet(tmp_path):
    with pytest.raises(NotImplementedError, match="run record"):
        write_corpus(tmp_path, claims=10, records=5)
