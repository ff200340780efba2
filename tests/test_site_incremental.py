"""Incremental publish: after a new run record only its claim's files are rendered again, the
previous site is updated in place (only files whose bytes change are written, each renamed over
the old one), and the result is byte for byte a full publish made without any cache (corpus,
documents, measurement rows, pieces), also after a publish stopped part way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from site_project import cache_free_site, make_project, site_tree
from synth import environments, synthetic_record, write_corpus

from kg import api
from kg.load import load_corpus
from kg.records import dumps
from verify.publish import incremental
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


def test_unchanged_claim_files_are_kept_not_rewritten(synthetic, tmp_path):
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    ids = api.checkable_claim_ids(load_corpus(synthetic))
    untouched = site / "claims" / f"{ids[0]}.html"
    inode = untouched.stat().st_ino
    _add_record(synthetic, ids[5], 2)
    publish(load_corpus(synthetic), site)
    assert untouched.stat().st_ino == inode  # the same file, left in place
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


def test_pages_of_untouched_environments_and_sources_are_kept_not_rewritten(
    synthetic, tmp_path, monkeypatch
):
    ids = api.checkable_claim_ids(load_corpus(synthetic))
    _record_from(synthetic, ids[0], 2, 3)  # one more environment, with an older run
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    pages = [*(site / "environments").glob("*.html"), *(site / "sources").glob("*.html")]
    inodes = {p.relative_to(site).as_posix(): p.stat().st_ino for p in pages}
    corpus = load_corpus(synthetic)
    claim, newest = api.claims(corpus)[ids[5]], api.runs(corpus)[0].environment
    _add_record(synthetic, ids[5], 6)  # from the newest run's environment
    rendered = _rendered(monkeypatch)
    publish(load_corpus(synthetic), site)
    rewritten = {rel for rel, inode in inodes.items() if (site / rel).stat().st_ino != inode}
    ours = {f"sources/{a.doc}.html" for a in claim.appearances}
    envs = {rel for rel in inodes if rel.startswith("environments/")} - {"environments/index.html"}
    assert len(envs) >= 2
    assert {f"environments/{newest}.html", "environments/index.html",
            "sources/index.html"} | ours <= set(rendered)  # fmt: skip
    assert envs & set(rendered) == envs & rewritten == {f"environments/{newest}.html"}
    assert any(rel.startswith("sources/") for rel in set(inodes) - set(rendered) - rewritten)
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "full")


def _rendered(monkeypatch) -> list[str]:
    """The pages the next publishes render, as they render them."""
    from verify.publish.writer import SiteWriter

    rendered: list[str] = []
    render = SiteWriter.render
    monkeypatch.setattr(SiteWriter, "render",
                        lambda self, rel, *a, **kw: rendered.append(rel) or render(self, rel, *a, **kw))  # fmt: skip
    return rendered


def test_changes_pages_without_a_new_flip_are_kept_not_rewritten(synthetic, tmp_path):
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    run = api.runs(load_corpus(synthetic))[0]
    env = next(i for i, (e, _) in enumerate(environments()) if e == run.environment)
    inodes = {name: (site / name).stat().st_ino for name in ("changes.html", "changes.xml")}
    _record_from(synthetic, run.claim_id, env, 20_000, run.verdict.value)  # the same verdict again
    publish(load_corpus(synthetic), site)
    assert {name: (site / name).stat().st_ino for name in inodes} == inodes
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "full")


def test_incremental_publish_writes_only_changed_files_in_place(synthetic, tmp_path):
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    before = {p: (site / p).stat().st_ino for p in site_tree(site)}
    claim_id = api.checkable_claim_ids(load_corpus(synthetic))[3]
    _add_record(synthetic, claim_id, 1)
    publish(load_corpus(synthetic), site)
    after = site_tree(site)
    rewritten = {
        p for p, inode in before.items() if p in after and (site / p).stat().st_ino != inode
    }
    assert f"claims/{claim_id}.html" in rewritten and "data/runs.csv" in rewritten
    assert {"queries.html", "method.html", "static/style.css"}.isdisjoint(rewritten)  # same bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project", "site"]  # no folder beside
    assert not [p for p in after if p.endswith(".tmp")]
    assert after == cache_free_site(synthetic, tmp_path / "full")


def test_incremental_publish_renders_only_the_changed_pieces(synthetic, tmp_path, monkeypatch):
    from verify.publish.fragments import Fragments

    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    made: list[dict[str, int]] = []
    save = Fragments.save
    monkeypatch.setattr(Fragments, "save", lambda self: made.append(dict(self.made)) or save(self))
    _add_record(synthetic, api.checkable_claim_ids(load_corpus(synthetic))[3], 1)
    publish(load_corpus(synthetic), site)
    runs = sum(n for kind, n in made[0].items() if kind.startswith("environment-run"))
    assert runs == 1  # the new run's row on its environment's page
    assert made[0].get("index-row", 0) <= 1  # the row of its claim, where that changed
    publish(load_corpus(synthetic), site)
    assert made[1] == {}
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "full")


def test_damaged_pieces_are_rendered_again(synthetic, tmp_path):
    from kg import paths
    from verify.publish import fragments

    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    for path in (paths.cache_dir(synthetic) / fragments.FOLDER).glob("*.pickle"):
        data = bytearray(path.read_bytes())
        data[-5] ^= 0xFF
        path.write_bytes(bytes(data))
    _add_record(synthetic, api.checkable_claim_ids(load_corpus(synthetic))[2], 3)
    publish(load_corpus(synthetic), site)
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "full")


def _stop_after(monkeypatch, site: Path, renames: int) -> None:
    """Make the next publish stop like a killed process after `renames` files are put in place
    in `site` (the first of them its interim manifest): nothing of it cleans up after itself."""
    from verify.publish import writer

    real, count = writer.os.replace, [0]

    def replace(src, dest):
        if str(dest).startswith(str(site)):
            count[0] += 1
            if count[0] > renames:
                raise SystemExit("killed")
        real(src, dest)

    monkeypatch.setattr(writer.os, "replace", replace)
    monkeypatch.setattr(writer.InPlaceWriter, "abort", lambda self: None)


@pytest.mark.parametrize("renames", [0, 3])
def test_a_publish_stopped_part_way_leaves_whole_files_and_the_next_repairs_it(
    synthetic, tmp_path, monkeypatch, renames
):
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    old = site_tree(site)
    ids = api.checkable_claim_ids(load_corpus(synthetic))
    new = _record_from(synthetic, ids[4], 0, 30_000, "does-not-hold")  # newest run: a flip
    new_site = cache_free_site(synthetic, tmp_path / "new")
    with monkeypatch.context() as m:
        _stop_after(m, site, renames)
        with pytest.raises(SystemExit):
            publish(load_corpus(synthetic), site)
    shown = {p: b for p, b in site_tree(site).items()
             if not p.endswith(".tmp") and p != incremental.MANIFEST}  # fmt: skip
    assert all(b in (old.get(p), new_site.get(p)) for p, b in shown.items())  # no half file
    assert sum(old.get(p) != b for p, b in shown.items()) == max(renames - 1, 0)
    new.unlink()  # the record goes again: the pages it changed must not be taken as up to date
    publish(load_corpus(synthetic), site)
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "full")


def test_a_publish_stopped_while_rendering_is_repaired_by_the_next(
    synthetic, tmp_path, monkeypatch
):
    from verify.publish import pages, writer

    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    _add_record(synthetic, api.checkable_claim_ids(load_corpus(synthetic))[1], 8)
    with monkeypatch.context() as m:
        m.setattr(pages, "method", lambda w, data: (_ for _ in ()).throw(SystemExit("killed")))
        m.setattr(writer.InPlaceWriter, "abort", lambda self: None)
        with pytest.raises(SystemExit):
            publish(load_corpus(synthetic), site)
    assert [p for p in site_tree(site) if p.endswith(".tmp")]  # left behind, not in place
    publish(load_corpus(synthetic), site)
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "full")


def test_a_failed_full_publish_leaves_the_previous_site(synthetic, tmp_path, monkeypatch):
    from verify.publish import pages

    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    before = site_tree(site)
    monkeypatch.setattr(pages, "method", lambda w, data: (_ for _ in ()).throw(OSError("full")))
    with pytest.raises(OSError):
        publish(load_corpus(synthetic), site, full=True)
    with pytest.raises(OSError):
        publish(load_corpus(synthetic), site)  # in place: nothing staged is left
    assert site_tree(site) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project", "site"]


def test_the_pieces_of_an_environment_that_is_gone_are_dropped(synthetic, tmp_path):
    from kg import paths
    from verify.publish import fragments
    from verify.publish.sitedata import safe_name

    site = tmp_path / "site"
    ids = api.checkable_claim_ids(load_corpus(synthetic))
    new = _record_from(synthetic, ids[1], 2, 7)  # an older run, the only one from its machine
    publish(load_corpus(synthetic), site)
    kept = (
        paths.cache_dir(synthetic)
        / fragments.FOLDER
        / f"environment-run.{safe_name(new.parent.name)}.pickle"
    )
    others = sorted(p.name for p in kept.parent.glob("environment-run.*.pickle") if p != kept)
    assert kept.exists() and others
    new.unlink()
    publish(load_corpus(synthetic), site)
    assert not kept.exists()
    assert sorted(p.name for p in kept.parent.glob("environment-run.*.pickle")) == others
    assert site_tree(site) == cache_free_site(synthetic, tmp_path / "full")


def test_the_sites_changes_are_the_flips_history_gives(synthetic):
    from kg import changes

    corpus = load_corpus(synthetic)
    for across in (False, True):
        flips = changes.history_flips(corpus, across_versions=across)
        found = changes.history_changes(corpus, across_versions=across)
        assert [(c.claim_id, c.machine, c.when, c.before.run, c.after.run, c.both_decided)
                for c in found] == [(f.claim_id, f.machine, f.when, f.before.run, f.after.run,
                                     f.both_decided) for f in flips]  # fmt: skip
    assert len(found) >= 3


def test_the_feed_carries_the_newest_changes_and_the_page_all_of_them(
    synthetic, tmp_path, monkeypatch
):
    import xml.etree.ElementTree as ET

    from kg import changes
    from verify.publish import pages

    monkeypatch.setattr(pages, "FEED_ENTRIES", 2)
    corpus = load_corpus(synthetic)
    flips = changes.history_changes(corpus, across_versions=True)
    assert len(flips) >= 3
    site = publish(corpus, tmp_path / "site").out
    atom = "{http://www.w3.org/2005/Atom}"
    entries = ET.parse(site / "changes.xml").getroot().findall(f"{atom}entry")
    assert [e.find(f"{atom}id").text.rsplit("/", 1)[1] for e in entries] == [
        f.after.run for f in flips[:2]
    ]
    html = (site / "changes.html").read_text()
    assert html.count("<tr>") == len(flips) + 1  # the header's row, then every change
    assert "(the newest 2 changes)" in html
