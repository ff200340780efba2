"""Run records (atomic, append-only, versioned) and the environment they are filed under."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kg.errors import RecordError
from verify import environment, records

REPO = Path(__file__).resolve().parent.parent


def _record(claim_id: str = "c1", started: str = "2025-01-02T03:04:05.000000Z") -> dict:
    return {"schema_version": 1, "record_id": "r", "claim_id": claim_id, "started": started,
            "errors": []}  # fmt: skip


def test_record_path_is_in_the_environment_folder_and_sorts_by_time(tmp_path):
    p = records.record_path(
        tmp_path, "x86-2core-cpu", "inference-latency-3x", "2025-01-02T03:04:05.1Z"
    )
    assert p.parent == tmp_path / "x86-2core-cpu"
    assert re.fullmatch(r"20250102T030405Z-inference-latency-3x-[0-9a-f]{8}\.json", p.name)


def test_write_record_leaves_only_the_finished_file(tmp_path):
    path = records.write_record(_record(), tmp_path / "env" / "a.json")
    assert [p.name for p in path.parent.iterdir()] == ["a.json"]
    assert records.load_record(path)["claim_id"] == "c1"


def test_write_record_makes_an_ordinary_file_that_others_can_read(tmp_path):
    old = os.umask(0o022)
    try:
        path = records.write_record(_record(), tmp_path / "a.json")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_write_record_never_overwrites(tmp_path):
    path = records.write_record(_record(), tmp_path / "a.json")
    with pytest.raises(RecordError, match="append-only"):
        records.write_record(_record("c2"), path)
    assert records.load_record(path)["claim_id"] == "c1"


def test_write_record_rejects_nan_and_leaves_no_temp_file(tmp_path):
    with pytest.raises(ValueError):
        records.write_record({**_record(), "x": float("nan")}, tmp_path / "a.json")
    assert list(tmp_path.iterdir()) == []


def test_load_record_refuses_a_newer_schema_and_says_to_upgrade(tmp_path):
    path = tmp_path / "new.json"
    path.write_text(json.dumps({**_record(), "schema_version": 99}))
    with pytest.raises(RecordError, match=r"new\.json.*schema_version 99.*upgrade fwclaims"):
        records.load_record(path)


def test_load_record_upgrades_older_versions(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"schema_version": 0, "claim_id": "c1"}))
    record = records.load_record(path)
    assert record["schema_version"] == records.SCHEMA_VERSION and record["errors"] == []


@pytest.mark.parametrize("text", ["{", "[1, 2]", '{"claim_id": "c"}'])
def test_load_record_rejects_what_is_not_a_record(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(RecordError, match="bad.json"):
        records.load_record(path)


def test_list_records_filters_by_claim_and_sorts_by_start(tmp_path):
    for claim_id, started in (("b", "2025-02-01T00:00:00Z"), ("a", "2025-01-01T00:00:00Z"),
                              ("b", "2025-01-15T00:00:00Z")):  # fmt: skip
        path = records.record_path(tmp_path, "env", claim_id, started)
        records.write_record(_record(claim_id, started), path)
    found = records.list_records(tmp_path, "b")
    assert [r["started"] for _, r in found] == ["2025-01-15T00:00:00Z", "2025-02-01T00:00:00Z"]


def test_code_hash_follows_the_modules_a_benchmark_imports(tmp_path, monkeypatch):
    bench = tmp_path / "verify" / "benchmarks"
    bench.mkdir(parents=True)
    (bench / "timed.py").write_text("from verify.benchmarks import helper\n")
    (bench / "helper.py").write_text("X = 1\n")
    (bench / "unrelated.py").write_text("Y = 1\n")
    monkeypatch.setattr(records, "PACKAGE_ROOT", tmp_path)
    before = records.code_hash("verify.benchmarks.timed")
    (bench / "unrelated.py").write_text("Y = 2\n")
    assert records.code_hash("verify.benchmarks.timed") == before
    (bench / "helper.py").write_text("X = 2\n")
    assert records.code_hash("verify.benchmarks.timed") != before


def test_environment_id_is_readable_and_stable():
    first, second = environment.collect(), environment.collect()
    env_id = environment.environment_id(first)
    assert env_id == environment.environment_id(second)
    assert re.fullmatch(r"[a-z0-9]+-\d+core-[a-z0-9.-]+-[0-9a-f]{6}", env_id)
    if first["packages"]["torch"]:
        assert f"torch{first['packages']['torch'].split('+')[0]}" in env_id


def test_environment_id_changes_with_framework_versions():
    env = environment.collect()
    bumped = {**env, "packages": {**env["packages"], "torch": "9.9.9"}}
    assert environment.environment_id(bumped) != environment.environment_id(env)


def test_environment_never_imports_a_framework():
    code = (
        "import sys; from verify import environment as e; e.environment_id(e.collect());"
        "print([m for m in ('torch', 'tensorflow', 'keras', 'jax') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
