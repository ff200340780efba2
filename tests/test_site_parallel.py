"""Claim pages rendered by helper processes (verify.publish.parallel): the site is byte for byte
the one a single process writes, the counts add up, and a helper that fails makes the publish
fail without touching the previous site or leaving a half-written folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from site_project import site_tree
from synth import write_corpus

from kg.load import load_corpus
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


def test_an_in_place_publish_renders_in_one_process(synthetic, tmp_path, monkeypatch):
    corpus = load_corpus(synthetic)
    out = tmp_path / "site"
    publish(corpus, out, full=True)

    def fork() -> int:
        raise AssertionError("an in-place publish forked a helper")

    monkeypatch.setattr(parallel.os, "fork", fork)
    monkeypatch.setattr(writer, "helpers_for", lambda claims, minimum=0: 2)
    publish(corpus, out, cache=False)  # over the previous site: staged files stay this process's
