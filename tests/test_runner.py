"""The runner on the selftest benchmark: order, ratios, failures, records, kills, the CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from kg.model import Check, Label
from verify.run.engine import run_check
from verify.run.options import RunOptions

HOLDS, INCONCLUSIVE, NOT_CHECKABLE = Label.HOLDS, Label.INCONCLUSIVE, Label.NOT_CHECKABLE

REPO = Path(__file__).resolve().parent.parent
ENV = {"cpu": {"arch": "x86_64", "model": "test"}, "cores_logical": 2, "ram_bytes": 2**30,
       "gpus": [], "os": {"system": "Linux"}, "python": "3.11.0", "packages": {}}  # fmt: skip


def check(quantifier: str = "about", threshold: float = 1.0, subject: str = "numpy-a",
          baseline: str = "numpy-b", **params) -> Check:  # fmt: skip
    return Check.from_dict(check_json(quantifier, threshold, subject, baseline, **params))


def check_json(quantifier: str = "about", threshold: float = 1.0, subject: str = "numpy-a",
               baseline: str = "numpy-b", **params) -> dict:  # fmt: skip
    return {
        "claim_id": "selftest-claim",
        "kind": "performance",
        "benchmark": "selftest",
        "module": "verify.benchmarks.selftest",
        "benchmark_type": "benchmark",
        "parameters": {"sizes": [16], **params},
        "rule": {
            "metric": "median_latency",
            "better": "lower",
            "subject": subject,
            "baseline": baseline,
            "threshold": threshold,
            "tolerance": 0.1,
            "quantifier": quantifier,
        },  # fmt: skip
        "conditions": {"device": "any"},
    }


@pytest.fixture
def opts(tmp_path) -> RunOptions:
    # busy_cores: these tests are about the runner's logic, not about a quiet machine
    return RunOptions(budget=0.5, min_sample_s=0.002, setup_timeout=5, sample_timeout=3,
                      mem_cap_mb=400, results_dir=tmp_path / "results",
                      busy_cores=None)  # fmt: skip


def test_run_check_interleaves_abba_within_and_across_process_pairs(opts):
    result = run_check(check(sizes=[8, 16]), opts, environment=ENV)
    order = result.record["order"]
    pairs = sorted({p for p, _, _ in order})
    assert len(pairs) >= 3
    for pair in pairs:
        for cell in (0, 1):
            sides = "".join(s for p, c, s in order if p == pair and c == cell)
            first = "ABBA" if pair % 2 == 0 else "BAAB"
            second = "BAAB" if pair % 2 == 0 else "ABBA"
            assert sides == ((first + second) * len(sides))[: len(sides)]
            assert len(sides) % 4 == 0 and len(sides) >= 8


def test_run_check_recovers_the_work_ratio_and_writes_a_record(opts):
    result = run_check(
        check("at-least", 1.5, sizes=[48], work={"numpy-b": 3}), opts, environment=ENV
    )
    assert result.status == "ok"
    summary = result.record["cells"][0]["summary"]
    assert 2.0 < summary["ratio"] < 4.0
    assert summary["n_processes"] >= 3
    record = json.loads(result.path.read_text())
    assert result.path.parent.name == record["environment_id"]
    assert record["verdict"]["label"] in (HOLDS, INCONCLUSIVE)
    assert record["cells"][0]["fairness"] == {"max_abs_diff": 0.0, "rtol": 1e-3, "atol": 1e-4,
                                              "agree": True}  # fmt: skip
    sides = {(p["pair"], p["side"]) for p in record["processes"]}
    assert len(sides) == 2 * len({p for p, _ in sides})
    assert all(p["info"]["n48"]["threads"] == 1 for p in record["processes"])
    assert len(record["cells"][0]["warmup"]["subject"]) == summary["n_processes"]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"crash": True}, "crashed (was killed by SIGSEGV)"),
        ({"crash": "exit"}, "crashed (exited with code 3)"),
        ({"hang": True}, "hung: no answer to"),
        ({"allocate_mb": 3000}, "ran out of memory"),
        ({"fail": "boom"}, "raised RuntimeError: boom"),
        ({"disagree": True}, "outputs differ at n16"),
        ({"crash": True, "fault_stage": "open"}, "during 'open'"),
    ],
)
def test_a_failing_worker_becomes_an_error_with_a_reason(opts, params, reason):
    # Only the hang waits for a timeout, so only it gets a short one: on a busy host a 2 s limit
    # can stop a worker before it reaches its memory cap or its crash.
    hangs = bool(params.get("hang"))
    opts.setup_timeout = opts.sample_timeout = 2 if hangs else 30
    t0 = time.monotonic()
    result = run_check(check(**params), opts, environment=ENV)
    assert time.monotonic() - t0 < (15 if hangs else 60)
    assert result.status == "error"
    assert reason in result.reason
    assert result.verdict.label == INCONCLUSIVE and reason in result.verdict.explanation
    record = json.loads(result.path.read_text())
    assert record["status"] == "error" and reason in record["errors"][0]["reason"]


def test_the_next_check_runs_after_a_crash(opts):
    crashed = run_check(check(crash=True, fault_tier="numpy-b"), opts, environment=ENV)
    fine = run_check(check(), opts, environment=ENV)
    assert "numpy-b (baseline" in crashed.reason
    assert (crashed.status, fine.status) == ("error", "ok")


def test_a_missing_framework_is_not_checkable_here(opts):
    result = run_check(check(baseline="absent"), opts, environment=ENV)
    assert result.status == "not-checkable"
    assert result.verdict.label == NOT_CHECKABLE
    assert (
        "no nosuchframework build (nosuchframework is not installed)" in result.verdict.explanation
    )


def test_cuda_on_a_machine_without_cuda_is_not_checkable_here(opts):
    opts.device = "cuda"
    result = run_check(check(), opts, environment=ENV)
    assert result.verdict.label == NOT_CHECKABLE and "CUDA" in result.verdict.explanation


def test_the_cuda_path_synchronises_both_sides(opts):
    opts.device = "cuda"
    result = run_check(check(fake_cuda=True), opts, environment=ENV)
    assert result.status == "ok"
    assert all(p["info"]["n16"]["syncs"] > 0 for p in result.record["processes"])


def test_a_tier_the_module_lacks_is_an_error(opts):
    result = run_check(check(subject="numpy-z"), opts, environment=ENV)
    assert result.status == "error" and "tier 'numpy-z'" in result.reason


def test_data_checks_are_judged_against_snapshots_and_recorded(opts):
    data_check = {
        "claim_id": "iclr-share",
        "kind": "adoption",
        "benchmark": "adoption-share",
        "module": "verify.judge.adoption",
        "benchmark_type": "datacheck",
        "parameters": {
            "dataset": "conference-framework-mentions",
            "conference": "ICLR",
            "year": 2022,
            "framework": "pytorch",
            "other": "tensorflow",
            "population": "papers mentioning either framework",
        },
        "rule": {
            "metric": "share",
            "better": "higher",
            "subject": "pytorch",
            "baseline": "tensorflow",
            "threshold": 0.8,
            "tolerance": 0.05,
            "quantifier": "about",
        },
        "conditions": {},
    }
    result = run_check(Check.from_dict(data_check), opts, environment=ENV)
    assert result.status == "ok" and result.verdict.label == "holds"
    assert "1,091" in result.verdict.explanation
    assert result.record["data"]["source"] == "he-conference-mentions"
    assert result.path is not None and result.path.is_file()


def test_a_killed_run_leaves_no_partial_record_and_no_workers(tmp_path):
    results = tmp_path / "results"
    script = textwrap.dedent(f"""
        from kg.model import Check
        from verify.run.engine import run_check
        from verify.run.options import RunOptions
        import json, sys
        check = Check.from_dict(json.loads(sys.argv[1]))
        run_check(check, RunOptions(budget=60, min_sample_s=0.005, results_dir={str(results)!r}),
                  environment=json.loads(sys.argv[2]))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script, json.dumps(check_json()), json.dumps(ENV)],
                            cwd=REPO)  # fmt: skip
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 20
    while len(parent.children()) < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # well into measuring
    workers = parent.children(recursive=True)
    assert len(workers) == 6, "the run never started its three process pairs"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=5)
    for w in alive:
        w.kill()  # do not leak them if the assertion below fails
    assert not alive, "workers outlived their killed parent"
    assert not results.exists() or not any(results.rglob("*"))


