"""The corpus cache is keyed by the claims and the code only: a new run record is read and added to
the cached corpus (no cold load), a removed or changed one makes a cold load, and either way the
corpus is the one a cold load gives."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyoxigraph as ox
import pytest
from synth import environments, synthetic_record, write_corpus

from kg import api, load, paths, records
from kg.errors import ValidationFailed
from kg.load import load_corpus
from kg.records import dumps, record_files


@pytest.fixture
def project(tmp_path) -> Path:
    return write_corpus(tmp_path / "project", claims=24, files=2, seed=13, records=20)


@pytest.fixture
def cold_loads(monkeypatch) -> list[int]:
    """How many cold loads (parse and validate) happened."""
    calls: list[int] = []
    real = load.build_corpus

    def build(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(load, "build_corpus", build)
    return calls


@pytest.fixture
def reads(monkeypatch) -> list[list[str]]:
    """The record files read, call by call."""
    calls: list[list[str]] = []
    real = records.read_all

    def read_all(files):
        calls.append([f.name for f in files])
        return real(files)

    monkeypatch.setattr(records, "read_all", read_all)
    return calls


def _canonical(corpus) -> list[str]:
    ds = ox.Dataset(corpus.store.quads_for_pattern(None, None, None, None))
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(str(q) for q in ds)


def _cold(root: Path):
    return load_corpus(root, use_cache=False)


def _new_record(root: Path, n: int) -> Path:
    corpus = _cold(root)
    claim_id = api.checkable_claim_ids(corpus)[n % 5]
    check = api.claim_checks(corpus, claim_id)[0]
    env_id, env = environments()[n % 3]
    rec = synthetic_record(check.to_dict(), env_id, env, 50_000 + n, random.Random(n))
    path = paths.results_dir(root) / env_id / f"{rec['record_id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(rec))
    return path


def test_corpus_cache_adds_a_new_record_without_a_cold_load(project, cold_loads, reads):
    load_corpus(project)
    path = _new_record(project, 1)
    cold_loads.clear()
    reads.clear()
    corpus = load_corpus(project)
    assert cold_loads == [] and reads == [[path.name]] and corpus.from_cache
    assert path in corpus.records and len(corpus.records) == 21
    assert path.stem in {r.run for r in api.runs(corpus)}
    assert _canonical(corpus) == _canonical(_cold(project))
    reads.clear()
    cold_loads.clear()
    again = load_corpus(project)  # the new record is in the cache now: nothing is read
    assert reads == [] and cold_loads == [] and _canonical(again) == _canonical(corpus)


def test_a_removed_record_leaves_the_cached_graph_without_a_cold_load(project, cold_loads, reads):
    load_corpus(project)
    gone = record_files(paths.results_dir(project))[3]
    gone.unlink()
    cold_loads.clear()
    reads.clear()
    corpus = load_corpus(project)
    assert cold_loads == [] and reads == [] and corpus.from_cache
    assert gone.stem not in {r.run for r in api.runs(corpus)} and len(corpus.records) == 19
    assert _canonical(corpus) == _canonical(_cold(project))
    cold_loads.clear()
    reads.clear()
    again = load_corpus(project)  # the cache was written again without it
    assert reads == [] and cold_loads == [] and _canonical(again) == _canonical(corpus)


def test_a_changed_record_is_read_again_alone(project, cold_loads, reads):
    load_corpus(project)
    path = record_files(paths.results_dir(project))[2]
    rec = json.loads(path.read_text())
    rec["verdict"]["explanation"] = "Changed after the fact."
    path.write_text(dumps(rec))
    cold_loads.clear()
    reads.clear()
    corpus = load_corpus(project)
    assert cold_loads == [] and reads == [[path.name]]
    run = next(r for r in api.runs(corpus) if r.run == path.stem)
    assert run.explanation == "Changed after the fact."
    assert _canonical(corpus) == _canonical(_cold(project))


def test_a_record_made_unreadable_is_named_and_comes_back_when_fixed(project, cold_loads):
    load_corpus(project)
    path = record_files(paths.results_dir(project))[4]
    good = path.read_text()
    path.write_text("{")
    cold_loads.clear()
    broken = load_corpus(project)
    assert cold_loads == [] and [e.path for e in broken.skipped] == [str(path)]
    assert path.stem not in {r.run for r in api.runs(broken)} and path not in broken.records
    assert _canonical(broken) == _canonical(_cold(project))
    path.write_text(good)
    cold_loads.clear()
    fixed = load_corpus(project)
    assert cold_loads == [] and fixed.skipped == [] and path in fixed.records
    assert _canonical(fixed) == _canonical(_cold(project))


def test_a_dangling_record_link_is_named_on_every_load_without_rewriting_the_cache(
    project, cold_loads
):
    load_corpus(project)
    link = paths.results_dir(project) / "x86-test" / "dangling.json"
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(project / "no-such-record.json")
    first = load_corpus(project)
    meta = (paths.cache_dir(project) / "corpus.json").read_bytes()
    cold_loads.clear()
    again = load_corpus(project)
    assert cold_loads == [] and again.from_cache
    assert [e.path for e in first.skipped] == [e.path for e in again.skipped] == [str(link)]
    assert (paths.cache_dir(project) / "corpus.json").read_bytes() == meta
    link.unlink()
    gone = load_corpus(project)
    assert cold_loads == [] and gone.skipped == [] and len(gone.records) == 20


def test_a_changed_claim_file_reads_no_record_again_and_gives_the_cold_corpus(
    project, cold_loads, reads
):
    load_corpus(project)
    path = project / "claims" / "synthetic-000.ttl"
    path.write_text(path.read_text().replace("in setting 0.", "in setting zero."))
    added = _new_record(project, 3)
    cold_loads.clear()
    reads.clear()
    corpus = load_corpus(project)
    assert cold_loads == [] and reads == [[added.name]] and not corpus.from_cache
    assert any(c.text.endswith("setting zero.") for c in api.claims(corpus).values())
    assert not any(c.text.endswith("setting 0.") for c in api.claims(corpus).values())
    assert len(corpus.records) == 21
    assert _canonical(corpus) == _canonical(_cold(project))
    reads.clear()
    cold_loads.clear()
    again = load_corpus(project)  # the new key is cached: nothing parsed, nothing read
    assert reads == [] and cold_loads == [] and again.from_cache
    assert _canonical(again) == _canonical(corpus)


def test_a_removed_claim_file_takes_its_claims_out_of_the_cached_graph(project, cold_loads):
    first = load_corpus(project)
    gone = project / "claims" / "synthetic-001.ttl"
    ids = {i for i in api.claims(first) if f"claim:{i} a" in gone.read_text()}
    gone.unlink()
    cold_loads.clear()
    corpus = load_corpus(project)
    assert cold_loads == [] and ids and not ids & set(api.claims(corpus))
    assert _canonical(corpus) == _canonical(_cold(project))


def test_a_claim_edit_that_breaks_a_rule_fails_as_a_cold_load_does_and_keeps_the_cache(
    project, cold_loads
):
    load_corpus(project)
    meta = (paths.cache_dir(project) / "corpus.json").read_bytes()
    path = project / "claims" / "synthetic-000.ttl"
    path.write_text(path.read_text().replace('fwc:favours "pytorch"', 'fwc:favours "PyTorch"', 1))
    with pytest.raises(ValidationFailed) as cold:
        _cold(project)
    cold_loads.clear()
    with pytest.raises(ValidationFailed) as warm:
        load_corpus(project)
    assert cold_loads == [] and warm.value.problems == cold.value.problems
    assert (paths.cache_dir(project) / "corpus.json").read_bytes() == meta


def test_changed_kg_code_makes_a_claim_edit_a_cold_load(project, cold_loads, monkeypatch):
    load_corpus(project)
    path = project / "claims" / "synthetic-000.ttl"
    path.write_text(path.read_text().replace("in setting 0.", "in setting zero."))
    monkeypatch.setattr(load, "code_key", lambda: "other code")
    cold_loads.clear()
    assert not load_corpus(project).from_cache and cold_loads == [1]


def test_corpus_cache_names_a_new_unreadable_record_on_every_load(project, cold_loads):
    load_corpus(project)
    bad = _new_record(project, 2)
    bad.write_text("{")
    cold_loads.clear()
    first = load_corpus(project)
    again = load_corpus(project)
    assert cold_loads == [] and again.from_cache
    assert [e.path for e in first.skipped] == [e.path for e in again.skipped] == [str(bad)]
    assert bad not in again.records and len(again.records) == 20


def test_corpus_cache_keeps_few_parts_after_many_new_records(project, cold_loads):
    load_corpus(project)
    for n in range(load.CACHE_PARTS + 2):
        _new_record(project, 10 + n)
        load_corpus(project)
    meta = json.loads((paths.cache_dir(project) / "corpus.json").read_text())
    parts = sorted(p.name for p in paths.cache_dir(project).glob("corpus-*"))
    assert sorted(meta["parts"]) == parts and len(parts) <= load.CACHE_PARTS
    corpus = load_corpus(project)
    assert len(corpus.records) == 20 + load.CACHE_PARTS + 2
    assert _canonical(corpus) == _canonical(_cold(project))


def test_loading_and_publishing_pause_the_cyclic_collector_and_turn_it_back_on(
    project, monkeypatch, tmp_path
):
    import gc

    from kg import gcpause
    from verify.publish import build

    states: list[bool] = []
    real_load, real_publish = load._load_embedded, build._publish

    def loading(*args):
        states.append(gc.isenabled())
        return real_load(*args)

    def publishing(*args):
        states.append(gc.isenabled())
        return real_publish(*args)

    monkeypatch.setattr(load, "_load_embedded", loading)
    monkeypatch.setattr(build, "_publish", publishing)
    assert gc.isenabled()
    build.publish(load_corpus(project, use_cache=False), tmp_path / "site")
    assert states == [False, False] and gc.isenabled()
    with gcpause.paused():
        with gcpause.paused():  # nested: only the outer block turns it back on
            pass
        assert not gc.isenabled()
    with pytest.raises(RuntimeError), gcpause.paused():
        raise RuntimeError("a failed load")
    assert gc.isenabled()
    gc.disable()  # off before: left off
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_a_paused_block_made_goes_to_the_oldest_generation_unwalked_and_cycles_still_go():
    import gc
    import weakref

    from kg import gcpause

    class Node:
        pass

    gc.collect()
    with gcpause.paused():
        kept = [[i] for i in range(50_000)]
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle, garbage once the block drops it
        gone = weakref.ref(a)
        del a, b
    young, middle, _ = gc.get_count()
    assert young < 1_000 and middle < 10  # not 50,000 objects waiting for a young collection
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    assert gone() is not None  # the cycle waits for a full collection...
    gc.collect()
    assert gone() is None  # ...which still frees it
    assert len(kept) == 50_000
    gc.freeze()  # objects someone else froze stay frozen
    try:
        frozen = gc.get_freeze_count()
        with gcpause.paused():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_records_seen_by_the_paths_the_graph_names_them_by(project):
    """Each run's record is looked up by its path as the graph names it, giving what kg.load saw
    at the joined absolute path; a record outside the root keeps its absolute path."""
    corpus = load_corpus(project)
    named = [r.record for r in api.runs(corpus) if r.record]
    assert len(named) == 20
    for rel in named:
        joined = corpus.record_stats[str(project / rel)]
        assert joined is not None and corpus.record_seen(rel) == joined
    corpus.record_stats["/elsewhere/r.json"] = [1, 2]
    corpus.memo.clear()
    assert corpus.record_seen("/elsewhere/r.json") == [1, 2]
    assert corpus.record_seen("data/results/none.json") is None
