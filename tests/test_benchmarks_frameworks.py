"""The timed and single-shot benchmarks on real torch and TensorFlow, at tiny sizes.

The product runs one framework per process; these tests import both into one process, except where
the behaviour needs a fresh process (thread settings, peak memory), which runs in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from verify.benchmarks import latency, models, training
from verify.benchmarks.context import Context

pytestmark = pytest.mark.slow

CTX = Context(threads=1)
LATENCY = {
    "model": "small-cnn",
    "batch_sizes": [1],
    "input_sizes": [28],
    "channels": 3,
    "classes": 8,
}
TRAINING = {
    "model": "small-cnn",
    "batch_size": 32,
    "input_size": 28,
    "channels": 1,
    "classes": 10,
    "samples": 64,
}
RTOL, ATOL = 1e-4, 1e-5


def _fresh_process(code: str) -> dict:
    """Run ``code`` in a new interpreter; it prints one JSON line last."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("size", [28, 45])
@pytest.mark.parametrize("name", models.MODELS)
def test_torch_and_keras_models_agree_on_the_seeded_weights(name, size):
    import torch

    from verify.benchmarks import keras_models, torch_models

    spec = models.build_spec(name, 3, 8, size)
    weights = models.init_weights(spec, seed=3)
    x = models.make_input(2, 3, size, seed=3)
    torch_model = torch_models.build(spec, weights)
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(x)).numpy()
    keras_model = keras_models.build(spec, weights)
    got = keras_model(models.to_nhwc(x), training=False).numpy()
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    assert torch_models.parameter_count(torch_model) == keras_model.count_params()
    assert keras_model.count_params() == models.parameter_count(spec)


@pytest.fixture(scope="module")
def eager_logits() -> np.ndarray:
    session = latency.open_session("torch-eager", latency.cells(LATENCY)[0], LATENCY, CTX)
    try:
        return session.reference_output()
    finally:
        session.close()


def _check_latency_session(session, eager_logits: np.ndarray) -> dict:
    np.testing.assert_allclose(session.reference_output(), eager_logits, rtol=RTOL, atol=ATOL)
    warm = session.warmup()
    assert warm["first_call_s"] >= warm["compile_s"] >= 0 and warm["calls"] >= 2
    assert 0 < session.time(5) < 5.0
    info = session.info()
    framework = latency.TIERS[session.tier]
    assert info["framework"] == framework
    assert info["layout"] == {"torch": "NCHW"}.get(framework, "NHWC")
    assert info["parameters"] == models.parameter_count(models.build_spec("small-cnn", 3, 8, 28))
    return warm


# Keras on JAX needs a process whose Keras was first imported with that backend: see below.
IN_PROCESS = [t for t, f in latency.TIERS.items() if t != "torch-compile" and f != "keras"]


@pytest.mark.parametrize("tier", IN_PROCESS)
def test_latency_tier_matches_eager_logits_warms_up_and_times(tier, eager_logits):
    session = latency.open_session(tier, latency.cells(LATENCY)[0], LATENCY, CTX)
    try:
        _check_latency_session(session, eager_logits)
    finally:
        session.close()


def test_latency_torch_compile_reports_a_cold_compile_in_the_private_cache(
    tmp_path, monkeypatch, eager_logits
):
    # configure() points the inductor cache into ctx.scratch; monkeypatch restores the variable.
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "unused"))
    ctx = Context(threads=1, scratch=str(tmp_path))
    session = latency.open_session("torch-compile", latency.cells(LATENCY)[0], LATENCY, ctx)
    try:
        warm = _check_latency_session(session, eager_logits)
    finally:
        session.close()
    assert warm["compile_s"] > 20 * warm["steady_call_s"]
    assert any((tmp_path / "inductor-cache").iterdir())


@pytest.fixture(scope="module")
def initial_logits() -> np.ndarray:
    session = training.open_session("torch-loop", training.cells(TRAINING)[0], TRAINING, CTX)
    try:
        return session.reference_output()
    finally:
        session.close()


@pytest.mark.parametrize(
    "tier", [t for t, f in training.TIERS.items() if t != "torch-compile-loop" and f != "keras"]
)
def test_training_tier_starts_from_the_same_logits_and_times_an_epoch(tier, initial_logits):
    session = training.open_session(tier, training.cells(TRAINING)[0], TRAINING, CTX)
    try:
        logits = session.reference_output()
        assert logits.shape == (TRAINING["batch_size"], TRAINING["classes"])
        np.testing.assert_allclose(logits, initial_logits, rtol=RTOL, atol=ATOL)
        warm = session.warmup()
        assert warm["first_call_s"] > 0 and warm["calls"] >= 2
        assert 0 < session.time(1) < 30.0
        assert session.info()["samples"] == TRAINING["samples"]
    finally:
        session.close()


@pytest.mark.parametrize("tier", ["torch-eager", "keras-call"])
def test_latency_info_reads_back_the_thread_counts_it_set(tier):
    code = f"""
import json
from verify.benchmarks import latency
from verify.benchmarks.context import Context
params = {LATENCY!r}
s = latency.open_session({tier!r}, latency.cells(params)[0], params, Context(threads=1))
print(json.dumps(s.info()))
"""
    info = _fresh_process(code)
    assert (info["intra_op_threads"], info["inter_op_threads"]) == (1, 1)


@pytest.mark.parametrize("tier", ["torch", "tensorflow", "jax"])
def test_memory_measure_once_reports_growth_over_the_baseline_in_a_fresh_process(tier):
    params = {"model": "small-cnn", "phase": "training", "batch_size": 16, "input_size": 28}
    code = f"""
import json
from verify.benchmarks import memory
from verify.benchmarks.context import Context
params = {params!r}
print(json.dumps(memory.measure_once({tier!r}, memory.cells(params)[0], params, Context(threads=1))))
"""
    result = _fresh_process(code)
    assert result["peak_memory"] == result["rss_growth_mb"] > 0
    assert result["baseline_mb"] > 50  # the framework was imported before the baseline
    assert result["method"] == "VmHWM after reset"


def test_keras_on_jax_tiers_match_torch_and_time_in_a_fresh_process():
    # one process for all three tiers: each costs seconds of JAX start-up and compiling
    code = f"""
import json
from verify.benchmarks import latency, training
from verify.benchmarks.context import Context
ctx, out = Context(threads=1), {{}}
for bench, params, reference, tier in [
    (latency, {LATENCY!r}, "torch-eager", "keras-jax-predict"),
    (latency, {LATENCY!r}, "torch-eager", "keras-jax-call"),
    (training, {TRAINING!r}, "torch-loop", "keras-jax-fit"),
]:
    cell = bench.cells(params)[0]
    expected = bench.open_session(reference, cell, params, ctx).reference_output()
    s = bench.open_session(tier, cell, params, ctx)
    got = s.reference_output()
    warm = s.warmup()
    out[tier] = {{"diff": float(abs(expected - got).max()), "scale": float(abs(expected).max()),
                 "calls": warm["calls"], "t": s.time(1), "info": s.info()}}
print(json.dumps(out))
"""
    out = _fresh_process(code)
    assert sorted(out) == ["keras-jax-call", "keras-jax-fit", "keras-jax-predict"]
    for tier, got in out.items():
        assert got["diff"] <= ATOL + RTOL * got["scale"], tier
        assert got["calls"] >= 2 and 0 < got["t"] < 30.0, tier
        info = got["info"]
        assert (info["framework"], info["keras_backend"], info["layout"]) == ("jax", "jax", "NHWC")
