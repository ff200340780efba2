"""The probes of execution modes, other languages, the web, serving, TensorBoard and Horovod: on
the installed tools where they are here, and not checkable through a real missing tool."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kg import api
from kg.load import load_corpus
from verify.benchmarks import external
from verify.benchmarks.context import Context, NotCheckable
from verify.benchmarks.probes import _MODULES, PROBES, probe
from verify.judge.verdicts import judge_probe
from verify.run.probetools import first_error

REPO = Path(__file__).resolve().parent.parent
NEW = ("tf-execution-default", "tf-c-api", "tfjs-convert", "keras-bundled", "torch-dynamic-graph",
       "onnx-web", "torchserve", "horovod-allreduce", "tensorboard-logging")  # fmt: skip


@pytest.fixture
def ctx(tmp_path) -> Context:
    return Context(scratch=str(tmp_path))


def _needs(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed here")


def _needs_npm(*packages: str) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    for package in packages:
        if not (external.cache_dir() / "npm" / "node_modules" / package).is_dir():
            pytest.skip(f"{package} is not in the cache (make probe-tools)")


@pytest.fixture
def no_node_path(monkeypatch, tmp_path):
    """A PATH holding the Python interpreter's folder and nothing else: no node, java or cc."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(folder))


# --- registration and plain helpers ------------------------------------------------------------


def test_every_new_probe_has_a_module_and_a_claim_whose_check_runs_it():
    checks = [c for found in api.checks(load_corpus(REPO)).values() for c in found]
    used = {c.benchmark: c.module for c in checks}
    for name in NEW:
        assert name in PROBES and name in _MODULES
        assert used.get(name) == "verify.benchmarks.probes", name


def test_external_run_kills_the_whole_group_at_the_timeout(tmp_path):
    marker = tmp_path / "grandchild.pid"
    script = f"sleep 60 & echo $! > {marker}; wait"
    start = time.monotonic()
    done = external.run(["sh", "-c", script], timeout=1.0)
    assert done.timed_out and time.monotonic() - start < 15
    pid = int(marker.read_text())
    time.sleep(0.5)
    assert not _alive(pid)  # the grandchild went with its group


