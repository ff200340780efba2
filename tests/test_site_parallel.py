"""Pages rendered by helper processes (verify.publish.parallel): claim pages of a publish into a
new folder, and the downloads of an in-place publish (SideWork). The site is byte for byte the
one a single process writes, the counts add up, and a helper that fails makes the publish fail
without touching the previous site or leaving a half-written folder or file behind."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from site_project import cache_free_site, site_tree
from synth import environments, synthetic_record, write_corpus

from kg import api
from kg.load import load_corpus
from kg.records import dumps
from verify.publish import pages, parallel, writer
from verify.publish.build import publish


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("parallel") / "project", claims=90, files=2,
                        seed=9, records=120)  # fmt: skip


def _helpers(monkeypatch, n: int) -> list[int]:
    """Fork `n` helpers for any number of claim pages; the counts asked for, call by call."""
    asked: list[int] = []

    def helpers_for(claims: int, minimum: int = 0) -> int:
        asked.append(claims)
        return n

    monkeypatch.setattr(writer, "helpers_for", helpers_for)
    return asked


def test_helpers_write_the_same_site_as_one_process(synthetic, tmp_path, monkeypatch):
    corpus = load_corpus(synthetic)
    one = publish(corpus, tmp_path / "one", full=True)
    asked = _helpers(monkeypatch, 2)
    shared = publish(corpus, tmp_path / "shared", full=True)
    assert asked == [one.claims]  # every claim page was shared out
    assert site_tree(tmp_path / "shared") == site_tree(tmp_path / "one")
    assert (shared.pages, shared.files, shared.claims) == (one.pages, one.files, one.claims)


def test_a_helper_that_fails_fails_the_publish_and_keeps_the_old_site(
    synthetic, tmp_path, monkeypatch
):
    corpus = load_corpus(synthetic)
    out = tmp_path / "site"
    publish(corpus, out, full=True)
    before = site_tree(out)
    main = os.getpid()
    real = pages.claim

    def claim(w, data, cid, status):
        if os.getpid() != main:
            raise RuntimeError(f"cannot render {cid}")
        real(w, data, cid, status)

    monkeypatch.setattr(pages, "claim", claim)
    _helpers(monkeypatch, 1)
    with pytest.raises(parallel.PublishHelperError, match="RuntimeError: cannot render"):
        publish(corpus, out, full=True)
    assert site_tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no new folder left behind


def test_helpers_only_for_many_pages_and_more_than_one_core(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert parallel.helpers_for(parallel.MIN_CLAIMS - 1) == 0
    assert parallel.helpers_for(parallel.MIN_CLAIMS) == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert parallel.helpers_for(10 * parallel.MIN_CLAIMS) == 0
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert parallel.helpers_for(10 * parallel.MIN_CLAIMS) == parallel.MAX_HELPERS


def test_an_in_place_publish_renders_its_claim_pages_in_one_process(
    synthetic, tmp_path, monkeypatch
):
    corpus = load_corpus(synthetic)
    out = tmp_path / "site"
    publish(corpus, out, full=True)

    def fork() -> int:
        raise AssertionError("an in-place publish forked a helper")

    monkeypatch.setattr(parallel.os, "fork", fork)
    monkeypatch.setattr(writer, "helpers_for", lambda claims, minimum=0: 2)
    publish(corpus, out, cache=False)  # over the previous site: staged files stay this process's


def _forks(monkeypatch) -> list[int]:
    """Let the in-place publish's side helper fork for any site; the pids it forked."""
    forked: list[int] = []
    real = os.fork

    def fork() -> int:
        pid = real()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(parallel.os, "fork", fork)
    monkeypatch.setattr(writer, "side_helper_for", lambda runs: True)
    return forked


def _new_record(root: Path) -> None:
    """One more run, on the machine that measured last, of the fourth checkable claim."""
    corpus = load_corpus(root, use_cache=False)
    check = api.claim_checks(corpus, api.checkable_claim_ids(corpus)[3])[0]
    assert check is not None
    newest = api.runs(corpus)[0].environment
    env_id, env = next(e for e in environments() if e[0] == newest)
    record = synthetic_record(check.to_dict(), env_id, env, 20_000, random.Random(3))
    path = root / "data" / "results" / env_id / f"{record['record_id']}.json"
    path.write_text(dumps(record))


