"""`verify results refile`: a record filed under an environment id that the current rule no longer
gives its environment moves to the right folder, its measurements untouched and the move recorded;
nothing is half-done, and a second run changes nothing. Real committed records (one from a CPU
with AVX-512 and one from a CPU without it, both filed under the id they once shared)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from clikit import run_cli

from kg import records, refile
from kg.environments import environment_id

REPO = Path(__file__).resolve().parent.parent
SHARED = "x86-2core-cpu-torch2.13.0-tf2.21.0-jax0.10.2-9facdd"
AVX512_RUN = "20261202T021637Z-inference-latency-3x-cfc4f871.json"  # an AVX-512 host's run
AVX2_RUN = "20261201T142502Z-inference-latency-3x-bd2d7ddf.json"  # the AVX2 host's
AVX512_REPORT = "20261202T020802Z-x86-2core-cpu-torch2.13.0-tf2.21.0-jax0.10.2-9facdd.json"


def _original(name: str) -> Path:
    """The committed record, wherever it is filed now."""
    return next((REPO / "data" / "results").glob(f"*/{name}"))


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "claims").mkdir(parents=True)
    folder = root / "data" / "results" / SHARED
    folder.mkdir(parents=True)
    for name in (AVX512_RUN, AVX2_RUN):
        raw = json.loads(_original(name).read_bytes())
        raw["environment_id"] = SHARED  # as both were filed before the id named AVX-512
        raw.pop("refiled", None)
        (folder / name).write_text(records.dumps(raw))
    calib = root / "data" / "calibration"
    calib.mkdir()
    shutil.copy(REPO / "data" / "calibration" / AVX512_REPORT, calib / AVX512_REPORT)
    report = json.loads((calib / AVX512_REPORT).read_text())
    report["environment_id"] = SHARED
    report.pop("refiled", None)
    (calib / AVX512_REPORT).write_text(json.dumps(report))
    return root


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.json")}


def test_the_avx512_record_moves_with_its_measurements_and_the_other_stays(tmp_path):
    root = _project(tmp_path)
    results = root / "data" / "results"
    before = json.loads((results / SHARED / AVX512_RUN).read_bytes())
    new_id = environment_id(before["environment"])
    assert new_id != SHARED and "-avx512-" in new_id
    report = refile.apply(refile.plan(results, root / "data" / "calibration"))
    assert [(m.old_id, m.new_id) for m in report.records] == [(SHARED, new_id)]
    assert report.unchanged == 1 and not report.rejected
    assert not (results / SHARED / AVX512_RUN).exists()
    assert (results / SHARED / AVX2_RUN).exists()
    moved = records.read_record(results / new_id / AVX512_RUN)  # reads as a valid, filed record
    raw = json.loads((results / new_id / AVX512_RUN).read_bytes())
    assert raw["environment_id"] == new_id and raw["record_id"] == before["record_id"]
    assert {k: v for k, v in raw.items() if k not in ("environment_id", "refiled")} == {
        k: v for k, v in before.items() if k != "environment_id"}  # fmt: skip
    [entry] = moved["refiled"]
    assert entry["from"] == SHARED and entry["to"] == new_id and "names avx512" in entry["reason"]
    calib = json.loads((root / "data" / "calibration" / AVX512_REPORT).read_text())
    assert calib["environment_id"] == new_id and calib["refiled"][0]["from"] == SHARED


def test_refiling_twice_changes_nothing(tmp_path):
    root = _project(tmp_path)
    results, calib = root / "data" / "results", root / "data" / "calibration"
    refile.apply(refile.plan(results, calib))
    after = _tree(root)
    again = refile.plan(results, calib)
    assert not again.records and not again.reports and again.unchanged == 2
    refile.apply(again)
    assert _tree(root) == after


def test_an_interrupted_refile_is_finished_by_the_next_run(tmp_path):
    root = _project(tmp_path)
    results = root / "data" / "results"
    first = refile.plan(results)
    [move] = first.records
    move.dest.parent.mkdir(parents=True)
    move.dest.write_text(move.text)  # the new file written, the old one not yet removed
    second = refile.plan(results)
    assert len(second.records) == 1 and not second.rejected
    refile.apply(second)
    assert not move.source.exists() and move.dest.read_text() == move.text  # not written again


def test_an_unreadable_record_stops_everything_and_the_command_says_so(tmp_path):
    root = _project(tmp_path)
    (root / "data" / "results" / SHARED / "20260101T000000Z-c1-broken.json").write_text("{ no")
    before = _tree(root)
    code, out, err = run_cli(root, "results", "refile")
    assert code == 1 and "not valid JSON" in err and "nothing was changed" in err
    assert _tree(root) == before


def test_the_command_dry_run_says_what_would_move_and_json_lists_the_moves(tmp_path):
    root = _project(tmp_path)
    before = _tree(root)
    code, out, err = run_cli(root, "results", "refile", "--dry-run")
    assert code == 0, err
    assert f"would move 1 record(s): {SHARED} -> " in out and "names avx512" in out
    assert "would re-file calibration report" in out and _tree(root) == before
    code, out, err = run_cli(root, "results", "refile", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["done"] and data["unchanged"] == 1
    assert sorted(m["kind"] for m in data["moves"]) == ["calibration", "record"]
    code, out, _ = run_cli(root, "results", "refile")
    assert code == 0 and "2 record(s) already filed" in out and "move" not in out
