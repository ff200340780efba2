"""JAX models for the specs in ``models``: ``jax.lax`` layers on NHWC input, weights as pytrees.

There is no layer library here: each spec layer is a few lines of ``jax.lax``. That keeps the
numerics in plain view and spares the benchmark a Flax dependency, which would only wrap the same
ops. The canonical weights are converted at load time the way ``keras_models`` converts them: conv
kernels OIHW -> HWIO, dense (out, in) -> (in, out), and a dense layer after ``Flatten`` gets its rows
permuted from (C, H, W) to (H, W, C) order. Padding is explicit and symmetric, so a stride-2
convolution matches PyTorch's rather than XLA's "SAME" padding, which puts the extra row at the end.

Variables are ``{"params": [...], "stats": [...]}``: one dict of trainable arrays per Conv,
BatchNorm and Dense in canonical walk order, and one dict of BatchNorm statistics per BatchNorm.
Only ``params`` is differentiated and seen by the optimizer, as in PyTorch, where the statistics
are buffers.

Threads. XLA's CPU client sizes its thread pools once, when the client is created (on the first
device query or computation, not at ``import jax``), from ``DefaultThreadPoolSize()``. That reads
the environment variable ``PJRT_NPROC`` (then ``NPROC``), and otherwise uses the number of CPUs in
the process's affinity mask. It creates two pools of that size. "XLAEigen" runs the ops' parallel
loops and also the independent ops of a program (the thunk executor's task runner is that pool), so
XLA:CPU has no separate inter-op pool. "XLAPjRtCpuClient" dispatches programs. The often-quoted
``XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"`` does not limit
threads in jaxlib 0.10. The first flag is accepted and has no measurable effect. The second is not
an XLA flag: XLA drops a bare word that follows a ``--`` flag, and rejects it when written with
``--``. No JAX API reports the pool size, so ``runtime_info`` counts the live "XLAEigen" threads
(``tf_XLAEigen`` in ``/proc/self/task/*/comm``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from verify.benchmarks import models as m
from verify.benchmarks.context import Context, NotCheckable, cpu_name

Variables = dict[str, list[dict[str, jax.Array]]]
Apply = Callable[[Variables, jax.Array, bool], jax.Array]
THREADS_ENV = "PJRT_NPROC"
_POOL_THREAD = "tf_XLAEigen"  # tsl prefixes its pool threads' names with "tf_"
_NHWC = ("NHWC", "HWIO", "NHWC")


def configure(ctx: Context) -> jax.Device:
    """Set the thread count from ``ctx`` and pick its device; call before any JAX computation.

    The pool size is fixed when XLA's CPU client is created, so a process that already ran JAX keeps
    its pools; ``runtime_info`` reads back what is in force."""
    os.environ[THREADS_ENV] = str(ctx.threads)
    if ctx.device == "cuda":
        gpus = gpu_devices()
        if not gpus:
            raise NotCheckable("device cuda requested but JAX sees no GPU (a CPU-only jaxlib?)")
        device = gpus[0]
        # JAX may run float32 dots and convolutions as TensorFloat-32 on recent GPUs by default
        jax.config.update(
            "jax_default_matmul_precision",
            "highest" if ctx.precision == "fp32" else "tensorfloat32",
        )
    elif ctx.device == "cpu":
        # With a CUDA jaxlib, JAX would otherwise start on the GPU and reserve most of its memory.
        # The setting is ignored once the backends exist; jax.devices("cpu") picks the CPU anyway.
        jax.config.update("jax_platforms", "cpu")
        device = jax.devices("cpu")[0]
    else:
        raise NotCheckable(f"device {ctx.device!r} is not supported by these benchmarks")
    jax.config.update("jax_default_device", device)
    return device


def gpu_devices() -> list[jax.Device]:
    """The GPUs JAX sees, or [] when its jaxlib has no GPU backend or finds no GPU."""
    try:
        return list(jax.devices("gpu"))
    except RuntimeError:  # "Unknown backend: 'gpu' requested, but no platforms ..."
        return []


def pool_threads() -> int | None:
    """Live threads of XLA's CPU compute pool, counted by name (Linux only; None elsewhere).

    Only meaningful with one XLA runtime in the process: TensorFlow's XLA would add its own."""
    jax.devices("cpu")  # the pool exists once the CPU client does
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return None
    count = 0
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/comm", encoding="utf-8") as f:
                count += f.read().strip() == _POOL_THREAD
        except OSError:
            pass  # the thread ended while being listed
    return count


