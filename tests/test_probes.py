"""Capability probes on the installed torch, TensorFlow and Keras: they really do the thing."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from verify.benchmarks.context import Context, NotCheckable
from verify.benchmarks.probekit import (
    Trial,
    deprecation,
    run_children,
    run_trial,
    tiny_forward,
    tiny_input,
    tiny_weights,
)
from verify.benchmarks.probes import PROBES, framework_of, probe

JIT_WARNING = "DeprecationWarning: `torch.jit.script` is deprecated. Please switch to `torch.compile` or `torch.export`."


@pytest.fixture
def ctx(tmp_path) -> Context:
    return Context(scratch=str(tmp_path))


def _assert_result(result: dict) -> None:
    keys = {
        "ok",
        "detail",
        "max_abs_diff",
        "warnings",
        "deprecated",
        "successor",
        "versions",
        "seconds",
    }
    assert keys <= result.keys()
    assert result["ok"], result["detail"]


# --- pure helpers ------------------------------------------------------------------------------


def test_deprecation_marks_the_subject_not_the_advice():
    assert deprecation([JIT_WARNING], ("torch.compile",)) == ([], None)
    assert deprecation([JIT_WARNING], ("torch.jit",)) == (["torch.jit.script"], "torch.compile")


def test_deprecation_successor_is_the_one_most_warnings_name():
    save = "DeprecationWarning: `torch.jit.save` is deprecated. Please switch to `torch.export`."
    apis, successor = deprecation([JIT_WARNING, save], ("torch.jit",))
    assert apis == ["torch.jit.script", "torch.jit.save"] and successor == "torch.export"


def test_run_trial_reports_a_failing_step_as_not_ok():
    def body(t: Trial) -> dict:
        t.step = "exporting"
        raise RuntimeError("unsupported operator\nlong trace")

    result = run_trial(Trial(apis=("x",), versions={}), body)
    assert not result["ok"]
    assert result["detail"] == "exporting failed: RuntimeError: unsupported operator."


def test_run_trial_fails_outputs_beyond_tolerance():
    body = lambda t: {"detail": "ran.", "max_abs_diff": 0.5, "tolerance": 1e-4}  # noqa: E731
    result = run_trial(Trial(apis=("x",), versions={}), body)
    assert not result["ok"] and "0.5" in result["detail"]


def test_run_children_reports_a_crashed_child():
    (found,) = run_children("verify.benchmarks.no_such_module", [{}], {}, timeout=60)
    assert found["error"].startswith("exited with status 1")


def test_framework_of_resolves_distributed_approach():
    assert framework_of("distributed-capability", {"approach": "tf-mirrored"}) == "tensorflow"
    assert framework_of("onnx-export", {}) == PROBES["onnx-export"] == "torch"


# --- torch -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_torch_tiny_net_matches_numpy_reference():
    import torch

    from verify.benchmarks.probes_torch import TinyNet

    w, x = tiny_weights(0), tiny_input(0)
    with torch.no_grad():
        got = TinyNet(w)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, tiny_forward(w, x), atol=1e-5)


@pytest.mark.slow
def test_onnx_export_dynamo_runs_in_onnxruntime(ctx):
    result = probe("onnx-export", {"exporter": "dynamo"}, ctx)
    _assert_result(result)
    assert result["max_abs_diff"] < 1e-5 and not result["deprecated"]


@pytest.mark.slow
def test_onnx_export_legacy_exporter_is_deprecated(ctx):
    result = probe("onnx-export", {"exporter": "torchscript", "opset": 17}, ctx)
    _assert_result(result)
    assert result["opset"] == 17 and result["deprecated"]


@pytest.mark.slow
def test_torchscript_round_trips_and_records_its_deprecation(ctx):
    result = probe("torchscript", {"mode": "script"}, ctx)
    _assert_result(result)
    assert result["max_abs_diff"] == 0.0
    # torch 2.13 warns on torch.jit.script / save / load and points to torch.export
    assert result["deprecated"] and result["successor"] == "torch.export"
    assert "torch.jit.save" in result["deprecated_apis"]


@pytest.mark.slow
def test_torch_export_round_trips_with_a_dynamic_batch(ctx):
    result = probe("torch-export", {"dynamic_batch": True}, ctx)
    _assert_result(result)
    assert not result["deprecated"]


@pytest.mark.slow
def test_torch_compile_inductor_matches_eager(ctx):
    result = probe("torch-compile", {"backend": "inductor"}, ctx)
    _assert_result(result)
    assert result["compile_s"] > 0 and not result["deprecated"]


# --- TensorFlow --------------------------------------------------------------------------------


@pytest.mark.slow
def test_savedmodel_serving_signature_matches_keras(ctx):
    result = probe("savedmodel", {"signature": "serving_default"}, ctx)
    _assert_result(result)
    assert result["max_abs_diff"] < 1e-5


@pytest.mark.slow
def test_savedmodel_missing_signature_is_not_ok(ctx):
    result = probe("savedmodel", {"signature": "no_such_signature"}, ctx)
    assert not result["ok"] and "serving_default" in result["detail"]


@pytest.mark.slow
def test_tflite_convert_runs_and_names_litert_as_successor(ctx):
    result = probe("tflite-convert", {"quantize": "none"}, ctx)
    _assert_result(result)
    assert result["interpreter"] in ("ai_edge_litert", "tf.lite.Interpreter")
    # tf.lite.Interpreter is deprecated (TF 2.21 still ships it) or gone: either way LiteRT
    assert result["deprecated"] and "ai_edge_litert" in result["successor"].replace("-", "_")


@pytest.mark.slow
def test_tf2onnx_export_runs_or_is_not_checkable(ctx):
    if importlib.util.find_spec("tf2onnx") is None:
        with pytest.raises(NotCheckable):
            probe("tf2onnx-export", {}, ctx)
        return
    result = probe("tf2onnx-export", {}, ctx)
    _assert_result(result)
    assert result["route"] in ("from_keras", "from_function")
    # the claimed path is from_keras: the other route must be reported as a fallback
    if result["route"] == "from_function":
        assert result["fallback"].startswith("tf2onnx.convert.from_keras failed")
        assert result["from_keras_error"] in result["fallback"]
    else:
        assert result["fallback"] is None


@pytest.mark.slow
def test_xla_jit_compiles_and_matches(ctx):
    result = probe("xla-jit", {"framework": "tensorflow"}, ctx)
    _assert_result(result)
    assert result["hlo_lines"] > 0


@pytest.mark.slow
def test_xla_jit_through_torch_is_not_checkable_without_torch_xla(ctx):
    with pytest.raises(NotCheckable, match="torch_xla"):
        probe("xla-jit", {"framework": "torch"}, ctx)


# --- fresh processes: Keras backends, distributed ----------------------------------------------


@pytest.mark.slow
def test_keras_backends_runs_keras_on_torch(ctx):
    result = probe("keras-backends", {"backend": "torch"}, ctx)
    _assert_result(result)
    assert result["backend"] == "torch" and "torch" in result["versions"]


@pytest.mark.slow
def test_keras_backends_runs_keras_on_jax(ctx):
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed here")
    result = probe("keras-backends", {"backend": "jax"}, ctx)
    _assert_result(result)
    assert result["backend"] == "jax" and "jax" in result["versions"]


def test_keras_backends_jax_is_not_checkable(ctx):
    if importlib.util.find_spec("jax") is not None:
        pytest.skip("jax is installed here")
    with pytest.raises(NotCheckable, match="jax"):
        probe("keras-backends", {"backend": "jax"}, ctx)


@pytest.mark.slow
def test_distributed_torch_ddp_gloo_two_processes_agree(ctx):
    result = probe("distributed-capability", {"approach": "torch-ddp", "world_size": 2}, ctx)
    _assert_result(result)
    assert result["backend"] == "gloo" and result["max_abs_diff"] == 0.0
    assert result["loss_after"] < result["loss_before"]


@pytest.mark.slow
def test_distributed_tf_mirrored_two_cpu_replicas_agree(ctx):
    result = probe("distributed-capability", {"approach": "tf-mirrored", "world_size": 2}, ctx)
    _assert_result(result)
    assert result["replicas"] == 2 and result["max_abs_diff"] == 0.0


@pytest.mark.slow
def test_distributed_more_gpus_than_present_is_not_checkable(ctx):
    import torch

    world = torch.cuda.device_count() + 1
    params = {"approach": "torch-ddp", "world_size": world, "devices": "gpu"}
    with pytest.raises(NotCheckable, match="GPU"):
        probe("distributed-capability", params, ctx)


def test_distributed_multiworker_is_not_checkable_on_loopback_only(ctx):
    with pytest.raises(NotCheckable, match="127.0.0.1"):
        probe("distributed-capability", {"approach": "tf-multiworker"}, ctx)
