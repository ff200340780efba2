"""Capability probes: do the thing on the installed versions, compare outputs, note deprecations.

Every probe returns one result dict::

    {"ok": bool, "detail": str, "max_abs_diff": float | None, "warnings": [str],
     "deprecated": bool, "successor": str | None, "versions": {package: version}, "seconds": float}

plus probe-specific fields. A failure of the capability itself (an exporter raising) is a result
with ``ok`` False and the exception in ``detail``; a missing package or device raises
``NotCheckable``. This module dispatches; the framework code lives in ``probes_torch``,
``probes_tf``, ``probes_keras``, ``distributed``, ``probes_tf_runtime``, ``probes_torch_runtime``,
``probes_torch_services`` and ``probes_tensorboard``, imported only when a probe of theirs runs, so a
worker imports one framework. What every probe shares (trials, fresh processes, deprecation
warnings, the tiny network) is in ``probekit``.
"""

from __future__ import annotations

import importlib

from verify.benchmarks import distributed
from verify.benchmarks.context import Context, NotCheckable

KIND = "probe"  # see verify.benchmarks.contract
PROBES: dict[str, str] = {
    "onnx-export": "torch",
    "torchscript": "torch",
    "torch-export": "torch",
    "torch-compile": "torch",
    "tf2onnx-export": "tensorflow",
    "savedmodel": "tensorflow",
    "tflite-convert": "tensorflow",
    "xla-jit": "tensorflow",
    "keras-backends": "keras",  # runs in a fresh process per backend
    "distributed-capability": "by-approach",  # see framework_of; each approach names its framework
    "tf-execution-default": "tensorflow",
    "tf-c-api": "tensorflow",
    "tfjs-convert": "tensorflow",
    "keras-bundled": "tensorflow",
    "torch-dynamic-graph": "torch",
    "onnx-web": "torch",
    "torchserve": "torch",
    "horovod-allreduce": "torch",
    "tensorboard-logging": "tensorboard",  # writes from torch and TensorFlow in child processes
}

_MODULES = {
    "torch": "verify.benchmarks.probes_torch",
    "tensorflow": "verify.benchmarks.probes_tf",
    "keras": "verify.benchmarks.probes_keras",
    # probes with a module of their own, by probe name (one framework per module still)
    "tf-execution-default": "verify.benchmarks.probes_tf_runtime",
    "tf-c-api": "verify.benchmarks.probes_tf_runtime",
    "tfjs-convert": "verify.benchmarks.probes_tf_runtime",
    "keras-bundled": "verify.benchmarks.probes_tf_runtime",
    "torch-dynamic-graph": "verify.benchmarks.probes_torch_runtime",
    "onnx-web": "verify.benchmarks.probes_torch_runtime",
    "torchserve": "verify.benchmarks.probes_torch_services",
    "horovod-allreduce": "verify.benchmarks.probes_torch_services",
    "tensorboard-logging": "verify.benchmarks.probes_tensorboard",
}


def framework_of(name: str, params: dict) -> str:
    """The framework a probe run needs (resolves distributed-capability by its approach)."""
    if name == "distributed-capability":
        return distributed.PROBES[distributed.approach_of(params)]
    if name not in PROBES:
        raise ValueError(f"unknown probe {name!r}; expected one of {sorted(PROBES)}")
    return PROBES[name]


def probe(name: str, params: dict, ctx: Context) -> dict:
    """Run probe ``name`` with ``params``; the result dict above, or NotCheckable."""
    if name == "distributed-capability":
        return distributed.probe(name, params, ctx)
    framework = framework_of(name, params)
    try:
        module = importlib.import_module(_MODULES.get(name) or _MODULES[framework])
    except ImportError as exc:
        raise NotCheckable(f"{framework} is not installed here ({exc})") from exc
    return module.run(name, dict(params), ctx)
