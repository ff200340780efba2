"""`verify run` leaves nothing behind: no worker, no process a worker started, no scratch folder,
whichever way it ends; and a measurement is never lost to a results folder that refuses it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from kg.model import Check
from verify.run import cleanup
from verify.run.engine import run_check
from verify.run.options import RunOptions

REPO = Path(__file__).resolve().parent.parent
ENV = {"cpu": {"arch": "x86_64", "model": "test"}, "cores_logical": 2, "ram_bytes": 2**30,
       "gpus": [], "os": {"system": "Linux"}, "python": "3.11.0", "packages": {}}  # fmt: skip
SELFTEST_BENCH = """
bench:selftest a fwc:Benchmark ;
    schema:identifier "selftest" ;
    rdfs:label "Runner self-test" ;
    schema:description "A numpy matrix product timed against itself, for testing the runner." ;
    fwc:module "verify.benchmarks.selftest" ;
    fwc:parameterName "sizes", "work" ;
    fwc:tier "numpy-a", "numpy-b" .
"""
SELFTEST_CLAIM = """@prefix fwc:    <https://w3id.org/fwclaims/ns#> .
@prefix claim:  <https://w3id.org/fwclaims/claim/> .
@prefix src:    <https://w3id.org/fwclaims/source/> .
@prefix bench:  <https://w3id.org/fwclaims/benchmark/> .
@prefix schema: <http://schema.org/> .

claim:selftest-tie a fwc:PerformanceClaim ;
    schema:identifier "selftest-tie" ;
    schema:text "Two identical numpy tiers take about the same time per call." ;
    fwc:category fwc:InferenceLatency ;
    schema:appearance [ a fwc:Appearance ;
        schema:isPartOf src:survey-patterns-article ;
        fwc:locator "nowhere: a test claim" ] ;
    fwc:restsOn "the runner's own tests" ;
    fwc:condition [ a fwc:Conditions ; fwc:device fwc:AnyDevice ] ;
    fwc:checkedBy [ a fwc:Check ;
        fwc:benchmark bench:selftest ;
        fwc:parameters \"\"\"{"sizes": [16]}\"\"\" ;
        fwc:rule [ a fwc:DecisionRule ;
            fwc:metric "median_latency" ;
            fwc:better "lower" ;
            fwc:subject "numpy-a" ;
            fwc:baseline "numpy-b" ;
            fwc:threshold 1.0 ;
            fwc:tolerance 0.1 ;
            fwc:quantifier fwc:About ] ] .
