"""Inference latency of the same image classifier in PyTorch and Keras, per API tier.

Each tier is what a user of that API calls: ``torch-eager`` is the module under
``torch.inference_mode()``, ``torch-compile`` the ``torch.compile``d module, ``keras-predict``
``model.predict(x, verbose=0)`` on a numpy batch (its per-call overhead is part of what is measured),
``keras-call`` ``model(x, training=False)`` on a tensor, ``tf-function`` that call wrapped in
``tf.function`` and ``tf-xla`` the same with ``jit_compile=True``. ``jax-jit`` is the ``jax.jit``ed
forward pass of the same network written in ``jax.lax``; ``keras-jax-predict`` and ``keras-jax-call``
are the Keras calls on Keras 3's JAX backend, in a worker of their own (a process fixes its Keras
backend when it first imports Keras). The probe input sits on the device before timing; only the
model call is inside the loop, and every call is waited for before the next (JAX and a GPU dispatch
asynchronously; a latency is the time until one call's output is there).
"""

from __future__ import annotations

import gc
import statistics
from collections.abc import Callable
from time import perf_counter
from typing import Any

import numpy as np

from verify.benchmarks import models
from verify.benchmarks.context import Context, framework_module

KIND = "timed"  # see verify.benchmarks.contract
TIERS = {
    "torch-eager": "torch",
    "torch-compile": "torch",
    "keras-predict": "tensorflow",
    "keras-call": "tensorflow",
    "tf-function": "tensorflow",
    "tf-xla": "tensorflow",
    "jax-jit": "jax",
    "keras-jax-predict": "keras",
    "keras-jax-call": "keras",
}


def as_list(value: Any) -> list:
    """A scalar parameter as a one-element list; lists pass through."""
    return list(value) if isinstance(value, list | tuple) else [value]


def cells(params: dict) -> list[dict]:
    """One cell per batch size x input size."""
    model = params.get("model", "small-cnn")
    return [
        {"label": f"b{b}-s{s}", "model": model, "batch": int(b), "size": int(s)}
        for b in as_list(params["batch_sizes"])
        for s in as_list(params["input_sizes"])
    ]


def warm_until_steady(
    call: Callable[[], object],
    first_call_s: float,
    *,
    window: int = 2,
    spread: float = 0.10,
    max_calls: int = 100,
    max_seconds: float = 5.0,
) -> dict:
    """Repeat ``call`` until the median of the last ``window`` timings is within ``spread`` of the
    median of the ``window`` before (steady), or the call or time cap is reached.

    Comparing medians of windows rather than demanding ``window`` calls in a row within the
    spread keeps one noisy call (common for Keras ``predict``) from prolonging the warm-up
    without letting a still-falling series pass as steady."""
    times: list[float] = []
    start = perf_counter()
    steady = False
    while len(times) < max_calls and perf_counter() - start < max_seconds:
        t0 = perf_counter()
        call()
        times.append(perf_counter() - t0)
        if len(times) >= 2 * window:
            last = statistics.median(times[-window:])
            before = statistics.median(times[-2 * window : -window])
            if abs(last - before) <= spread * before:
                steady = True
                break
    steady_s = statistics.median(times[-window:]) if times else first_call_s
    return {
        "first_call_s": first_call_s,
        "compile_s": max(first_call_s - steady_s, 0.0),
        "steady_call_s": steady_s,
        "calls": 1 + len(times),
        "steady": steady,
    }


class _Session:
    """First call (which carries any compilation), reference output, warm-up and info."""

    def __init__(self, tier: str, cell: dict, info: dict) -> None:
        self.tier = tier
        self._info = {**info, "tier": tier, "model": cell["model"], "cell": cell["label"]}
        self._first_call_s: float | None = None
        self._reference: np.ndarray | None = None

    _step: Callable[[], object]  # one call of the tier, its result waited for

    def _call_synced(self) -> object:
        return np.asarray(self._step())

    def _ensure_first_call(self) -> None:
        # Whichever of reference_output() and warmup() runs first times the first call, so compile
        # time is reported wherever the runner triggers it.
        if self._first_call_s is None:
            t0 = perf_counter()
            out = self._call_synced()
            self._first_call_s = perf_counter() - t0
            self._reference = np.asarray(out, dtype=np.float32)

    def reference_output(self) -> np.ndarray:
        """Logits (batch, classes) of this tier's own call on the fixed probe input."""
        self._ensure_first_call()
        assert self._reference is not None
        return self._reference

    def warmup(self) -> dict:
        """Calls until per-call time is steady; first call and compile time reported apart."""
        self._ensure_first_call()
        assert self._first_call_s is not None
        return warm_until_steady(self._call_synced, self._first_call_s)

    def time(self, calls: int) -> float:
        """Seconds per call over ``calls`` calls, each waited for before the next."""
        step = self._step
        t0 = perf_counter()
        for _ in range(calls):
            step()
        return (perf_counter() - t0) / calls

    def info(self) -> dict:
        """Layout, thread counts read back, versions, device name, parameter count."""
        return dict(self._info)

    def close(self) -> None:
        """Drop the model and input."""
        self.__dict__.clear()
        gc.collect()


