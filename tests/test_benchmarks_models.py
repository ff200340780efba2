"""Framework-neutral model specs, seeded weights and inputs (numpy only, no framework import)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from verify.benchmarks import latency, memory, models, training
from verify.benchmarks.context import Context, NotCheckable


@pytest.mark.parametrize("name", models.MODELS)
def test_init_weights_match_param_shapes_in_float32(name):
    spec = models.build_spec(name, 3, 8, 28)
    weights = models.init_weights(spec, seed=0)
    assert [w.shape for w in weights] == [shape for _, shape in models.param_shapes(spec)]
    assert all(w.dtype == np.float32 for w in weights)
    assert sum(w.size for w in weights) == models.parameter_count(spec)


def test_init_weights_are_deterministic_per_seed():
    spec = models.build_spec("resnet", 1, 10, 32)
    a, b, c = (models.init_weights(spec, s) for s in (7, 7, 8))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_init_weights_biases_and_bn_statistics_are_not_trivial():
    spec = models.build_spec("resnet", 3, 8, 28)
    kinds = [kind for kind, _ in models.param_shapes(spec)]
    weights = models.init_weights(spec, 0)
    for kind, w in zip(kinds, weights, strict=True):
        # zeros or ones would let a misplaced bias or statistic pass the cross-framework check
        assert not np.all(w == 0) and not np.all(w == 1), kind
    variances = [w for k, w in zip(kinds, weights, strict=True) if k == "bn_var"]
    assert all(v.min() > 0 for v in variances)


def test_small_cnn_flatten_matches_the_pooled_feature_map():
    spec = models.build_spec("small-cnn", 3, 8, 28)
    flatten = next(layer for layer in spec.layers if isinstance(layer, models.Flatten))
    assert (flatten.channels, flatten.height, flatten.width) == (64, 3, 3)  # 28 -> 14 -> 7 -> 3
    dense = spec.layers[spec.layers.index(flatten) + 1]
    assert dense == models.Dense(64 * 3 * 3, 128)
    assert spec.layers[-1] == models.Dense(128, 8)


def test_small_cnn_rejects_an_input_too_small_to_pool():
    with pytest.raises(ValueError, match="too small"):
        models.build_spec("small-cnn", 3, 8, 7)


def test_resnet_projects_the_shortcut_only_when_the_shape_changes():
    spec = models.build_spec("resnet", 3, 8, 28)
    blocks = [layer for layer in spec.layers if isinstance(layer, models.Residual)]
    assert [b.projection for b in blocks] == [False, True, True]
    assert models.parameter_count(spec) == models.parameter_count(
        models.build_spec("resnet", 3, 8, 224)
    )  # global average pooling: the parameter count does not depend on the input size


def test_build_spec_names_the_known_models_when_given_another():
    with pytest.raises(ValueError, match="small-cnn, resnet"):
        models.build_spec("vgg", 3, 8, 28)


def test_make_input_is_nchw_float32_and_deterministic():
    x = models.make_input(4, 3, 28, seed=1)
    assert x.shape == (4, 3, 28, 28) and x.dtype == np.float32
    assert np.array_equal(x, models.make_input(4, 3, 28, seed=1))
    assert not np.array_equal(x, models.make_input(4, 3, 28, seed=2))
    assert np.array_equal(models.to_nhwc(x)[1, 5, 6, :], x[1, :, 5, 6])


def test_make_dataset_labels_lie_in_range_and_repeat_per_seed():
    images, labels = models.make_dataset(64, 1, 28, 10, seed=0)
    assert images.shape == (64, 1, 28, 28) and images.dtype == np.float32
    assert labels.dtype == np.int64 and 0 <= labels.min() and labels.max() < 10
    again = models.make_dataset(64, 1, 28, 10, seed=0)
    assert np.array_equal(images, again[0]) and np.array_equal(labels, again[1])


def test_cells_cover_batch_sizes_times_input_sizes():
    params = {"model": "small-cnn", "batch_sizes": [1, 8], "input_sizes": [28, 64, 224]}
    got = latency.cells(params)
    assert [c["label"] for c in got] == [
        "b1-s28",
        "b1-s64",
        "b1-s224",
        "b8-s28",
        "b8-s64",
        "b8-s224",
    ]
    assert training.cells({"batch_size": 64, "input_size": 32})[0]["label"] == "b64-s32"
    assert memory.cells({"memory_growth": False}) == [{"label": "default", "memory_growth": False}]


def test_tier_tables_name_only_frameworks_a_worker_can_load():
    # A tier maps to the framework its worker imports: the two frameworks, JAX, and Keras 3 on
    # JAX ("keras"); anything else would start a worker that cannot import what it runs.
    from verify.benchmarks.worker import NEEDS

    known = {"torch", "tensorflow", "jax", *NEEDS}
    for module in (latency, training, memory):
        frameworks = set(module.TIERS.values())
        assert {"torch", "tensorflow"} <= frameworks <= known, module.__name__


def test_benchmark_modules_import_no_framework():
    # The runner imports these modules to list cells; a framework import there would cost seconds
    # and break the one-framework-per-process rule.
    code = (
        "import sys, verify.benchmarks.latency, verify.benchmarks.training, verify.benchmarks.memory;"
        "print(sorted({'torch', 'tensorflow', 'keras', 'jax'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_gpu_mapping_is_not_checkable_without_a_gpu():
    if shutil.which("nvidia-smi"):
        pytest.skip("this machine has an NVIDIA GPU")
    with pytest.raises(NotCheckable, match="GPU"):
        memory.measure_once(
            "torch", memory.cells({"memory_growth": False})[0], {"memory_growth": False}, Context()
        )


def test_every_benchmark_module_named_in_the_claims_keeps_the_contract_of_its_kind():
    import importlib

    from kg import api
    from kg.load import load_corpus
    from verify.benchmarks.contract import kind_of

    modules = {
        c.module
        for found in api.checks(load_corpus()).values()
        for c in found
        if c.module.startswith("verify.benchmarks")
    }
    kinds = {m: kind_of(importlib.import_module(m)) for m in sorted(modules)}
    assert (
        kinds["verify.benchmarks.latency"] == "timed"
        and kinds["verify.benchmarks.memory"] == "single"
    )
    assert kinds["verify.benchmarks.probes"] == "probe"