"""


@pytest.fixture
def selftest_project(tmp_path: Path) -> Path:
    """A project whose one claim is checked by the selftest benchmark."""
    claims = tmp_path / "project" / "claims"
    claims.mkdir(parents=True)
    shutil.copy(REPO / "claims" / "sources.ttl", claims / "sources.ttl")
    benches = (REPO / "claims" / "benchmarks.ttl").read_text(encoding="utf-8")
    (claims / "benchmarks.ttl").write_text(benches + SELFTEST_BENCH, encoding="utf-8")
    (claims / "selftest.ttl").write_text(SELFTEST_CLAIM, encoding="utf-8")
    return tmp_path / "project"


def _env(tmp_path: Path, project: Path) -> dict[str, str]:
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    return {**os.environ, "FWCLAIMS_ROOT": str(project), "TMPDIR": str(scratch),
            "XDG_CACHE_HOME": str(tmp_path / "cache")}  # fmt: skip


def _start_run(tmp_path: Path, project: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "verify", "run", "--claim", "selftest-tie", "--budget", "60",
         "--results-dir", str(tmp_path / "results"), *extra],
        cwd=REPO, env=_env(tmp_path, project), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _wait_for_workers(proc: subprocess.Popen[str]) -> list[psutil.Process]:
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    while len(parent.children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = parent.children(recursive=True)
    assert len(workers) >= 2, "the run never started its workers"
    time.sleep(1.0)  # well into measuring
    return parent.children(recursive=True)


def _gone(procs: list[psutil.Process]) -> bool:
    _, alive = psutil.wait_procs(procs, timeout=10)
    for p in alive:
        p.kill()  # do not leak them if the assertion fails
    return not alive


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_stopped_by_a_signal_removes_workers_and_scratch_folders(
    tmp_path, selftest_project, sig
):
    proc = _start_run(tmp_path, selftest_project)
    started = _wait_for_workers(proc)
    assert list((tmp_path / "tmp").glob(f"fwclaims-{proc.pid}-*")), "no scratch folder to remove"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig
    assert "stopped" in err and "Traceback" not in err
    assert _gone(started), "a worker outlived the run"
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("*.json"))


def test_scratch_folders_of_a_killed_run_are_removed_by_the_next(tmp_path, selftest_project):
    proc = _start_run(tmp_path, selftest_project)
    started = _wait_for_workers(proc)
    proc.kill()
    proc.communicate(timeout=30)
    assert _gone(started), "workers outlived their killed parent"
    left = list((tmp_path / "tmp").glob(f"fwclaims-{proc.pid}-*"))
    assert left, "a SIGKILLed run cannot remove its folder; the next run must"
    again = subprocess.run(
        [sys.executable, "-m", "verify", "run", "--claim", "selftest-tie", "--budget", "0.5",
         "--results-dir", str(tmp_path / "results")],
        cwd=REPO, env=_env(tmp_path, selftest_project), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert not any(p.exists() for p in left)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_remove_stale_keeps_live_folders_and_removes_dead_and_reused_ones(tmp_path):
    now = int(time.time() * 1000)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = tmp_path / f"fwclaims-{os.getpid()}-{now}-live"
    gone = tmp_path / f"fwclaims-child-{dead.pid}-{now}-gone"
    reused = tmp_path / f"fwclaims-{os.getpid()}-1000-reused"  # this pid, but a folder from 1970
    other = tmp_path / "fwclaims-unrelated"
    for folder in (live, gone, reused, other):
        folder.mkdir()
        (folder / "f").write_text("x")
    removed = cleanup.remove_stale(tmp_path)
    assert sorted(removed) == sorted([gone, reused])
    assert live.is_dir() and other.is_dir()


def test_a_killed_worker_takes_the_processes_it_started_with_it(tmp_path):
    pid_file = tmp_path / "child.pid"
    check = Check.from_dict({
        "claim_id": "selftest-claim", "kind": "performance", "benchmark": "selftest",
        "module": "verify.benchmarks.selftest", "benchmark_type": "benchmark",
        "parameters": {"sizes": [16], "spawn_child": str(pid_file), "hang": True,
                       "fault_stage": "open", "fault_tier": "numpy-a"},
        "rule": {"metric": "median_latency", "better": "lower", "subject": "numpy-a",
                 "baseline": "numpy-b", "threshold": 1.0, "tolerance": 0.1, "quantifier": "about"},
    })  # fmt: skip
    opts = RunOptions(budget=0.5, setup_timeout=3, sample_timeout=3, mem_cap_mb=400,
                      results_dir=tmp_path / "results")  # fmt: skip
    result = run_check(check, opts, environment=ENV)
    assert result.status == "error" and "hung" in result.reason
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while psutil.pid_exists(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = psutil.pid_exists(child) and psutil.Process(child).status() != psutil.STATUS_ZOMBIE
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive, "a process the worker started in its own session outlived the worker"


def test_run_into_a_results_folder_that_cannot_be_written_measures_nothing(
    tmp_path, selftest_project
):
    blocked = tmp_path / "results-is-a-file"
    blocked.write_text("not a folder")
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "verify", "run", "--claim", "selftest-tie", "--results-dir",
         str(blocked)],
        cwd=REPO, env=_env(tmp_path, selftest_project), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"cannot write run records in {blocked}" in out.stderr
    assert "nothing was measured" in out.stderr
    assert time.monotonic() - t0 < 30


def test_record_that_cannot_be_written_is_kept_elsewhere_and_the_run_says_where(
    tmp_path, selftest_project
):
    env = _env(tmp_path, selftest_project)
    args = [sys.executable, "-m", "verify", "run", "--claim", "selftest-tie", "--budget", "0.5",
            "--json", "--results-dir"]  # fmt: skip
    first = subprocess.run([*args, str(tmp_path / "r1")], cwd=REPO, env=env, capture_output=True,
                           text=True, timeout=300)  # fmt: skip
    assert first.returncode == 0, first.stderr
    env_id = Path(json.loads(first.stdout)[0]["record"]).parent.name
    (tmp_path / "r2").mkdir()
    (tmp_path / "r2" / env_id).write_text("a file where the environment's folder should be")
    second = subprocess.run([*args, str(tmp_path / "r2")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert second.returncode == 1 and "Traceback" not in second.stderr
    [row] = json.loads(second.stdout)
    kept = Path(row["record"])
    assert kept.is_file() and kept.is_relative_to(tmp_path / "cache")
    assert json.loads(kept.read_text())["record_id"] == kept.stem
    assert row["record_problem"] and str(kept) in row["record_problem"]
    assert f"it was kept at {kept}" in second.stderr


def test_a_run_leaves_a_live_servers_store_copy_alone(tmp_path):
    # the store copy of `verify serve` carries its start time in centiseconds, not a run folder's
    # milliseconds: read as a run folder it looked made in 1975 by a reused pid, so a check run
    # beside a server deleted the copy the server's SPARQL workers read
    import pyoxigraph as ox

    from verify.serve import storecopy

    copy = storecopy.create(ox.Store(), tmp_path)
    assert cleanup.remove_stale(tmp_path) == []
    assert (copy / "store").is_dir()
    assert storecopy.remove_stale(tmp_path) == []  # the server's own rule: it is still running
