"""pytest-benchmark interop: a run record exported as pytest-benchmark JSON that the real
`pytest-benchmark compare` reads, and a real pytest-benchmark file imported as published evidence
for a claim, with its machine as the hardware."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from clikit import verify
from site_project import CPU_ENV, make_project

from kg import api, benchjson
from kg.errors import UnknownClaim
from kg.load import load_corpus
from kg.records import record_files

BIN = Path(sys.executable).parent


@pytest.fixture
def site_root(tmp_path) -> Path:
    return make_project(tmp_path / "project")


def test_stats_follow_pytest_benchmark_definitions():
    from pytest_benchmark.stats import Stats

    data = [0.5, 0.1, 0.2, 0.9, 0.3, 0.25, 0.4]
    theirs = Stats()
    for x in data:
        theirs.update(x)
    ours = benchjson.stats(data)
    for key in ("min", "max", "mean", "stddev", "median", "q1", "q3", "iqr", "ld15iqr",
                "hd15iqr", "ops", "rounds", "outliers"):  # fmt: skip
        assert ours[key] == pytest.approx(getattr(theirs, key)), key


def test_record_exports_one_benchmark_per_cell_and_tier(site_root):
    path = next(p for p in record_files(site_root / "data" / "results") if "11111111" in p.name)
    doc = benchjson.to_pytest_benchmark(json.loads(path.read_text()))
    assert doc["machine_info"]["fwclaims_environment_id"] == CPU_ENV
    assert doc["commit_info"]["project"] == "fwclaims"
    names = [b["name"] for b in doc["benchmarks"]]
    assert len(names) == 4 and len(set(names)) == 4  # 2 cells x 2 tiers
    assert all(b["stats"]["rounds"] > 0 and b["stats"]["median"] > 0 for b in doc["benchmarks"])


def test_pytest_benchmark_compare_reads_two_exported_runs(site_root, tmp_path):
    folder = site_root / "data" / "results"
    files = []
    for n, path in enumerate(p for p in record_files(folder) if "fixture-latency" in p.name):
        out = tmp_path / f"run{n}.json"
        done = verify(site_root, "results", "pytest-benchmark", str(path), "-o", str(out))
        assert done.returncode == 0, done.stderr
        files.append(str(out))
    compared = subprocess.run([str(BIN / "pytest-benchmark"), "compare", *files,
                               "--group-by", "name"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert compared.returncode == 0, compared.stderr
    assert "fixture-latency[" in compared.stdout and "Median" in compared.stdout


def _real_benchmark_file(tmp_path: Path) -> Path:
    """A file written by pytest-benchmark itself, from a tiny suite."""
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_speed.py").write_text(
        "def test_sum(benchmark):\n    benchmark(sum, range(100))\n\n"
        "def test_sorted(benchmark):\n    benchmark(sorted, list(range(100, 0, -1)))\n"
    )
    out = tmp_path / "team-suite.json"
    # the inner pytest is a suite of its own: the outer run's xdist worker variables would make
    # pytest-benchmark think it runs under xdist and leave its benchmarks (and the file) out
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite),
         "--benchmark-json", str(out), "--benchmark-max-time=0.05", "-o", "addopts="],
        capture_output=True, text=True, timeout=120, cwd=suite, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_imported_pytest_benchmark_file_is_evidence_for_the_claim(site_root, tmp_path):
    data = _real_benchmark_file(tmp_path)
    done = verify(site_root, "evidence", "pytest-benchmark", str(data), "--claim",
                  "fixture-latency", "--framework", "torch")  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = api.evidence(load_corpus(site_root, use_cache=False), "fixture-latency")
    mine = [r for r in rows if r.source.startswith("pytest-benchmark-")]
    assert sorted(r.name for r in mine) == ["test_sorted", "test_sum"]
    machine = benchjson.machine_text(json.loads(data.read_text())["machine_info"])
    assert all(r.hardware == machine and r.unit == "s" and r.value > 0 for r in mine)
    assert all(r.framework == "torch" for r in mine)


def test_import_for_an_unknown_claim_keeps_nothing(site_root, tmp_path):
    data = _real_benchmark_file(tmp_path)
    with pytest.raises(UnknownClaim):
        benchjson.import_file(site_root, data, ["no-such-claim"])
    assert not list((site_root / "data" / "snapshots").glob("pytest-benchmark-*"))
    done = verify(site_root, "evidence", "pytest-benchmark", str(data), "--claim", "nope-claim")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_import_refuses_a_file_that_is_not_pytest_benchmark_json(site_root, tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"results": []}')
    done = verify(site_root, "evidence", "pytest-benchmark", str(bad), "--claim", "fixture-latency")
    assert done.returncode == 2 and "no 'benchmarks' list" in done.stderr