def test_worker_never_imports_rdflib_or_jinja2():
    code = (
        "import sys, verify.benchmarks.worker, verify.benchmarks.selftest, verify.benchmarks.latency;"
        "print([m for m in ('rdflib', 'jinja2') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_cli_run_with_an_unknown_claim_exits_2():
    out = subprocess.run([sys.executable, "-m", "verify", "run", "--claim", "no-such-claim"],
                         cwd=REPO, capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 2 and "no claim has the id 'no-such-claim'" in out.stderr


def test_cli_env_json_names_the_environment():
    out = subprocess.run([sys.executable, "-m", "verify", "env", "--json"], cwd=REPO,
                         capture_output=True, text=True)  # fmt: skip
    data = json.loads(out.stdout)
    assert data["environment_id"].startswith(("x86", "arm64")) and "packages" in data["environment"]


@pytest.mark.slow
def test_inference_latency_end_to_end_on_one_small_cell(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    from kg.api import claim_checks
    from kg.load import load_corpus

    (c,) = claim_checks(load_corpus(), "inference-latency-3x")
    c = dataclasses.replace(c, parameters={**c.parameters, "batch_sizes": [1], "input_sizes": [28]})
    # busy_cores: this test is about both frameworks measuring; test_machine covers busy machines
    result = run_check(c, RunOptions(budget=5, results_dir=tmp_path, busy_cores=None))
    assert result.status == "ok", result.reason
    record = result.record
    assert record["cells"][0]["fairness"]["agree"] is True
    assert record["cells"][0]["fairness"]["max_abs_diff"] < 1e-3
    assert {"torch", "tensorflow"} <= set(record["frameworks"]["subject"]) | set(
        record["frameworks"]["baseline"]
    )
    assert record["cells"][0]["warmup"]["subject"][0]["first_call_s"] > 0
    assert record["cells"][0]["summary"]["ratio"] > 0


def test_harness_overhead_is_under_a_microsecond_per_timed_call():
    from verify.run.calibrate import measure_overhead

    overhead = measure_overhead(calls=50_000, samples=5)
    assert overhead["per_call_s"] < 1e-6
    assert overhead["round_trip_s"] < 0.05  # outside the clock, but it bounds set-up cost


def test_commands_module_imports_no_heavy_library():
    code = (
        "import sys, verify.cli.runs;"
        "print([m for m in ('numpy', 'torch', 'tensorflow', 'rdflib', 'scipy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
