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


def _record_from(root: Path, claim_id: str, env: int, n: int, label: str | None = None) -> Path:
    """A new record of the claim from synthetic machine `env` (the `n`-th of a series: the larger,
    the newer), with the verdict `label` when given."""
    import random

    check = api.claim_checks(load_corpus(root, use_cache=False), claim_id)[0]
    env_id, environment = environments()[env]
    record = synthetic_record(check.to_dict(), env_id, environment, n, random.Random(n))
    if label is not None:
        record["verdict"]["label"] = label
        record["status"] = "not-checkable" if label == "not-checkable-here" else "ok"
    path = root / "data" / "results" / env_id / f"{record['record_id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(record))
    return path


def test_incremental_after_records_from_new_environments_equals_a_cache_free_publish(
    synthetic, tmp_path
):
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    ids = api.checkable_claim_ids(load_corpus(synthetic))
    _record_from(synthetic, ids[1], 1, 7)  # other versions on the same machine, an older run
    again = publish(load_corpus(synthetic), site)
    assert again.reused == again.claims - 1
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "a")
    _record_from(synthetic, ids[2], 3, 50_000)  # a GPU machine, now the newest: "this machine"
    again = publish(load_corpus(synthetic), site)
    assert again.reused == 0
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "b")


def test_incremental_after_a_flipped_verdict_equals_a_cache_free_publish(synthetic, tmp_path):
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    corpus = load_corpus(synthetic)
    run = api.runs(corpus)[0]
    label = "holds" if run.verdict.value != "holds" else "does-not-hold"
    env = next(i for i, (e, _) in enumerate(environments()) if e == run.environment)
    _record_from(synthetic, run.claim_id, env, 20_000, label)
    publish(load_corpus(synthetic), site)
    assert f"claims/{run.claim_id}.html" in (site / "changes.html").read_text()
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "full")


def test_incremental_after_worded_records_and_an_exploration_equals_a_cache_free_publish(tmp_path):
    from site_project import add_worded_records

    root = make_project(tmp_path / "p")
    site = tmp_path / "site"
    publish(load_corpus(root), site)
    add_worded_records(root)
    publish(load_corpus(root), site)
    assert site_tree(site) == cache_free_site(root, tmp_path / "full")


def test_incremental_publish_queries_no_claim_rows_and_only_the_new_record(
    synthetic, tmp_path, monkeypatch
):
    from kg.store import Corpus

    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    _add_record(synthetic, api.checkable_claim_ids(load_corpus(synthetic))[6], 4)
    corpus = load_corpus(synthetic)
    asked: list[str] = []
    query = Corpus.query
    monkeypatch.setattr(
        Corpus, "query", lambda self, q, **kw: asked.append(q) or query(self, q, **kw)
    )
    publish(corpus, site)
    of_records = [q for q in asked if "fwc:Run ;" in q or "fwc:Measurement ; prov:wasGeneratedBy" in q
                  or "fwc:Environment ; ?p ?o" in q]  # fmt: skip
    assert len(of_records) == 4 and all("GRAPH <" in q or "VALUES ?run {" in q for q in of_records)
    assert not [q for q in asked if "schema:appearance" in q or "prov:hadPrimarySource" in q]


def test_a_damaged_row_cache_falls_back_to_the_full_queries(synthetic, tmp_path):
    from kg import paths, rowcache

    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    (paths.cache_dir(synthetic) / rowcache.FILE).write_bytes(b"fwclaims-rows damaged\n")
    _add_record(synthetic, api.checkable_claim_ids(load_corpus(synthetic))[7], 5)
    publish(load_corpus(synthetic), site)
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "full")


def test_pages_of_untouched_environments_and_sources_are_linked_not_rewritten(synthetic, tmp_path):
    ids = api.checkable_claim_ids(load_corpus(synthetic))
    _record_from(synthetic, ids[0], 2, 3)  # one more environment, with an older run
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    pages = [*(site / "environments").glob("*.html"), *(site / "sources").glob("*.html")]
    inodes = {p.relative_to(site).as_posix(): p.stat().st_ino for p in pages}
    corpus = load_corpus(synthetic)
    claim, newest = api.claims(corpus)[ids[5]], api.runs(corpus)[0].environment
    _add_record(synthetic, ids[5], 6)  # from the newest run's environment
    publish(load_corpus(synthetic), site)
    rewritten = {rel for rel, inode in inodes.items() if (site / rel).stat().st_ino != inode}
    ours = {f"sources/{a.doc}.html" for a in claim.appearances}
    envs = {rel for rel in inodes if rel.startswith("environments/")} - {"environments/index.html"}
    assert len(envs) >= 2
    assert {
        f"environments/{newest}.html",
        "environments/index.html",
        "sources/index.html",
    } | ours <= rewritten
    assert envs & rewritten == {f"environments/{newest}.html"}
    assert any(rel.startswith("sources/") for rel in set(inodes) - rewritten)
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "full")


def test_changes_pages_without_a_new_flip_are_linked_not_rewritten(synthetic, tmp_path):
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    run = api.runs(load_corpus(synthetic))[0]
    env = next(i for i, (e, _) in enumerate(environments()) if e == run.environment)
    inodes = {name: (site / name).stat().st_ino for name in ("changes.html", "changes.xml")}
    _record_from(synthetic, run.claim_id, env, 20_000, run.verdict.value)  # the same verdict again
    publish(load_corpus(synthetic), site)
    assert {name: (site / name).stat().st_ino for name in inodes} == inodes
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "full")
