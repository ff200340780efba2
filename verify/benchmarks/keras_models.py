"""Keras 3 (TensorFlow backend) models for the specs in ``models``, channels-last.

Channels-last (NHWC) is TensorFlow's native layout on CPU and the Keras default, so the canonical
weights are converted at load time: conv kernels OIHW -> HWIO, dense (out, in) -> (in, out), and a
dense layer after ``Flatten`` gets its rows permuted from (C, H, W) to (H, W, C) order. The builder
itself is backend-neutral (``keras_builder``); ``keras_jax_models`` runs it on JAX.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_BACKEND"] = "tensorflow"

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from verify.benchmarks.context import Context, NotCheckable, cpu_name  # noqa: E402

if keras.backend.backend() != "tensorflow":  # keras was imported earlier with another backend
    raise RuntimeError(f"Keras runs on {keras.backend.backend()!r}; these models need tensorflow")

from verify.benchmarks.keras_builder import build  # noqa: E402, F401  (km.build for the benchmarks)


def configure(ctx: Context) -> str:
    """Set the thread counts from ``ctx`` and pick its device (a TF device string); call first."""
    threading = tf.config.threading
    for setter in (
        threading.set_intra_op_parallelism_threads,
        threading.set_inter_op_parallelism_threads,
    ):
        try:
            setter(ctx.threads)
        except RuntimeError:
            pass  # fixed once the runtime starts; runtime_info() reads back what is in force
    gpus = tf.config.list_physical_devices("GPU")
    if ctx.device == "cuda":
        if not gpus:
            raise NotCheckable("device cuda requested but TensorFlow sees no GPU")
        tf.config.experimental.enable_tensor_float_32_execution(ctx.precision == "tf32")
        device = "/GPU:0"
    elif ctx.device == "cpu":
        if gpus:  # hidden, or Keras would place variables and eager ops on the GPU
            try:
                tf.config.set_visible_devices([], "GPU")
            except RuntimeError:
                pass  # runtime already started; the tf.device scopes below still pin the model
        device = "/CPU:0"
    else:
        raise NotCheckable(f"device {ctx.device!r} is not supported by these benchmarks")
    return device


def runtime_info(device: str) -> dict:
    """Versions, layout, thread counts read back from TensorFlow, and device name."""
    name = cpu_name()
    if device.startswith("/GPU"):
        gpu = tf.config.list_physical_devices("GPU")[0]
        name = tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
    return {
        "framework": "tensorflow",
        "version": tf.__version__,
        "keras_version": keras.__version__,
        "layout": "NHWC",
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "device": "cuda" if device.startswith("/GPU") else "cpu",
        "device_name": name,
    }