def runtime_info(device: jax.Device) -> dict:
    """Versions, layout, thread counts read back, device and backend."""
    import jaxlib

    threads = pool_threads()
    on_gpu = device.platform == "gpu"
    return {
        "framework": "jax",
        "version": jax.__version__,
        "jaxlib_version": jaxlib.__version__,
        "layout": "NHWC",
        "intra_op_threads": threads,
        # XLA:CPU runs a program's independent ops as tasks on the same pool (no inter-op pool).
        "inter_op_threads": threads,
        "thread_setting": f"{THREADS_ENV}={os.environ.get(THREADS_ENV, 'unset')}",
        "device": "cuda" if on_gpu else "cpu",
        "device_name": device.device_kind if on_gpu else cpu_name(),
        "backend": jax.default_backend(),
        "platform_version": device.client.platform_version,
        "matmul_precision": jax.config.jax_default_matmul_precision or "default",
    }


def synchronize(tree: Any) -> Any:
    """Wait until every array in ``tree`` is computed (JAX dispatches asynchronously, CPU too)."""
    return jax.block_until_ready(tree)


# --- loading the canonical weights --------------------------------------------------------------


def _convert(spec: m.ModelSpec, weights: list[np.ndarray]) -> dict[str, list[dict[str, Any]]]:
    """Canonical arrays -> {"params": [...], "stats": [...]} in NHWC / HWIO / (in, out) layout."""
    shapes = [shape for _, shape in m.param_shapes(spec)]
    if len(shapes) != len(weights):
        raise ValueError(f"model has {len(shapes)} weight arrays, got {len(weights)}")
    for shape, array in zip(shapes, weights, strict=True):
        if tuple(shape) != array.shape:
            raise ValueError(f"shape mismatch: {tuple(shape)} vs {array.shape}")
    arrays = iter(weights)
    params: list[dict[str, Any]] = []
    stats: list[dict[str, Any]] = []

    def visit(layers: list[m.Layer]) -> None:
        flatten: m.Flatten | None = None
        for layer in layers:
            if isinstance(layer, m.Conv):
                kernel, bias = next(arrays), next(arrays)
                params.append({"kernel": kernel.transpose(2, 3, 1, 0), "bias": bias})
            elif isinstance(layer, m.BatchNorm):
                gamma, beta, mean, var = (next(arrays) for _ in range(4))
                params.append({"scale": gamma, "offset": beta})
                stats.append({"mean": mean, "var": var})
            elif isinstance(layer, m.Dense):
                weight, bias = next(arrays), next(arrays)
                if flatten is not None:
                    c, h, w = flatten.channels, flatten.height, flatten.width
                    weight = (
                        weight.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(-1, h * w * c)
                    )
                params.append({"kernel": weight.T, "bias": bias})
            elif isinstance(layer, m.Residual):
                main, short = m.block_layers(layer)
                visit(main)
                visit(short)
            flatten = layer if isinstance(layer, m.Flatten) else None

    visit(list(spec.layers))
    return {"params": params, "stats": stats}


def build(
    spec: m.ModelSpec, weights: list[np.ndarray], device: jax.Device | None = None
) -> tuple[Apply, Variables]:
    """The spec as ``apply(variables, x, train)`` -> logits on NHWC ``x``, and its variables.

    ``apply`` is a pure function; jit it with ``jax.jit(apply, static_argnames="train")``.
    ``train=True`` normalises with the batch statistics (as PyTorch's ``train()`` and Keras'
    ``training=True`` do) without returning the updated statistics; ``make_train_step`` keeps
    those. The variables are placed on ``device``, or on JAX's default device."""
    variables = jax.device_put(
        jax.tree.map(lambda a: np.ascontiguousarray(a, np.float32), _convert(spec, weights)),
        device,
    )

    def apply(variables: Variables, x: jax.Array, train: bool = False) -> jax.Array:
        return forward(spec, variables, x, train)[0]

    return apply, variables


def parameter_count(variables: Variables) -> int:
    """Scalars in the trainable arrays and BN statistics, as the spec counts them."""
    return sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(variables))


# --- the forward pass ---------------------------------------------------------------------------


