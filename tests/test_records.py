"""Run records: one reader and writer (kg.records), atomic, append-only, versioned, validated."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from recordkit import ENV, minimal_record

from kg import records
from kg.environments import environment_id
from kg.errors import RecordError
from verify.run import environment

REPO = Path(__file__).resolve().parent.parent
V1 = Path(__file__).with_name("fixtures") / "record-v1.json"


def _path(tmp_path: Path, record_id: str = "r", env: str = ENV) -> Path:
    return tmp_path / env / f"{record_id}.json"


def test_record_path_is_in_the_environment_folder_and_sorts_by_time(tmp_path):
    p = records.record_path(
        tmp_path, "x86-2core-cpu", "inference-latency-3x", "2025-01-02T03:04:05.1Z"
    )
    assert p.parent == tmp_path / "x86-2core-cpu"
    assert re.fullmatch(r"20250102T030405Z-inference-latency-3x-[0-9a-f]{8}\.json", p.name)


def test_record_path_refuses_an_id_that_cannot_be_a_file_name(tmp_path):
    with pytest.raises(RecordError, match="cannot name a record"):
        records.record_path(tmp_path, "../up", "c1", "2025-01-02T03:04:05Z")


def test_write_record_leaves_only_the_finished_file(tmp_path):
    path = records.write_record(minimal_record(), _path(tmp_path))
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]
    assert records.read_record(path)["claim_id"] == "c1"


def test_write_record_makes_an_ordinary_file_that_others_can_read(tmp_path):
    old = os.umask(0o022)
    try:
        path = records.write_record(minimal_record(), _path(tmp_path))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_write_record_never_overwrites(tmp_path):
    path = records.write_record(minimal_record(), _path(tmp_path))
    with pytest.raises(RecordError, match="append-only"):
        records.write_record(minimal_record("c2"), path)
    assert records.read_record(path)["claim_id"] == "c1"


def test_write_record_rejects_nan_and_leaves_no_temp_file(tmp_path):
    with pytest.raises(ValueError):
        records.write_record({**minimal_record(), "x": float("nan")}, _path(tmp_path))
    assert list((tmp_path / ENV).iterdir()) == []


def test_write_record_refuses_a_record_the_schema_rejects(tmp_path):
    bad = minimal_record()
    bad["verdict"]["label"] = "maybe"
    with pytest.raises(RecordError, match=r"verdict\.label"):
        records.write_record(bad, _path(tmp_path))
    assert not (tmp_path / ENV).exists()


def test_read_record_refuses_a_newer_schema_and_says_to_upgrade(tmp_path):
    path = _path(tmp_path)
    path.parent.mkdir()
    path.write_text(json.dumps({**minimal_record(), "schema_version": 99}))
    with pytest.raises(RecordError, match=r"r\.json.*schema_version 99.*newer.*upgrade fwclaims"):
        records.read_record(path)


def test_read_record_upgrades_a_version_1_record_and_its_code_hash(tmp_path):
    path = (
        tmp_path
        / "x86-2core-cpu-torch2.13.0-tf2.21.0-abc123"
        / ("20261121T180000Z-fixture-latency-0f3c2a9b.json")
    )
    path.parent.mkdir()
    path.write_bytes(V1.read_bytes())
    record = records.read_record(path)
    assert record["schema_version"] == records.SCHEMA_VERSION == 2
    assert "benchmark_code_sha256" not in record
    # a hash no committed record holds stays as it was, marked as the raw-source kind
    assert record["benchmark_code"] == {"method": "raw-source", "sha256": "00aa" * 16}


def test_legacy_code_hashes_cover_every_committed_version_1_record():
    table = json.loads(records.LEGACY_HASHES.read_text())["hashes"]
    for path in (REPO / "data" / "results").glob("*/*.json"):
        raw = json.loads(path.read_text())
        if raw["schema_version"] == 1:
            key = f"{raw['git_commit']}:{raw['check']['module']}:{raw['benchmark_code_sha256']}"
            assert key in table, path
            assert records.read_record(path)["benchmark_code"]["method"] == records.CODE_METHOD


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"{", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"claim_id": "c"}', "no integer schema_version"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"schema_version": 2, "x": NaN}', "NaN is not a JSON number"),
    ],
)
def test_read_record_says_what_is_wrong_with_a_file_that_is_not_a_record(tmp_path, text, message):
    path = _path(tmp_path, "bad")
    path.parent.mkdir()
    path.write_bytes(text)
    with pytest.raises(RecordError, match=rf"bad\.json.*{message}"):
        records.read_record(path)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"verdict": {"label": "holds", "explanation": 3}}, "verdict.explanation"),
        ({"cells": "none"}, "cells"),
        ({"claim_id": "a> <b"}, "claim_id"),
        ({"record_id": "has space"}, "record_id"),
        ({"status": "fine"}, "status"),
    ],
)
def test_read_record_names_the_field_the_schema_rejects(tmp_path, change, field):
    path = _path(tmp_path)
    path.parent.mkdir()
    path.write_text(json.dumps({**minimal_record(), **change}))
    with pytest.raises(RecordError, match=re.escape(field)):
        records.read_record(path)


def test_read_record_refuses_a_renamed_or_misfiled_record(tmp_path):
    path = _path(tmp_path, "other")
    path.parent.mkdir()
    path.write_text(json.dumps(minimal_record()))
    with pytest.raises(RecordError, match="not the file's name"):
        records.read_record(path)
    moved = tmp_path / "elsewhere" / "r.json"
    moved.parent.mkdir()
    moved.write_text(json.dumps(minimal_record()))
    with pytest.raises(RecordError, match=f"move it to data/results/{ENV}/"):
        records.read_record(moved)


def test_list_records_filters_by_claim_sorts_newest_first_and_reports_bad_files(tmp_path):
    for claim_id, started in (("b", "2025-02-01T00:00:00Z"), ("a", "2025-01-01T00:00:00Z"),
                              ("b", "2025-01-15T00:00:00Z")):  # fmt: skip
        path = records.record_path(tmp_path, ENV, claim_id, started)
        records.write_record(minimal_record(claim_id, started, record_id=path.stem), path)
    (tmp_path / ENV / "broken.json").write_text("{")
    found, bad = records.list_records(tmp_path, "b")
    assert [r["started"] for _, r in found] == ["2025-02-01T00:00:00Z", "2025-01-15T00:00:00Z"]
    assert len(bad) == 1 and "broken.json" in str(bad[0])


def test_environment_id_is_readable_and_stable():
    first, second = environment.collect(), environment.collect()
    env_id = environment_id(first)
    assert env_id == environment_id(second)
    assert re.fullmatch(r"[a-z0-9]+-\d+core-[a-z0-9.-]+-[0-9a-f]{6}", env_id)
    if first["packages"]["torch"]:
        assert f"torch{first['packages']['torch'].split('+')[0]}" in env_id


def test_environment_id_changes_with_framework_versions():
    env = environment.collect()
    bumped = {**env, "packages": {**env["packages"], "torch": "9.9.9"}}
    assert environment_id(bumped) != environment_id(env)


def test_environment_never_imports_a_framework():
    code = (
        "import sys; from verify.run import environment as e; from kg.environments import"
        " environment_id; environment_id(e.collect());"
        "print([m for m in ('torch', 'tensorflow', 'keras', 'jax') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
