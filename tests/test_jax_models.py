"""JAX and Keras-on-JAX models against PyTorch on the seeded weights, at tiny sizes.

PyTorch is the reference: each side builds the spec from the same canonical arrays. Thread settings
and the Keras backend are fixed per process, so those tests run in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from verify.benchmarks import models
from verify.benchmarks.context import Context, NotCheckable

pytestmark = pytest.mark.slow

RTOL, ATOL = 1e-4, 1e-5  # as the PyTorch-vs-Keras checks
SIZES = (28, 45)  # 45: odd sides, so stride-2 padding and pooling remainders are exercised


def _fresh_process(code: str, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a new interpreter (with ``env`` added); it prints one JSON line last."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _torch_logits(spec: models.ModelSpec, weights: list, x: np.ndarray, train: bool = False):
    import torch

    from verify.benchmarks import torch_models

    model = torch_models.build(spec, weights).train(train)
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


@pytest.fixture
def restore_threads_env(monkeypatch):
    """configure() writes PJRT_NPROC into os.environ; monkeypatch restores it for later tests."""
    monkeypatch.delenv("PJRT_NPROC", raising=False)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", models.MODELS)
def test_jax_model_matches_torch_on_the_seeded_weights(name, size):
    import jax

    from verify.benchmarks import jax_models

    spec = models.build_spec(name, 3, 8, size)
    weights = models.init_weights(spec, seed=3)
    x = models.make_input(2, 3, size, seed=3)
    apply, variables = jax_models.build(spec, weights)
    got = jax.jit(apply, static_argnames="train")(variables, models.to_nhwc(x), train=False)
    np.testing.assert_allclose(
        np.asarray(got), _torch_logits(spec, weights, x), rtol=RTOL, atol=ATOL
    )
    assert jax_models.parameter_count(variables) == models.parameter_count(spec)


@pytest.mark.parametrize("size", SIZES)
def test_jax_resnet_in_training_mode_normalises_with_the_batch_statistics(size):
    import jax

    from verify.benchmarks import jax_models

    spec = models.build_spec("resnet", 3, 8, size)
    weights = models.init_weights(spec, seed=4)
    x = models.make_input(4, 3, size, seed=4)
    apply, variables = jax_models.build(spec, weights)
    fn = jax.jit(apply, static_argnames="train")
    train, infer = (np.asarray(fn(variables, models.to_nhwc(x), train=t)) for t in (True, False))
    np.testing.assert_allclose(
        train, _torch_logits(spec, weights, x, train=True), rtol=RTOL, atol=ATOL
    )
    assert not np.allclose(train, infer, rtol=RTOL, atol=ATOL)  # the stored statistics differ


def test_jax_build_rejects_the_weights_of_another_spec():
    from verify.benchmarks import jax_models

    spec = models.build_spec("small-cnn", 3, 8, 28)
    other = models.init_weights(models.build_spec("small-cnn", 1, 8, 28), seed=0)
    with pytest.raises(ValueError, match="shape mismatch"):
        jax_models.build(spec, other)
    with pytest.raises(ValueError, match="weight arrays"):
        jax_models.build(spec, models.init_weights(spec, seed=0)[:-1])


@pytest.mark.parametrize("name", models.MODELS)
def test_jax_train_step_follows_three_torch_sgd_steps(name):
    import torch

    from verify.benchmarks import jax_models, torch_models

    spec = models.build_spec(name, 1, 10, 28)
    weights = models.init_weights(spec, seed=5)
    images, labels = models.make_dataset(48, 1, 28, 10, seed=5)
    batches = [slice(i, i + 16) for i in range(0, 48, 16)]

    model = torch_models.build(spec, weights).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    torch_losses = []
    for b in batches:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(
            model(torch.from_numpy(images[b])), torch.from_numpy(labels[b])
        )
        loss.backward()
        optimizer.step()
        torch_losses.append(loss.item())
    # state_dict's floating-point tensors are the canonical arrays, BN running statistics included
    trained = [t.numpy() for t in model.state_dict().values() if t.is_floating_point()]

    train = jax_models.make_train_step(spec)
    _, variables = jax_models.build(spec, weights)
    opt_state = train.init(variables)
    x = models.to_nhwc(images)
    jax_losses = []
    for b in batches:
        variables, opt_state, loss = train.step(variables, opt_state, x[b], labels[b])
        jax_losses.append(float(loss))

    np.testing.assert_allclose(jax_losses, torch_losses, rtol=RTOL, atol=ATOL)
    assert len(set(jax_losses)) == 3  # the parameters moved between steps
    _, expected = jax_models.build(spec, trained)
    for got, want in zip(_leaves(variables), _leaves(expected), strict=True):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


def _leaves(tree) -> list[np.ndarray]:
    import jax

    return [np.asarray(leaf) for leaf in jax.tree.leaves(tree)]


def test_keras_jax_model_matches_torch_in_a_fresh_process():
    cells = [(name, size) for name in models.MODELS for size in SIZES]
    code = f"""
