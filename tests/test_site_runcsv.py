"""data/measurements.csv from per-environment parts: only new or changed runs are formatted again,
only their environment's part is written (the new runs' lines appended), and the text is always
that of formatting every row afresh."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest
from synth import environments, synthetic_record, write_corpus

from kg import api, frames, paths
from kg.load import load_corpus
from kg.records import dumps, record_files
from verify.publish import runcsv
from verify.publish.build import publish
from verify.publish.sitedata import gather


@pytest.fixture
def synthetic(tmp_path) -> Path:
    return write_corpus(tmp_path / "project", claims=40, files=2, seed=11, records=60)


def _fresh(root: Path) -> bytes:
    """The download as the rows of kg.frames, formatted in one go."""
    corpus = load_corpus(root, use_cache=False)
    buf = io.StringIO()
    w = csv.DictWriter(
        buf, fieldnames=runcsv.MEASUREMENTS.columns, lineterminator="\n", extrasaction="ignore"
    )
    w.writeheader()
    w.writerows(frames.measurement_rows(corpus))
    return buf.getvalue().encode()


def _csv(root: Path, **kw) -> bytes:
    corpus = load_corpus(root)
    return runcsv.measurements_csv(corpus, gather(corpus, documents=False), **kw)


def _parts(root: Path) -> dict[str, tuple[int, int]]:
    folder = paths.cache_dir(root) / runcsv.MEASUREMENTS.folder
    return {p.name: (p.stat().st_ino, p.stat().st_size) for p in sorted(folder.iterdir())}


def _index(root: Path, env_id: str | None = None) -> Path:
    """A part's index: the environment's, or the largest."""
    folder = paths.cache_dir(root) / runcsv.MEASUREMENTS.folder
    if env_id is not None:
        return folder / f"{env_id}.index"
    return max(folder.glob("*.index"), key=lambda p: p.stat().st_size)


def _spy_on(monkeypatch, maker: str) -> list[list[str]]:
    """The runs kg.frames' `maker` is asked to make rows of, call by call."""
    calls: list[list[str]] = []
    real = getattr(frames, maker)

    def rows(corpus, runs=None):
        runs = list(runs) if runs is not None else api.runs(corpus)
        calls.append([r.run for r in runs])
        return real(corpus, runs)

    monkeypatch.setattr(frames, maker, rows)
    return calls


@pytest.fixture
def spy(monkeypatch) -> list[list[str]]:
    """The runs kg.frames is asked to make measurement rows of, call by call."""
    return _spy_on(monkeypatch, "measurement_rows")


def _add_record(root: Path, env_index: int) -> dict:
    corpus = load_corpus(root, use_cache=False)
    check = next(c for cid in api.checkable_claim_ids(corpus)
                 for c in api.claim_checks(corpus, cid) if c.benchmark_type == "benchmark")  # fmt: skip
    env_id, env = environments()[env_index]
    rec = synthetic_record(check.to_dict(), env_id, env, 77_777, random.Random(3))
    path = paths.results_dir(root) / env_id / f"{rec['record_id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(rec))
    return rec


def test_runcsv_cached_text_equals_rows_formatted_afresh(synthetic, spy):
    first = _csv(synthetic)
    assert first == _fresh(synthetic) and first.count(b"\n") > 100
    calls = len(spy)
    assert _csv(synthetic) == first and len(spy) == calls  # nothing formatted the second time
    assert _csv(synthetic, use_cache=False) == first


def test_runcsv_new_record_formats_only_its_run_and_appends_only_to_its_part(synthetic, spy):
    _csv(synthetic)
    before = _parts(synthetic)
    assert len(before) > 1
    rec = _add_record(synthetic, 0)
    spy.clear()
    text = _csv(synthetic)
    assert [r for call in spy for r in call] == [rec["record_id"]]
    after = _parts(synthetic)
    changed = sorted(name for name in after if after[name] != before.get(name))
    env = rec["environment_id"]
    assert changed == [f"{env}.csv", f"{env}.index"]
    assert all(after[name][0] == before[name][0] for name in changed)  # appended to, not rewritten
    assert text == _fresh(synthetic)


def test_runcsv_removed_or_changed_record_gives_the_fresh_text(synthetic):
    _csv(synthetic)
    timed = [
        f for f in record_files(paths.results_dir(synthetic)) if json.loads(f.read_text())["cells"]
    ]
    timed[0].unlink()
    data = json.loads(timed[1].read_text())
    data["ended"] = data["ended"].replace(":40.", ":45.")  # a column of every row of the run
    timed[1].write_text(dumps(data))
    assert _csv(synthetic) == _fresh(synthetic)


def test_runcsv_damaged_part_is_made_afresh(synthetic):
    _csv(synthetic)
    folder = paths.cache_dir(synthetic) / runcsv.MEASUREMENTS.folder
    for p in folder.glob("*.index"):
        p.write_text('{"stamp": 1, "runs": [')
    assert _csv(synthetic) == _fresh(synthetic)
    for p in folder.glob("*.csv"):  # texts of another writing than their index names
        p.write_bytes(b"fwclaims-measurements-part 0000\n" + p.read_bytes().split(b"\n", 1)[1])
    assert _csv(synthetic) == _fresh(synthetic)