def _conv(layer: m.Conv, p: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    pad = ((layer.pad, layer.pad), (layer.pad, layer.pad))
    y = lax.conv_general_dilated(
        x, p["kernel"], (layer.stride, layer.stride), pad, dimension_numbers=_NHWC
    )
    return y + p["bias"]


def _batch_norm(
    p: dict[str, jax.Array], s: dict[str, jax.Array], x: jax.Array, train: bool
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Normalise over (N, H, W); in training, with the batch mean and biased variance.

    The statistics move as PyTorch moves them (momentum 0.1, the variance with n / (n - 1)).
    Keras (momentum 0.9, the same weighting) moves the variance with the biased estimate. The
    difference shows only in inference after training, not in the training loss."""
    if train:
        mean = jnp.mean(x, axis=(0, 1, 2))
        var = jnp.mean(jnp.square(x - mean), axis=(0, 1, 2))
        n = x.size // x.shape[-1]
        new = {
            "mean": 0.9 * s["mean"] + 0.1 * mean,
            "var": 0.9 * s["var"] + 0.1 * var * (n / max(n - 1, 1)),
        }
    else:
        mean, var, new = s["mean"], s["var"], s
    y = (x - mean) * (p["scale"] * lax.rsqrt(var + m.BN_EPSILON)) + p["offset"]
    return y, new


def forward(
    spec: m.ModelSpec, variables: Variables, x: jax.Array, train: bool
) -> tuple[jax.Array, list[dict[str, jax.Array]]]:
    """Logits and the BatchNorm statistics after this batch (unchanged when not ``train``)."""
    params: Iterator[dict[str, jax.Array]] = iter(variables["params"])
    stats: Iterator[dict[str, jax.Array]] = iter(variables["stats"])
    new_stats: list[dict[str, jax.Array]] = []

    def run(layers: list[m.Layer], x: jax.Array) -> jax.Array:
        for layer in layers:
            if isinstance(layer, m.Conv):
                x = _conv(layer, next(params), x)
            elif isinstance(layer, m.BatchNorm):
                x, s = _batch_norm(next(params), next(stats), x, train)
                new_stats.append(s)
            elif isinstance(layer, m.ReLU):
                x = jax.nn.relu(x)
            elif isinstance(layer, m.MaxPool):
                k = (1, layer.size, layer.size, 1)
                x = lax.reduce_window(x, -jnp.inf, lax.max, k, k, "VALID")  # remainder dropped
            elif isinstance(layer, m.Residual):
                main, short = m.block_layers(layer)
                y = run(main, x)
                x = jax.nn.relu(y + (run(short, x) if short else x))
            elif isinstance(layer, m.GlobalAvgPool):
                x = jnp.mean(x, axis=(1, 2))
            elif isinstance(layer, m.Flatten):
                x = x.reshape(x.shape[0], -1)  # (H, W, C) order; the next dense was permuted
            elif isinstance(layer, m.Dense):
                p = next(params)
                x = x @ p["kernel"] + p["bias"]
            else:
                raise TypeError(f"no JAX layer for {layer!r}")
        return x

    return run(list(spec.layers), x), new_stats


# --- training -----------------------------------------------------------------------------------


class TrainStep(NamedTuple):
    """``init(variables) -> opt_state``; ``step(variables, opt_state, x, y) -> (variables,
    opt_state, loss)``, jitted, consuming (donating) the variables and optimizer state it gets."""

    init: Callable[[Variables], optax.OptState]
    step: Callable[..., tuple[Variables, optax.OptState, jax.Array]]


def make_train_step(spec: m.ModelSpec, lr: float = 0.01, momentum: float = 0.9) -> TrainStep:
    """One SGD-with-momentum step on mean cross-entropy of logits, as ``training`` does in
    PyTorch and Keras.

    optax's ``sgd`` keeps ``trace = grad + momentum * trace`` from a zero start and applies
    ``-lr * trace``. PyTorch's SGD (no dampening, no Nesterov) keeps ``buf = momentum * buf + grad``
    with ``buf = grad`` on the first step, and applies ``-lr * buf``: the same sequence. Keras keeps
    ``v = momentum * v - lr * grad``, which is ``-lr * buf`` as long as lr is constant."""
    tx = optax.sgd(learning_rate=lr, momentum=momentum)

    def loss_fn(params, stats, x, y):
        logits, new_stats = forward(spec, {"params": params, "stats": stats}, x, True)
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return loss, new_stats

    # Donation lets XLA update the arrays in place, as the PyTorch and Keras optimizers do,
    # instead of allocating a new copy of every weight each step.
    @partial(jax.jit, donate_argnums=(0, 1))
    def step(variables: Variables, opt_state: optax.OptState, x: jax.Array, y: jax.Array):
        params = variables["params"]
        (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, variables["stats"], x, y
        )
        updates, opt_state = tx.update(grads, opt_state, params)
        return {"params": optax.apply_updates(params, updates), "stats": stats}, opt_state, loss

    return TrainStep(init=lambda variables: tx.init(variables["params"]), step=step)