@pytest.fixture
def project(tmp_path) -> Path:
    return write_corpus(tmp_path / "project", claims=60, files=2, seed=4, records=60)


def test_an_in_place_publish_with_a_side_helper_is_a_cache_free_publish(
    project, tmp_path, monkeypatch
):
    out = tmp_path / "site"
    publish(load_corpus(project), out)
    _new_record(project)
    forked = _forks(monkeypatch)
    result = publish(load_corpus(project), out)
    assert len(forked) == 1 and result.reused == result.claims - 1
    monkeypatch.undo()
    fresh = cache_free_site(project, tmp_path / "fresh")
    mine = site_tree(out)
    assert sorted(mine) == sorted(fresh)
    assert [name for name in mine if mine[name] != fresh[name]] == []
    again = publish(load_corpus(project), tmp_path / "again", full=True)
    assert (result.files, result.pages) == (again.files, again.pages)  # the helper's counted


def _published_with_a_new_record(project: Path, out: Path) -> dict[str, bytes]:
    """A site published at `out`, then one more record: the site's files as they were."""
    publish(load_corpus(project), out)
    before = site_tree(out)
    _new_record(project)
    return before


def _in_the_helper_at_the_last_table(monkeypatch, action) -> None:
    """`action()` in the side helper as it formats the last table, the verdicts (the runs and
    measurements tables staged by then)."""
    main, real = os.getpid(), pages.csv_text
    assert pages.TABLES[-1][0] == "verdicts"

    def csv_text(columns, rows):
        if os.getpid() != main and "kind" not in columns:  # the verdicts: id, then environments
            action()
        return real(columns, rows)

    monkeypatch.setattr(pages, "csv_text", csv_text)


def test_a_side_helper_that_fails_fails_the_publish_and_keeps_the_old_site(
    project, tmp_path, monkeypatch
):
    out = tmp_path / "site"
    before = _published_with_a_new_record(project, out)

    def fail() -> None:
        raise RuntimeError("cannot write the tables")

    _in_the_helper_at_the_last_table(monkeypatch, fail)
    forked = _forks(monkeypatch)
    with pytest.raises(parallel.PublishHelperError, match="RuntimeError: cannot write the tables"):
        publish(load_corpus(project), out)
    assert len(forked) == 1
    assert site_tree(out) == before  # nothing staged by either process is left


def _exited(pid: int) -> bool:
    """Whether the child `pid` has exited and waits to be reaped (Linux's /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.parametrize("helper", ["finished", "stopped"])
def test_a_publish_that_fails_beside_its_side_helper_leaves_nothing_of_it(
    project, tmp_path, monkeypatch, helper
):
    """The main process fails after the helper finished (its staged files come back and are
    removed with the main process's) or while it still works (stopped, it removes them)."""
    out = tmp_path / "site"
    before = _published_with_a_new_record(project, out)
    if helper == "stopped":  # still at work, some tables staged, when the main process fails
        _in_the_helper_at_the_last_table(monkeypatch, lambda: time.sleep(60))

    def method(w, data):
        while helper == "finished" and not _exited(forked[0]):
            time.sleep(0.01)
        raise RuntimeError("the main process failed")

    monkeypatch.setattr(pages, "method", method)
    forked = _forks(monkeypatch)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="the main process failed"):
        publish(load_corpus(project), out)
    assert len(forked) == 1 and time.monotonic() - started < 50  # the helper did not sleep on
    assert site_tree(out) == before
    with pytest.raises(ChildProcessError):
        os.waitpid(forked[0], os.WNOHANG)  # reaped


def test_a_side_helper_only_for_many_runs_and_more_than_one_core(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert not parallel.side_helper_for(parallel.MIN_RUNS - 1)
    assert parallel.side_helper_for(parallel.MIN_RUNS)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert not parallel.side_helper_for(10 * parallel.MIN_RUNS)
