"""Incremental publish: after a new run record only its claim's files are rendered again, the
rest are linked from the previous site, and the result is byte for byte a full publish made
without any cache (corpus, documents, measurement rows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from site_project import cache_free_site, make_project, site_tree
from synth import environments, synthetic_record, write_corpus

from kg import api
from kg.load import load_corpus
from kg.records import dumps
from verify.publish.build import publish


def _add_record(root: Path, claim_id: str, n: int) -> Path:
    corpus = load_corpus(root, use_cache=False)
    check = api.claim_checks(corpus, claim_id)[0]
    assert check is not None
    # the machine measured last, so "this machine" stays the same and other claims' pages do not
    # change (a record that makes another environment the newest rebuilds every claim page)
    newest = api.runs(corpus)[0].environment
    env_id, env = next((e for e in environments() if e[0] == newest), environments()[0])
    import random

    record = synthetic_record(check.to_dict(), env_id, env, 10_000 + n, random.Random(n))
    path = root / "data" / "results" / env_id / f"{record['record_id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(record))
    return path


@pytest.fixture
def synthetic(tmp_path) -> Path:
    return write_corpus(tmp_path / "project", claims=60, files=2, seed=5, records=40)


def test_incremental_after_a_new_record_equals_full_publish(synthetic, tmp_path):
    site, full_site = tmp_path / "site", tmp_path / "full"
    first = publish(load_corpus(synthetic), site)
    assert first.reused == 0
    claim_id = api.checkable_claim_ids(load_corpus(synthetic))[3]
    _add_record(synthetic, claim_id, 1)
    corpus = load_corpus(synthetic)
    again = publish(corpus, site)
    assert 0 < again.reused == first.claims - 1  # only the claim with the new record
    assert again.canonicalised == 1
    a, b = site_tree(site), cache_free_site(synthetic, full_site)
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []


def test_incremental_after_records_come_and_go_equals_a_cache_free_publish(synthetic, tmp_path):
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    ids = api.checkable_claim_ids(load_corpus(synthetic))
    for n, cid in enumerate(ids[:3]):  # one publish after each new record
        _add_record(synthetic, cid, 10 + n)
        publish(load_corpus(synthetic), site)
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "a")
    sorted((synthetic / "data" / "results").rglob("*.json"))[0].unlink()
    publish(load_corpus(synthetic), site)
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "b")


def test_unchanged_claim_files_are_linked_not_rewritten(synthetic, tmp_path):
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    ids = api.checkable_claim_ids(load_corpus(synthetic))
    untouched = site / "claims" / f"{ids[0]}.html"
    inode = untouched.stat().st_ino
    _add_record(synthetic, ids[5], 2)
    publish(load_corpus(synthetic), site)
    assert untouched.stat().st_ino == inode  # the same file, linked into the new site
    assert (site / "claims" / f"{ids[5]}.html").stat().st_ino != inode


def test_publish_twice_reuses_every_claim_and_changes_nothing(tmp_path):
    root = make_project(tmp_path / "p")
    site = tmp_path / "site"
    publish(load_corpus(root), site)
    before = site_tree(site)
    again = publish(load_corpus(root), site)
    assert again.reused == again.claims and site_tree(site) == before


def test_a_changed_claim_file_renders_every_claim_again(synthetic, tmp_path):
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    path = synthetic / "claims" / "synthetic-000.ttl"
    path.write_text(path.read_text().replace("in setting 0.", "in setting zero."))
    again = publish(load_corpus(synthetic), site)
    assert again.reused == 0 and again.canonicalised == 1  # the other documents: from the cache
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "full")


def test_publish_json_reports_reused_claims(tmp_path):
    root = make_project(tmp_path / "p")
    result = publish(load_corpus(root), tmp_path / "site")
    assert json.loads(json.dumps(result.to_dict()))["reused_claims"] == 0


def test_a_record_changed_after_the_load_is_rendered_again_on_the_next_publish(synthetic, tmp_path):
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    corpus = load_corpus(synthetic)  # the graph as the records are now
    record = sorted((synthetic / "data" / "results").rglob("*.json"))[0]
    data = json.loads(record.read_text())
    data["verdict"]["explanation"] = "Changed after the load."
    record.write_text(dumps(data))
    publish(corpus, site)  # made from the graph before the change
    publish(load_corpus(synthetic), site)
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "full")
