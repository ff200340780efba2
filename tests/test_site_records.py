"""Raw records in the site: hard links to data/results/ (no bytes copied), else links to the
previous site's copies, else copies; the site's bytes are the same whichever way they came."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from site_project import site_tree
from synth import write_corpus

from kg import paths
from kg.load import load_corpus
from kg.records import record_files
from verify.publish import incremental
from verify.publish.build import publish


@pytest.fixture
def synthetic(tmp_path) -> Path:
    return write_corpus(tmp_path / "project", claims=20, files=1, seed=9, records=15)


def _site_record(site: Path, root: Path, record: Path) -> Path:
    return site / "records" / record.relative_to(paths.results_dir(root))


def test_publish_hard_links_raw_records(synthetic, tmp_path):
    publish(load_corpus(synthetic), tmp_path / "site")
    records = record_files(paths.results_dir(synthetic))
    assert len(records) == 15
    for rec in records:
        assert _site_record(tmp_path / "site", synthetic, rec).stat().st_ino == rec.stat().st_ino


def test_publish_copies_raw_records_when_no_link_can_be_made(synthetic, tmp_path, monkeypatch):
    publish(load_corpus(synthetic), tmp_path / "linked")

    def refuse(src, dest, **kw):
        raise OSError(errno.EPERM, "links not allowed here")

    monkeypatch.setattr(incremental.os, "link", refuse)
    publish(load_corpus(synthetic), tmp_path / "copied")
    for rec in record_files(paths.results_dir(synthetic)):
        copy = _site_record(tmp_path / "copied", synthetic, rec)
        assert copy.stat().st_ino != rec.stat().st_ino and copy.read_bytes() == rec.read_bytes()
    assert site_tree(tmp_path / "copied") == site_tree(tmp_path / "linked")


def test_publish_links_the_previous_sites_copies_across_file_systems(
    synthetic, tmp_path, monkeypatch
):
    results = str(paths.results_dir(synthetic).resolve())
    real = os.link

    def cross_device(src, dest, **kw):  # data/results/ as if on another file system
        if str(src).startswith(results):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real(src, dest, **kw)

    monkeypatch.setattr(incremental.os, "link", cross_device)
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    rec = record_files(paths.results_dir(synthetic))[0]
    first = _site_record(site, synthetic, rec)
    inode = first.stat().st_ino
    assert inode != rec.stat().st_ino  # a copy: nothing to link from yet
    publish(load_corpus(synthetic), site)  # the previous site is there to link from
    again = _site_record(site, synthetic, rec)
    assert again.stat().st_ino == inode and again.read_bytes() == rec.read_bytes()


def test_publish_leaves_out_a_record_that_links_out_of_the_results(synthetic, tmp_path):
    records = record_files(paths.results_dir(synthetic))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    moved = outside / records[0].name
    records[0].rename(moved)
    records[0].symlink_to(moved)
    site = tmp_path / "site"
    publish(load_corpus(synthetic, use_cache=False), site, skip_invalid_records=True)
    assert not _site_record(site, synthetic, records[0]).exists()
    assert all(_site_record(site, synthetic, rec).is_file() for rec in records[1:])
