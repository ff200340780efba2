"""The read API's bulk rows kept between loads (kg.rowcache): restored after new run records they
are the rows the queries over every record give, only the new records are queried, and anything
the kept rows cannot be told apart by makes it give up."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import random
from pathlib import Path

import pytest
from synth import environments, synthetic_record, write_corpus

from kg import api, paths, rowcache
from kg.load import load_corpus
from kg.records import dumps, record_files
from kg.store import Corpus

ROWS = (api.runs, api.all_measurements, api.environments, api.environment_names, api.claims,
        api.evidence, api.sources, api.all_citation_chains, api.citation_edges, api.claim_ids,
        api.latest_runs, api.claim_verdicts)  # fmt: skip


def _rows(corpus: Corpus) -> list[object]:
    return [f(corpus) for f in ROWS]


def _record(root: Path, claim_id: str, env: int, n: int) -> Path:
    """A new record of the claim's check from synthetic machine `env`, the `n`-th of a series."""
    check = api.claim_checks(load_corpus(root, use_cache=False), claim_id)[0]
    env_id, environment = environments()[env]
    rec = synthetic_record(check.to_dict(), env_id, environment, n, random.Random(n))
    path = paths.results_dir(root) / env_id / f"{rec['record_id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(rec))
    return path


@pytest.fixture
def synthetic(tmp_path) -> Path:
    root = write_corpus(tmp_path / "project", claims=40, files=2, seed=11, records=30)
    corpus = load_corpus(root)
    _rows(corpus)
    rowcache.save(corpus)
    return root


def test_rowcache_after_new_records_restores_the_rows_of_the_full_queries(synthetic):
    ids = api.checkable_claim_ids(load_corpus(synthetic))
    _record(synthetic, ids[1], 0, 5_000)  # a known environment, the newest run
    _record(synthetic, ids[2], 1, 7)  # a new environment (other versions), an older run
    _record(synthetic, ids[2], 3, 9)  # another one, with a GPU
    corpus = load_corpus(synthetic)
    assert rowcache.restore(corpus) == rowcache.Restored(new_records=3)
    assert _rows(corpus) == _rows(load_corpus(synthetic, use_cache=False))


def test_rowcache_after_a_new_record_queries_only_that_record(synthetic, monkeypatch):
    _record(synthetic, api.checkable_claim_ids(load_corpus(synthetic))[4], 0, 6_000)
    corpus = load_corpus(synthetic)
    asked: list[str] = []
    query = Corpus.query
    monkeypatch.setattr(
        Corpus, "query", lambda self, q, **kw: asked.append(q) or query(self, q, **kw)
    )
    assert rowcache.restore(corpus) is not None
    rows = _rows(corpus)
    scoped = ("GRAPH <", "VALUES ?run {", "VALUES ?t { fwc:Benchmark fwc:Probe fwc:DataCheck }")
    assert asked and [q for q in asked if not any(s in q for s in scoped)] == []
    assert len(rows[0]) == 31


def test_rowcache_with_no_new_record_restores_without_a_query(synthetic, monkeypatch):
    corpus = load_corpus(synthetic)
    monkeypatch.setattr(Corpus, "query", lambda self, q, **kw: pytest.fail(f"queried: {q}"))
    assert rowcache.restore(corpus) == rowcache.Restored(new_records=0)
    assert len(api.runs(corpus)) == 30


def test_rowcache_gives_up_when_a_kept_record_is_removed(synthetic):
    record_files(paths.results_dir(synthetic))[3].unlink()
    corpus = load_corpus(synthetic)
    assert rowcache.restore(corpus) is None and "runs" not in corpus.memo
    assert len(api.runs(corpus)) == 29


def test_rowcache_gives_up_when_a_kept_record_is_rewritten(synthetic):
    path = record_files(paths.results_dir(synthetic))[0]
    rec = json.loads(path.read_text())
    rec["verdict"]["explanation"] = "Rewritten."
    path.write_text(dumps(rec))
    assert rowcache.restore(load_corpus(synthetic)) is None


def _restated_elsewhere_gives_up(synthetic, path, rec, env_id, env) -> None:
    """Write `rec` again under another environment (the same run id, elsewhere): the row cache
    must then fall back to the full queries."""
    rec.update(environment_id=env_id, environment=env)
    twin = paths.results_dir(synthetic) / env_id / path.name
    twin.parent.mkdir(parents=True, exist_ok=True)
    twin.write_text(dumps(rec))
    corpus = load_corpus(synthetic)
    assert rowcache.restore(corpus) is None
    assert not {"runs", "environment_triples", "environment_run_counts"} & set(corpus.memo)


def test_rowcache_gives_up_when_a_new_record_restates_a_kept_run(synthetic):
    path = record_files(paths.results_dir(synthetic))[0]
    rec = json.loads(path.read_text())
    env_id, env = next(e for e in environments() if e[0] != rec["environment_id"])
    _restated_elsewhere_gives_up(synthetic, path, rec, env_id, env)


def test_rowcache_gives_up_after_a_claim_file_changes(synthetic):
    path = synthetic / "claims" / "synthetic-000.ttl"
    path.write_text(path.read_text().replace("in setting 0.", "in setting zero."))
    assert rowcache.restore(load_corpus(synthetic)) is None