def test_runcsv_damaged_line_inside_a_part_formats_only_its_run_again(synthetic, spy):
    _csv(synthetic)
    part = _index(synthetic)
    lines = part.read_text().split("\n")
    damaged = json.loads(lines[2])[0]
    lines[2] = lines[2][:30]  # one run's line cut short, the lines around it whole
    part.write_text("\n".join(lines))
    spy.clear()
    text = _csv(synthetic)
    assert [r for call in spy for r in call] == [damaged]
    assert text == _fresh(synthetic)
    assert all(json.loads(line) for line in part.read_text().splitlines())  # written whole again


def test_runcsv_index_line_pointing_at_another_runs_text_formats_its_run_again(synthetic, spy):
    _csv(synthetic)
    part = _index(synthetic)
    lines = part.read_text().split("\n")
    run, made, start, size = json.loads(lines[2])
    other = json.loads(lines[3])
    lines[2] = json.dumps([run, made, other[2], size])  # another run's place, its own length
    part.write_text("\n".join(lines))
    spy.clear()
    text = _csv(synthetic)
    assert [r for call in spy for r in call] == [run]
    assert text == _fresh(synthetic)


def test_runcsv_part_with_a_half_written_line_is_written_whole_again(synthetic):
    _csv(synthetic)
    rec = _add_record(synthetic, 0)
    part = _index(synthetic, rec["environment_id"])
    good = part.read_text()
    part.write_text(good + good.splitlines()[1][:40])  # a publish stopped while appending
    assert _csv(synthetic) == _fresh(synthetic)
    assert part.read_text().endswith("\n") and part.read_text().count("\n") == good.count("\n") + 1
    assert _csv(synthetic) == _fresh(synthetic)


def test_runcsv_texts_cut_short_are_formatted_again(synthetic, spy):
    _csv(synthetic)
    texts = _index(synthetic).with_suffix(".csv")
    texts.write_bytes(texts.read_bytes()[:-5])  # the last run's text no longer whole
    spy.clear()
    text = _csv(synthetic)
    assert len([r for call in spy for r in call]) == 1
    assert text == _fresh(synthetic)


def test_publish_writes_the_measurements_download_from_the_parts(synthetic, tmp_path):
    publish(load_corpus(synthetic), tmp_path / "site")
    _add_record(synthetic, 1)
    publish(load_corpus(synthetic), tmp_path / "site")
    text = (tmp_path / "site" / "data" / "measurements.csv").read_bytes()
    assert text == _fresh(synthetic)


def _fresh_runs(root: Path) -> bytes:
    corpus = load_corpus(root, use_cache=False)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=runcsv.RUNS.columns, lineterminator="\n")
    w.writeheader()
    w.writerows(frames.run_rows(corpus))
    return buf.getvalue().encode()


def test_runs_download_comes_from_its_own_parts_and_formats_only_a_new_run(synthetic, monkeypatch):
    calls = _spy_on(monkeypatch, "run_rows")

    def runs_csv(**kw) -> bytes:
        corpus = load_corpus(synthetic)
        return b"".join(runcsv.download(corpus, gather(corpus, documents=False), "runs", **kw))

    first = runs_csv()
    assert first == _fresh_runs(synthetic) and first.count(b"\n") == 61
    assert len(calls[-1]) == 60
    calls.clear()
    assert runs_csv() == first and calls == []  # every run's line from the parts
    assert (paths.cache_dir(synthetic) / runcsv.RUNS.folder).is_dir()
    rec = _add_record(synthetic, 2)
    text = runs_csv()
    assert [r for call in calls for r in call] == [rec["record_id"]]
    assert text == _fresh_runs(synthetic) == runs_csv(use_cache=False)


def test_publish_keeps_the_claims_download_until_a_claim_file_changes(synthetic, tmp_path):
    site = tmp_path / "site"
    publish(load_corpus(synthetic), site)
    claims_csv = site / "data" / "claims.csv"
    inode = claims_csv.stat().st_ino
    _add_record(synthetic, 1)
    publish(load_corpus(synthetic), site)
    assert claims_csv.stat().st_ino == inode  # not written again
    assert (site / "data" / "runs.csv").read_bytes() == _fresh_runs(synthetic)
    claim_file = synthetic / "claims" / "synthetic-000.ttl"
    text = claim_file.read_text()
    assert ", in setting 0." in text
    claim_file.write_text(text.replace(", in setting 0.", ", in setting zero.", 1))
    publish(load_corpus(synthetic), site)
    fresh = tmp_path / "fresh"
    publish(load_corpus(synthetic, use_cache=False), fresh, cache=False)
    assert claims_csv.stat().st_ino != inode
    assert claims_csv.read_bytes() == (fresh / "data" / "claims.csv").read_bytes()
    assert b"in setting zero." in claims_csv.read_bytes()
