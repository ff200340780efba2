"""Keras 3 on the JAX backend: the same builder as ``keras_models``, in a process whose Keras is JAX.

Keras fixes its backend when it is first imported, so this module sets ``KERAS_BACKEND=jax`` before
importing it and refuses a process where Keras already runs on another backend, just as
``keras_models`` does for TensorFlow. Threads and device are JAX's (``jax_models.configure``): Keras
on JAX runs its ops and compiled functions through the same XLA client.
"""

from __future__ import annotations

import os
from typing import Any

os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402
import keras  # noqa: E402

from verify.benchmarks import jax_models  # noqa: E402
from verify.benchmarks.context import Context  # noqa: E402

if keras.backend.backend() != "jax":  # keras was imported earlier with another backend
    raise RuntimeError(f"Keras runs on {keras.backend.backend()!r}; these models need jax")

from verify.benchmarks.keras_builder import build  # noqa: E402, F401  (the shared builder)


def configure(ctx: Context) -> jax.Device:
    """Set the thread count from ``ctx`` and pick its JAX device; call before Keras builds."""
    return jax_models.configure(ctx)


def synchronize(tree: Any) -> Any:
    """Wait for JAX's asynchronous dispatch (Keras on JAX returns JAX arrays from direct calls)."""
    return jax_models.synchronize(tree)


def runtime_info(device: jax.Device) -> dict:
    """JAX's versions, thread counts read back and device, plus the Keras version and backend."""
    return {
        **jax_models.runtime_info(device),
        "keras_version": keras.__version__,
        "keras_backend": keras.backend.backend(),
    }