def test_rowcache_refuses_a_file_that_builds_other_classes(synthetic):
    corpus = load_corpus(synthetic)
    kept = {"records": dict(corpus.record_stats),
            "rows": {name: Path("elsewhere") for name in {*rowcache.CLAIM_ROWS, *rowcache.RECORD_ROWS}}}  # fmt: skip
    body = pickle.dumps(kept, protocol=5)
    head = f"fwclaims-rows {rowcache.key(corpus)} {hashlib.sha256(body).hexdigest()}\n"
    (paths.cache_dir(synthetic) / rowcache.FILE).write_bytes(head.encode() + body)
    assert rowcache.restore(corpus) is None


def test_rowcache_reads_a_damaged_file_as_missing(synthetic):
    path = paths.cache_dir(synthetic) / rowcache.FILE
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    corpus = load_corpus(synthetic)
    assert rowcache.restore(corpus) is None
    assert _rows(corpus) == _rows(load_corpus(synthetic, use_cache=False))


def _publish_rows(root: Path) -> Corpus:
    """Load, restore and save the rows as a publish does."""
    corpus = load_corpus(root)
    restored = rowcache.restore(corpus)
    _rows(corpus)
    rowcache.save(corpus, restored)
    return corpus


def test_rowcache_after_a_new_record_saves_only_the_added_rows(synthetic):
    whole = paths.cache_dir(synthetic) / rowcache.FILE
    before = whole.read_bytes()
    ids = api.checkable_claim_ids(load_corpus(synthetic))
    _record(synthetic, ids[1], 0, 5_000)
    _publish_rows(synthetic)
    assert whole.read_bytes() == before and (paths.cache_dir(synthetic) / rowcache.ADDED).is_file()
    _record(synthetic, ids[2], 1, 7)  # a new environment: the added runs are labelled again
    corpus = load_corpus(synthetic)
    assert rowcache.restore(corpus) == rowcache.Restored(new_records=1)  # only the newest queried
    assert _rows(corpus) == _rows(load_corpus(synthetic, use_cache=False))
    assert whole.read_bytes() == before


def test_rowcache_with_a_damaged_added_file_queries_those_records_again(synthetic):
    ids = api.checkable_claim_ids(load_corpus(synthetic))
    _record(synthetic, ids[1], 0, 5_000)
    _publish_rows(synthetic)
    added = paths.cache_dir(synthetic) / rowcache.ADDED
    data = bytearray(added.read_bytes())
    data[-10] ^= 0xFF
    added.write_bytes(bytes(data))
    corpus = load_corpus(synthetic)
    assert rowcache.restore(corpus) == rowcache.Restored(new_records=1)
    assert _rows(corpus) == _rows(load_corpus(synthetic, use_cache=False))


def test_rowcache_writes_every_row_again_once_many_records_were_added(synthetic, monkeypatch):
    monkeypatch.setattr(rowcache, "ADDED_MIN", 1)
    whole = paths.cache_dir(synthetic) / rowcache.FILE
    before = whole.read_bytes()
    ids = api.checkable_claim_ids(load_corpus(synthetic))
    for n in range(4):  # 30 records kept: the fourth added one is more than a tenth
        _record(synthetic, ids[n], 0, 5_000 + n)
        _publish_rows(synthetic)
    assert (
        whole.read_bytes() != before and not (paths.cache_dir(synthetic) / rowcache.ADDED).exists()
    )
    corpus = load_corpus(synthetic)
    assert rowcache.restore(corpus) == rowcache.Restored(new_records=0)
    assert _rows(corpus) == _rows(load_corpus(synthetic, use_cache=False))


def test_rowcache_gives_up_when_a_new_record_restates_an_added_run(synthetic):
    ids = api.checkable_claim_ids(load_corpus(synthetic))
    path = _record(synthetic, ids[1], 0, 5_000)
    _publish_rows(synthetic)
    rec = json.loads(path.read_text())
    env_id, env = environments()[2]
    _restated_elsewhere_gives_up(synthetic, path, rec, env_id, env)


def test_cells_kept_packed_give_the_measurements_they_were_made_of(synthetic):
    from kg.rows import Cells

    fresh = api.all_measurements(load_corpus(synthetic, use_cache=False))
    assert not isinstance(fresh, Cells) and sum(map(len, fresh.values())) > 50
    packed = Cells.pack(fresh)
    assert packed == fresh and list(packed) == list(fresh) and len(packed) == len(fresh)
    run = next(iter(fresh))
    assert packed[run] == fresh[run] and packed.get(run) is packed[run]  # built once
    assert packed.get("no-such-run") is None and packed.get("no-such-run", []) == []
    with pytest.raises(KeyError):
        packed["no-such-run"]
    back = rowcache._RowUnpickler(io.BytesIO(pickle.dumps(packed))).load()
    assert isinstance(back, Cells) and back == fresh
    later = Cells.merged({run: []}, packed)  # a later part wins, runs in id order
    assert later == fresh and list(later) == sorted(fresh)
    corpus = load_corpus(synthetic)
    assert rowcache.restore(corpus) == rowcache.Restored(new_records=0)
    assert isinstance(api.all_measurements(corpus), Cells) and api.all_measurements(corpus) == fresh