import json, sys
import numpy as np
from verify.benchmarks import keras_jax_models as kj, models
from verify.benchmarks.context import Context
kj.configure(Context(threads=1))
out = {{}}
for name, size in {cells!r}:
    spec = models.build_spec(name, 3, 8, size)
    x = models.to_nhwc(models.make_input(2, 3, size, seed=3))
    model = kj.build(spec, models.init_weights(spec, seed=3))
    out[f"{{name}}-{{size}}"] = [np.asarray(model(x, training=False)).tolist(), model.count_params()]
heavy = sorted({{"tensorflow", "torch"}} & set(sys.modules))
print(json.dumps({{"out": out, "backend": kj.keras.backend.backend(), "heavy": heavy}}))
"""
    result = _fresh_process(code, {"KERAS_BACKEND": "jax"})
    assert result["backend"] == "jax" and result["heavy"] == []
    for name, size in cells:
        spec = models.build_spec(name, 3, 8, size)
        weights = models.init_weights(spec, seed=3)
        logits, count = result["out"][f"{name}-{size}"]
        expected = _torch_logits(spec, weights, models.make_input(2, 3, size, seed=3))
        np.testing.assert_allclose(np.array(logits), expected, rtol=RTOL, atol=ATOL)
        assert count == models.parameter_count(spec)


def test_keras_jax_models_refuses_a_process_whose_keras_runs_on_another_backend():
    code = """
import json, os
os.environ["KERAS_BACKEND"] = "torch"
import keras
try:
    import verify.benchmarks.keras_jax_models
    print(json.dumps({"error": None}))
except RuntimeError as exc:
    print(json.dumps({"error": str(exc)}))
"""
    assert _fresh_process(code)["error"] == "Keras runs on 'torch'; these models need jax"


@pytest.mark.parametrize("threads", [1, 3])
def test_jax_configure_sets_the_thread_count_runtime_info_reads_back(threads):
    # 3 is more than this machine's 2 cores, so it differs from XLA's default of one per core.
    code = f"""
import json
import jax.numpy as jnp
from verify.benchmarks import jax_models
from verify.benchmarks.context import Context
device = jax_models.configure(Context(threads={threads}))
jax_models.synchronize(jnp.ones((64, 64)) @ jnp.ones((64, 64)))
print(json.dumps(jax_models.runtime_info(device)))
"""
    info = _fresh_process(code)
    assert (info["intra_op_threads"], info["inter_op_threads"]) == (threads, threads)
    assert (info["framework"], info["layout"], info["device"]) == ("jax", "NHWC", "cpu")
    assert info["thread_setting"] == f"PJRT_NPROC={threads}"


def test_jax_runtime_info_reports_the_pool_in_force_not_the_request():
    # XLA sizes its pools when the CPU client starts; a later configure() cannot change them.
    code = """
import json
import jax
from verify.benchmarks import jax_models
from verify.benchmarks.context import Context
jax.devices()
device = jax_models.configure(Context(threads=1))
print(json.dumps(jax_models.runtime_info(device)))
"""
    info = _fresh_process(code, {"PJRT_NPROC": "3"})
    assert info["intra_op_threads"] == 3
    assert info["thread_setting"] == "PJRT_NPROC=1"  # the request, recorded beside what is in force


def test_jax_configure_cuda_without_a_gpu_is_not_checkable(restore_threads_env):
    if shutil.which("nvidia-smi"):
        pytest.skip("this machine has an NVIDIA GPU")
    from verify.benchmarks import jax_models

    with pytest.raises(NotCheckable, match="JAX sees no GPU"):
        jax_models.configure(Context(device="cuda"))


def test_jax_configure_cuda_uses_a_jax_gpu_device():
    if not shutil.which("nvidia-smi"):
        pytest.skip("no NVIDIA GPU here")
    code = """
import json
from verify.benchmarks import jax_models
from verify.benchmarks.context import Context
device = jax_models.configure(Context(device="cuda"))
print(json.dumps({"platform": device.platform, **jax_models.runtime_info(device)}))
"""
    info = _fresh_process(code)
    assert (info["platform"], info["device"], info["backend"]) == ("gpu", "cuda", "gpu")
    assert info["device_name"]


def test_jax_configure_rejects_an_unknown_device(restore_threads_env):
    from verify.benchmarks import jax_models

    with pytest.raises(NotCheckable, match="'tpu'"):
        jax_models.configure(Context(device="tpu"))


def test_framework_module_resolves_jax_to_the_jax_models():
    from verify.benchmarks import jax_models
    from verify.benchmarks.context import framework_module

    assert framework_module("jax") is jax_models