def _alive(pid: int) -> bool:
    """Running or sleeping; a killed process waiting to be reaped (a zombie) does not count."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_external_result_reads_the_marked_line_and_says_why_when_absent():
    ok = external.Finished(0, f'noise\n{external.RESULT_MARK}{{"a": 1}}\n', "", 0.1)
    assert ok.result() == {"a": 1}
    with pytest.raises(RuntimeError, match="status 3 and no result: boom"):
        external.Finished(3, "", "boom", 0.1).result()


def test_first_error_names_the_header_and_the_failing_standard():
    log = (
        "c++ -O3 -std=c++14 -c horovod/torch/mpi_ops_v2.cc\n"
        "/x/site-packages/torch/include/torch/all.h:5:2: error: #error C++17 or later compatible "
        "compiler is required to use PyTorch.\n"
    )
    assert first_error(log) == (
        "C++17 or later compatible compiler is required to use PyTorch "
        "(in torch/include/torch/all.h); the failing compile passes -std=c++14"
    )


def test_judge_probe_says_found_otherwise_when_the_probe_ran_through():
    verdict = judge_probe({"ok": False, "found_otherwise": True, "detail": "eager by default."},
                          "The tf-execution-default probe")  # fmt: skip
    assert verdict.label == "does-not-hold"
    assert verdict.explanation.startswith("The tf-execution-default probe found otherwise")


# --- not checkable through real missing tools ----------------------------------------------------


def test_onnx_web_is_not_checkable_without_node_on_path(ctx, no_node_path):
    _needs("torch", "onnx", "onnxscript")
    with pytest.raises(NotCheckable, match="node is not on PATH"):
        probe("onnx-web", {}, ctx)


def test_tfjs_is_not_checkable_without_node_on_path(ctx, no_node_path):
    _needs("tensorflow")
    with pytest.raises(NotCheckable, match="node is not on PATH"):
        probe("tfjs-convert", {}, ctx)


def test_c_api_is_not_checkable_without_a_compiler(ctx, no_node_path):
    _needs("tensorflow")
    with pytest.raises(NotCheckable, match="cc is not on PATH"):
        probe("tf-c-api", {"compiler": "cc"}, ctx)


def test_torchserve_is_not_checkable_without_java(ctx, no_node_path):
    _needs("torch", "ts", "model_archiver")
    with pytest.raises(NotCheckable, match="java is not on PATH"):
        probe("torchserve", {}, ctx)


def test_web_probes_are_not_checkable_without_the_npm_cache(ctx, monkeypatch, tmp_path):
    _needs("torch", "onnx", "onnxscript")
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    monkeypatch.setenv("FWCLAIMS_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(NotCheckable, match="onnxruntime-web.*make probe-tools"):
        probe("onnx-web", {}, ctx)


def test_horovod_reports_the_recorded_build_failure(ctx, monkeypatch, tmp_path):
    _needs("torch")
    if importlib.util.find_spec("horovod") is not None:
        pytest.skip("horovod is installed here")
    monkeypatch.setenv("FWCLAIMS_CACHE", str(tmp_path))
    with pytest.raises(NotCheckable, match="no build was attempted"):
        probe("horovod-allreduce", {}, ctx)
    (tmp_path / "horovod").mkdir()
    record = {"horovod": "0.28.1", "torch": "2.13.0", "date": "2026-12-01", "reason": "C++17"}
    (tmp_path / "horovod" / "build.json").write_text(json.dumps(record))
    with pytest.raises(NotCheckable, match="Horovod 0.28.1 did not build against torch 2.13.0"):
        probe("horovod-allreduce", {}, ctx)


# --- the real tools ------------------------------------------------------------------------------


@pytest.mark.slow
def test_tf_execution_default_is_eager_and_graphs_come_from_tf_function():
    _needs("tensorflow")
    # a fresh process: nothing else in it has touched TensorFlow's mode
    code = ("import json; from verify.benchmarks.context import Context; "
            "from verify.benchmarks.probes import probe; "
            "print(json.dumps(probe('tf-execution-default', {'expect': 'graph'}, Context())))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         timeout=300, check=True).stdout  # fmt: skip
    result = json.loads(out.strip().splitlines()[-1])
    assert result["default_mode"] == "eager" and not result["ok"] and result["found_otherwise"]
    assert result["tf_function_traces"] == 1 and not result["eager_inside_tf_function"]


@pytest.mark.slow
def test_keras_bundled_reads_tensorflows_requirements(ctx):
    _needs("tensorflow", "torch")
    result = probe("keras-bundled", {}, ctx)
    assert result["ok"], result["detail"]
    assert result["tensorflow_requires_keras"] and result["tf_keras_is_keras"]


@pytest.mark.slow
def test_tf_c_api_runs_a_savedmodel_from_c(ctx):
    _needs("tensorflow")
    if shutil.which("cc") is None:
        pytest.skip("no C compiler here")
    result = probe("tf-c-api", {"compiler": "cc"}, ctx)
    assert result["ok"], result["detail"]
    assert result["c_api_version"] == result["versions"]["tensorflow"]


@pytest.mark.slow
def test_tfjs_runs_and_trains_in_node_and_reports_the_converter(ctx):
    _needs("tensorflow")
    _needs_npm("@tensorflow/tfjs-core", "@tensorflow/tfjs-layers")
    if not (external.cache_dir() / "pip" / "tensorflowjs").is_dir():
        pytest.skip("the TensorFlow.js converter is not in the cache (make probe-tools)")
    result = probe("tfjs-convert", {}, ctx)
    assert result["layers_max_abs_diff"] < 1e-4
    assert result["losses"][-1] < result["losses"][0]
    if "error" in result["converter"]:  # what happens beside TensorFlow 2.21
        assert not result["ok"] and "converter could not convert" in result["detail"]
    else:
        assert result["ok"], result["detail"]


@pytest.mark.slow
def test_torch_dynamic_graph_takes_two_paths_and_export_refuses_it(ctx):
    _needs("torch")
    result = probe("torch-dynamic-graph", {}, ctx)
    assert result["ok"], result["detail"]
    assert result["eager_paths"] == ["positive x2", "negative x3"]
    assert result["graph_breaks"] >= 1 and result["compiled_matches"]
    assert result["fullgraph_error"] and result["export_error"]


@pytest.mark.slow
def test_onnx_web_runs_the_export_in_onnxruntime_web(ctx):
    _needs("torch", "onnx", "onnxscript")
    _needs_npm("onnxruntime-web")
    result = probe("onnx-web", {}, ctx)
    assert result["ok"], result["detail"]
    assert "onnxruntime-web" in result["versions"]


@pytest.mark.slow
def test_torchserve_answers_one_request_and_leaves_nothing_running(ctx):
    _needs("torch", "ts", "model_archiver")
    if shutil.which("java") is None:
        pytest.skip("java is not on PATH")
    result = probe("torchserve", {}, ctx)
    assert result["ok"], result["detail"]
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", str(Path(ctx.scratch) / "torchserve")],
                          capture_output=True, text=True).stdout  # fmt: skip
    assert left == ""


@pytest.mark.slow
def test_tensorboard_reads_back_scalars_from_both_frameworks(ctx):
    _needs("tensorboard", "torch", "tensorflow")
    result = probe("tensorboard-logging", {"steps": 3}, ctx)
    assert result["ok"], result["detail"]
    assert result["read"] == {"torch": 3, "tensorflow": 3}
