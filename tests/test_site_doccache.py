"""The document cache: a claim's Turtle and JSON-LD are canonicalised again only when its triples
(its claim block, its records) or the code that writes them changed, and a site built from the
cache is byte for byte the site built without it."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyoxigraph as ox
import pytest
from site_project import cache_free_site, site_tree
from synth import environments, synthetic_record, write_corpus

from kg import api, doccache, paths
from kg.load import load_corpus
from kg.records import dumps, record_files
from verify.publish.build import publish

EX = "https://example.org/"


def _docs(site: Path) -> dict[str, bytes]:
    return {k: v for k, v in site_tree(site).items() if k.endswith((".ttl", ".jsonld"))}


@pytest.fixture
def synthetic(tmp_path) -> Path:
    return write_corpus(tmp_path / "project", claims=40, files=2, seed=3, records=30)


def test_doccache_second_full_publish_canonicalises_nothing(synthetic, tmp_path):
    first = publish(load_corpus(synthetic), tmp_path / "a", full=True)
    again = publish(load_corpus(synthetic), tmp_path / "b", full=True)
    assert first.canonicalised == first.claims and again.canonicalised == 0
    assert site_tree(tmp_path / "b") == cache_free_site(synthetic, tmp_path / "c")


def test_doccache_changed_claim_triples_recanonicalise_exactly_that_claim(synthetic, tmp_path):
    publish(load_corpus(synthetic), tmp_path / "a", full=True)
    claim = next(c for c in api.claims(load_corpus(synthetic)).values()
                 if c.text.endswith("in setting 0."))  # fmt: skip
    path = synthetic / "claims" / "synthetic-000.ttl"
    path.write_text(path.read_text().replace("in setting 0.", "in setting zero."))
    again = publish(load_corpus(synthetic), tmp_path / "b", full=True)
    assert again.canonicalised == 1
    before, after = _docs(tmp_path / "a"), _docs(tmp_path / "b")
    assert sorted(k for k in after if after[k] != before[k]) == [
        f"claims/{claim.id}.jsonld", f"claims/{claim.id}.ttl"]  # fmt: skip
    assert site_tree(tmp_path / "b") == cache_free_site(synthetic, tmp_path / "c")


def test_doccache_changed_record_recanonicalises_exactly_its_claim(synthetic, tmp_path):
    publish(load_corpus(synthetic), tmp_path / "a", full=True)
    record = record_files(paths.results_dir(synthetic))[0]
    data = json.loads(record.read_text())
    data["verdict"]["explanation"] = "Rewritten explanation."
    record.write_text(dumps(data))
    again = publish(load_corpus(synthetic), tmp_path / "b", full=True)
    assert again.canonicalised == 1
    before, after = _docs(tmp_path / "a"), _docs(tmp_path / "b")
    cid = data["claim_id"]
    assert sorted(k for k in after if after[k] != before[k]) == [
        f"claims/{cid}.jsonld", f"claims/{cid}.ttl"]  # fmt: skip
    assert site_tree(tmp_path / "b") == cache_free_site(synthetic, tmp_path / "c")


def test_doccache_new_record_recanonicalises_exactly_its_claim(synthetic, tmp_path):
    publish(load_corpus(synthetic), tmp_path / "a", full=True)
    corpus = load_corpus(synthetic)
    claim_id = api.checkable_claim_ids(corpus)[2]
    env_id, env = environments()[0]
    check = api.claim_checks(corpus, claim_id)[0]
    rec = synthetic_record(check.to_dict(), env_id, env, 99_999, random.Random(4))
    target = paths.results_dir(synthetic) / env_id / f"{rec['record_id']}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps(rec))
    again = publish(load_corpus(synthetic), tmp_path / "b", full=True)
    assert again.canonicalised == 1
    assert site_tree(tmp_path / "b") == cache_free_site(synthetic, tmp_path / "c")


def test_doccache_new_package_version_recanonicalises_every_claim(synthetic, tmp_path, monkeypatch):
    publish(load_corpus(synthetic), tmp_path / "a", full=True)
    real = doccache._version
    monkeypatch.setattr(doccache, "_version", lambda p: "9.9.9" if p == "fwclaims" else real(p))
    again = publish(load_corpus(synthetic), tmp_path / "b", full=True)
    assert again.canonicalised == again.claims


def test_doccache_damaged_entry_is_written_again(synthetic, tmp_path):
    publish(load_corpus(synthetic), tmp_path / "a", full=True)
    entries = sorted((paths.cache_dir(synthetic) / doccache.FOLDER).glob("*/*"))
    assert entries
    data = bytearray(entries[0].read_bytes())
    data[-2] ^= 1  # one flipped bit in the JSON-LD
    entries[0].write_bytes(bytes(data))
    again = publish(load_corpus(synthetic), tmp_path / "b", full=True)
    assert again.canonicalised == 1
    assert site_tree(tmp_path / "b") == site_tree(tmp_path / "a")


def test_doccache_entries_no_claim_uses_are_removed(synthetic, tmp_path):
    publish(load_corpus(synthetic), tmp_path / "a", full=True)
    folder = paths.cache_dir(synthetic) / doccache.FOLDER
    count = len(list(folder.glob("*/*")))
    path = synthetic / "claims" / "synthetic-000.ttl"
    path.write_text(path.read_text().replace("in setting 0.", "in setting zero."))
    publish(load_corpus(synthetic), tmp_path / "b", full=True)
    assert len(list(folder.glob("*/*"))) == count  # the old entry went, the new one came


def _t(s: object, p: str, o: object) -> ox.Triple:
    return ox.Triple(s, ox.NamedNode(EX + p), o)  # type: ignore[arg-type]


def _graph(a: tuple[str, str], b: tuple[str, str], labels: tuple[str, str]) -> list[ox.Triple]:
    s = ox.NamedNode(EX + "claim")
    x, y = ox.BlankNode(labels[0]), ox.BlankNode(labels[1])
    return [_t(s, "part", x), _t(s, "part", y), _t(x, "p", ox.Literal(a[0])),
            _t(x, "q", ox.Literal(a[1])), _t(y, "p", ox.Literal(b[0])),
            _t(y, "q", ox.Literal(b[1]))]  # fmt: skip


def test_claim_key_is_the_same_for_relabelled_blank_nodes():
    code = doccache.code_digest()
    one = doccache.claim_key(_graph(("1", "2"), ("3", "4"), ("a", "b")), code)
    two = doccache.claim_key(_graph(("3", "4"), ("1", "2"), ("k", "j")), code)
    assert one is not None and one == two


def test_claim_key_tells_apart_values_swapped_between_blank_nodes():
    # the same flat multiset of (predicate, value) pairs, grouped differently into the parts
    code = doccache.code_digest()
    one = doccache.claim_key(_graph(("1", "2"), ("3", "4"), ("a", "b")), code)
    two = doccache.claim_key(_graph(("1", "4"), ("3", "2"), ("a", "b")), code)
    assert one != two


def test_claim_key_is_none_for_a_shared_or_cyclic_blank_node():
    s, x, y = ox.NamedNode(EX + "claim"), ox.BlankNode("x"), ox.BlankNode("y")
    shared = [_t(s, "part", x), _t(s, "other", x), _t(x, "p", ox.Literal("1"))]
    cycle = [_t(s, "p", ox.Literal("1")), _t(x, "next", y), _t(y, "next", x)]
    assert doccache.claim_key(shared, "c") is None
    assert doccache.claim_key(cycle, "c") is None


def test_doccache_keys_from_records_give_the_documents_of_keys_from_triples(
    synthetic, tmp_path, monkeypatch
):
    corpus = load_corpus(synthetic)
    assert doccache.records_tell(corpus)
    by_records, fresh = doccache.claim_documents(corpus)
    assert len(fresh) == len(by_records)
    monkeypatch.setattr(doccache, "records_tell", lambda corpus: False)
    by_triples, fresh = doccache.claim_documents(load_corpus(synthetic))
    assert len(fresh) == len(by_triples) and by_triples == by_records  # other names, same bytes
    again, fresh = doccache.claim_documents(load_corpus(synthetic))
    assert fresh == [] and again == by_records


def test_doccache_a_run_described_outside_its_record_is_keyed_by_its_triples(synthetic, tmp_path):
    record = record_files(paths.results_dir(synthetic))[0]
    cid = json.loads(record.read_text())["claim_id"]
    note = synthetic / "claims" / "notes.ttl"
    line = f'<https://w3id.org/fwclaims/run/{record.stem}> <http://schema.org/description> "%s" .\n'
    note.write_text(line % "first note")
    corpus = load_corpus(synthetic)
    assert not doccache.records_tell(corpus)
    publish(corpus, tmp_path / "a", full=True)
    note.write_text(line % "second note")
    again = publish(load_corpus(synthetic), tmp_path / "b", full=True)
    assert again.canonicalised == 1
    assert b"second note" in (tmp_path / "b" / "claims" / f"{cid}.ttl").read_bytes()
    assert site_tree(tmp_path / "b") == cache_free_site(synthetic, tmp_path / "c")


def test_doccache_a_record_changed_after_the_load_is_not_cached_under_its_new_state(
    synthetic, tmp_path
):
    corpus = load_corpus(synthetic)  # the graph as the records were
    record = record_files(paths.results_dir(synthetic))[0]
    data = json.loads(record.read_text())
    data["verdict"]["explanation"] = "Changed while publishing."
    record.write_text(dumps(data))
    publish(corpus, tmp_path / "a", full=True)
    publish(load_corpus(synthetic), tmp_path / "b", full=True)
    cid = data["claim_id"]
    assert b"Changed while publishing." in (tmp_path / "b" / "claims" / f"{cid}.ttl").read_bytes()
    assert site_tree(tmp_path / "b") == cache_free_site(synthetic, tmp_path / "c")


def test_records_tell_is_asked_again_only_when_the_claim_files_change(synthetic, monkeypatch):
    from kg import export

    asked: list[bool] = []
    real = export.runs_only_in_records

    def ask(corpus) -> bool:
        asked.append(real(corpus))
        return asked[-1]

    monkeypatch.setattr(export, "runs_only_in_records", ask)
    assert doccache.records_tell(load_corpus(synthetic)) and asked == [True]
    rec = synthetic_record(json.loads(record_files(paths.results_dir(synthetic))[0].read_text())[
        "check"], *environments()[0], 99_999, random.Random(5))  # fmt: skip
    path = paths.results_dir(synthetic) / rec["environment_id"] / f"{rec['record_id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(rec))
    assert doccache.records_tell(load_corpus(synthetic)) and asked == [True]  # a new record
    kept = paths.cache_dir(synthetic) / doccache.TELL_FILE
    kept.write_text('{"key": "damaged')
    assert doccache.records_tell(load_corpus(synthetic)) and asked == [True, True]
    note = synthetic / "claims" / "notes.ttl"  # a claim file that speaks of a run
    note.write_text(f'<https://w3id.org/fwclaims/run/{path.stem}> <http://schema.org/name> "x" .\n')
    assert not doccache.records_tell(load_corpus(synthetic)) and asked == [True, True, False]
    assert not doccache.records_tell(load_corpus(synthetic)) and len(asked) == 3