class _TorchSession(_Session):
    def __init__(self, tier: str, cell: dict, params: dict, ctx: Context) -> None:
        tm = framework_module("torch")
        import torch

        device = tm.configure(ctx)
        spec = _spec(cell, params)
        layout = tm.memory_format(params)
        model = tm.build(spec, models.init_weights(spec, ctx.seed)).to(device, memory_format=layout)
        x = models.make_input(cell["batch"], spec.channels, spec.size, ctx.seed)
        info = {**tm.runtime_info(device), "parameters": tm.parameter_count(model)}
        super().__init__(tier, cell, {**info, "memory_format": str(layout).split(".")[-1]})
        self._torch, self._sync = torch, lambda: tm.synchronize(device)
        self._x = torch.from_numpy(x).to(device, memory_format=layout)
        self._model = torch.compile(model) if tier == "torch-compile" else model

    def _call_synced(self) -> object:
        with self._torch.inference_mode():
            out = self._model(self._x)
            self._sync()
        return out.cpu().numpy()

    def time(self, calls: int) -> float:
        """Seconds per call over ``calls`` calls, CUDA synchronised after each (no-op on CPU)."""
        model, x, sync = self._model, self._x, self._sync
        with self._torch.inference_mode():
            sync()
            t0 = perf_counter()
            for _ in range(calls):
                model(x)
                sync()
            return (perf_counter() - t0) / calls


class _KerasSession(_Session):
    def __init__(self, tier: str, cell: dict, params: dict, ctx: Context) -> None:
        km = framework_module("tensorflow")
        import tensorflow as tf

        device = km.configure(ctx)
        spec = _spec(cell, params)
        x = models.to_nhwc(models.make_input(cell["batch"], spec.channels, spec.size, ctx.seed))
        with tf.device(device):
            model = km.build(spec, models.init_weights(spec, ctx.seed))
            x_tensor = tf.identity(tf.constant(x))
        info = {**km.runtime_info(device), "parameters": model.count_params()}
        if tier == "keras-predict":
            info["keras_jit_compile"] = bool(model.jit_compile)
            # batch_size pinned so predict() runs one forward pass per call, not 32-sample slices
            self._step = lambda: model.predict(x, batch_size=len(x), verbose=0)
        else:
            if tier == "keras-call":
                call = lambda: model(x_tensor, training=False)  # noqa: E731
            else:
                fn = tf.function(lambda t: model(t, training=False), jit_compile=tier == "tf-xla")
                call = lambda: fn(x_tensor)  # noqa: E731
            # TF eager on a GPU is asynchronous: fetching the (small) logits waits for the call
            self._step = (lambda: call().numpy()) if device.startswith("/GPU") else call
        super().__init__(tier, cell, info)

    def _call_synced(self) -> object:
        out = self._step()
        return out if isinstance(out, np.ndarray) else out.numpy()


def _spec(cell: dict, params: dict) -> models.ModelSpec:
    return models.build_spec(
        cell["model"], int(params.get("channels", 3)), int(params.get("classes", 10)), cell["size"]
    )


class _JaxSession(_Session):
    def __init__(self, tier: str, cell: dict, params: dict, ctx: Context) -> None:
        jm = framework_module("jax")
        import jax

        device = jm.configure(ctx)
        spec = _spec(cell, params)
        apply, variables = jm.build(spec, models.init_weights(spec, ctx.seed), device)
        x = models.to_nhwc(models.make_input(cell["batch"], spec.channels, spec.size, ctx.seed))
        x = jax.device_put(x, device)
        f = jax.jit(apply, static_argnames="train")
        self._step = lambda: jm.synchronize(f(variables, x, train=False))
        info = {**jm.runtime_info(device), "parameters": jm.parameter_count(variables)}
        super().__init__(tier, cell, info)


class _KerasJaxSession(_Session):
    def __init__(self, tier: str, cell: dict, params: dict, ctx: Context) -> None:
        kj = framework_module("keras")
        import jax

        device = kj.configure(ctx)
        spec = _spec(cell, params)
        x = models.to_nhwc(models.make_input(cell["batch"], spec.channels, spec.size, ctx.seed))
        with jax.default_device(device):
            model = kj.build(spec, models.init_weights(spec, ctx.seed))
        info = {**kj.runtime_info(device), "parameters": model.count_params()}
        if tier == "keras-jax-predict":
            info["keras_jit_compile"] = bool(model.jit_compile)
            self._step = lambda: model.predict(x, batch_size=len(x), verbose=0)
        else:
            x_dev = jax.device_put(x, device)
            self._step = lambda: kj.synchronize(model(x_dev, training=False))
        super().__init__(tier, cell, info)


_SESSIONS = {"torch": _TorchSession, "tensorflow": _KerasSession, "jax": _JaxSession,
             "keras": _KerasJaxSession}  # fmt: skip


def open_session(tier: str, cell: dict, params: dict, ctx: Context) -> _Session:
    """Build the cell's model for ``tier`` with the seeded weights, ready for the fairness check."""
    if tier not in TIERS:
        raise ValueError(f"unknown latency tier {tier!r}; expected one of {', '.join(TIERS)}")
    return _SESSIONS[TIERS[tier]](tier, cell, params, ctx)
