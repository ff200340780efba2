"""Per-epoch training time of the same classifier in PyTorch and Keras, per API tier.

Both sides train the same seeded weights on the same fixed synthetic data set, held in memory, in
the same order (no shuffling), with the same batch size, mean cross-entropy on logits and SGD
(lr 0.01, momentum 0.9, the two frameworks' momentum formulations being equal at constant lr).
``torch-loop`` is the usual zero_grad/forward/backward/step loop over tensor slices,
``torch-compile-loop`` the same with a ``torch.compile``d model, ``keras-fit`` one
``model.fit(epochs=1)`` call on a ``tf.data`` pipeline of the same arrays, batched, with tf.data's
autotuning off, and ``keras-fit-arrays`` the same call on the numpy arrays themselves (Keras builds
an autotuned pipeline). Autotuning is what made Keras fit's epoch times noisy under one thread: its
background work leaves the process waiting off the CPU, so epochs took from 1.0x to 1.7x their CPU
time at random; with it off, wall time equals CPU time as on the other tiers. ``tf-function-step`` a ``tf.function`` train step looped over pre-sliced tensors;
``jax-train-step`` a ``jax.jit``ed step with optax SGD (the same momentum sequence as PyTorch's)
looped over pre-sliced device arrays, and ``keras-jax-fit`` ``model.fit`` on Keras 3's JAX backend,
in a worker of its own. One call of ``time(calls)`` is one epoch, the device synchronised at its end.
"""

from __future__ import annotations

from time import perf_counter

import numpy as np

from verify.benchmarks import models
from verify.benchmarks.context import Context, framework_module
from verify.benchmarks.latency import as_list, warm_until_steady

KIND = "timed"  # see verify.benchmarks.contract
TIERS = {
    "torch-loop": "torch",
    "torch-compile-loop": "torch",
    "keras-fit": "tensorflow",
    "keras-fit-arrays": "tensorflow",
    "tf-function-step": "tensorflow",
    "jax-train-step": "jax",
    "keras-jax-fit": "keras",
}
LEARNING_RATE = 0.01
MOMENTUM = 0.9


def cells(params: dict) -> list[dict]:
    """One cell per batch size x input size (claims usually name one of each)."""
    model = params.get("model", "small-cnn")
    return [
        {"label": f"b{b}-s{s}", "model": model, "batch": int(b), "size": int(s)}
        for b in as_list(params["batch_size"])
        for s in as_list(params["input_size"])
    ]


def _data(cell: dict, params: dict, ctx: Context):
    channels, classes = int(params.get("channels", 3)), int(params.get("classes", 10))
    spec = models.build_spec(cell["model"], channels, classes, cell["size"])
    images, labels = models.make_dataset(
        int(params.get("samples", 2048)), channels, cell["size"], classes, ctx.seed
    )
    return spec, models.init_weights(spec, ctx.seed), images, labels


class _Session:
    """Reference logits taken before any step; warm-up of whole epochs; info."""

    def __init__(self, tier: str, cell: dict, info: dict, reference: np.ndarray) -> None:
        self.tier = tier
        self._info = {**info, "tier": tier, "model": cell["model"], "cell": cell["label"]}
        self._reference = reference

    def _epoch(self) -> None:
        raise NotImplementedError

    def reference_output(self) -> np.ndarray:
        """Logits of the untrained model (inference mode) on the first batch."""
        return self._reference

    def warmup(self) -> dict:
        """A first epoch (tracing, compilation, optimizer state), then epochs until steady."""
        t0 = perf_counter()
        self._epoch()
        first = perf_counter() - t0
        # epochs are long: one more after the first, a third only if the two differ by over 10%
        return warm_until_steady(self._epoch, first, window=1, max_calls=2, max_seconds=60.0)

    def time(self, calls: int) -> float:
        """Seconds per epoch over ``calls`` back-to-back epochs, the device synchronised at the end."""
        epoch = self._epoch
        t0 = perf_counter()
        for _ in range(calls):
            epoch()
        return (perf_counter() - t0) / calls

    def info(self) -> dict:
        """Layout, thread counts read back, versions, device name, data and optimizer settings."""
        return dict(self._info)

    def close(self) -> None:
        """Drop the model and data."""
        self.__dict__.clear()


class _TorchSession(_Session):
    def __init__(self, tier: str, cell: dict, params: dict, ctx: Context) -> None:
        tm = framework_module("torch")
        import torch

        device = tm.configure(ctx)
        spec, weights, images, labels = _data(cell, params, ctx)
        layout = tm.memory_format(params)
        model = tm.build(spec, weights).to(device, memory_format=layout)
        x = torch.from_numpy(images).to(device, memory_format=layout)
        y = torch.from_numpy(labels).to(device)
        b = cell["batch"]
        with torch.no_grad():
            reference = model(x[:b]).cpu().numpy()
        info = {**tm.runtime_info(device), "parameters": tm.parameter_count(model),
                "memory_format": str(layout).split(".")[-1]}  # fmt: skip
        super().__init__(tier, cell, {**info, **_settings(b, len(images))}, reference)
        model.train()
        self._step_model = torch.compile(model) if tier == "torch-compile-loop" else model
        self._optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
        self._batches = [(x[i : i + b], y[i : i + b]) for i in range(0, len(x), b)]
        self._loss = torch.nn.functional.cross_entropy
        self._sync = lambda: tm.synchronize(device)

    def _epoch(self) -> None:
        model, optimizer, loss_fn = self._step_model, self._optimizer, self._loss
        for xb, yb in self._batches:
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(xb), yb).backward()
            optimizer.step()
        self._sync()


class _KerasSession(_Session):
    def __init__(self, tier: str, cell: dict, params: dict, ctx: Context) -> None:
        km = framework_module("tensorflow")
        import keras
        import tensorflow as tf

        device = km.configure(ctx)
        spec, weights, images, labels = _data(cell, params, ctx)
        x = models.to_nhwc(images)
        b = cell["batch"]
        with tf.device(device):
            model = km.build(spec, weights)
            reference = model(x[:b], training=False).numpy()
        info = {**km.runtime_info(device), "parameters": model.count_params()}
        optimizer = keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=MOMENTUM)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if tier == "keras-fit-arrays":
            model.compile(optimizer=optimizer, loss=loss)
            info["keras_jit_compile"] = bool(model.jit_compile)
            info["input_pipeline"] = "numpy arrays (Keras' own autotuned tf.data pipeline)"
            self._epoch_fn = lambda: model.fit(
                x, labels, batch_size=b, epochs=1, shuffle=False, verbose=0
            )
        elif tier == "keras-fit":
            model.compile(optimizer=optimizer, loss=loss)
            info["keras_jit_compile"] = bool(model.jit_compile)
            info["input_pipeline"] = "tf.data from the arrays, batched, autotuning off"
            options = tf.data.Options()
            options.autotune.enabled = False
            data = tf.data.Dataset.from_tensor_slices((x, labels)).batch(b).with_options(options)
            self._epoch_fn = lambda: model.fit(data, epochs=1, verbose=0)
        else:
            step = _train_step(tf, model, optimizer, loss)
            with tf.device(device):
                batches = [
                    (tf.identity(x[i : i + b]), tf.identity(labels[i : i + b]))
                    for i in range(0, len(x), b)
                ]

            def epoch() -> None:
                for xb, yb in batches:
                    step(xb, yb)

            self._epoch_fn = epoch
        super().__init__(tier, cell, {**info, **_settings(b, len(images))}, reference)
        # Reading a small variable waits for the epoch's queued updates on an asynchronous GPU.
        last = model.trainable_variables[-1]
        self._sync = (lambda: last.numpy()) if device.startswith("/GPU") else (lambda: None)

    def _epoch(self) -> None:
        self._epoch_fn()
        self._sync()


def _train_step(tf, model, optimizer, loss_fn):
    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    return step


def _settings(batch: int, samples: int) -> dict:
    return {
        "batch_size": batch,
        "samples": samples,
        "optimizer": f"SGD(lr={LEARNING_RATE}, momentum={MOMENTUM})",
        "loss": "mean cross-entropy on logits",
        "sample": f"one epoch of {-(-samples // batch)} steps, after warm-up epochs in the same process",
    }


class _JaxSession(_Session):
    def __init__(self, tier: str, cell: dict, params: dict, ctx: Context) -> None:
        jm = framework_module("jax")
        import jax

        device = jm.configure(ctx)
        spec, weights, images, labels = _data(cell, params, ctx)
        b = cell["batch"]
        if len(images) % b:  # a short last batch would compile a second program in every epoch
            raise ValueError(f"samples ({len(images)}) must be a multiple of the batch size ({b})")
        apply, variables = jm.build(spec, weights, device)
        x = jax.device_put(models.to_nhwc(images), device)
        y = jax.device_put(labels.astype(np.int32), device)
        reference = np.asarray(
            jax.jit(apply, static_argnames="train")(variables, x[:b], train=False)
        )
        info = {**jm.runtime_info(device), "parameters": jm.parameter_count(variables)}
        super().__init__(tier, cell, {**info, **_settings(b, len(images))}, reference)
        train = jm.make_train_step(spec, LEARNING_RATE, MOMENTUM)
        self._state = {"variables": variables, "opt": train.init(variables)}
        self._batches = [(x[i : i + b], y[i : i + b]) for i in range(0, len(images), b)]
        self._step, self._sync = train.step, jm.synchronize

    def _epoch(self) -> None:
        state, step = self._state, self._step
        variables, opt, loss = state["variables"], state["opt"], None
        for xb, yb in self._batches:
            variables, opt, loss = step(variables, opt, xb, yb)  # donated: always rebind
        state["variables"], state["opt"] = variables, opt
        self._sync(loss)


class _KerasJaxSession(_Session):
    def __init__(self, tier: str, cell: dict, params: dict, ctx: Context) -> None:
        kj = framework_module("keras")
        import jax
        import keras

        device = kj.configure(ctx)
        spec, weights, images, labels = _data(cell, params, ctx)
        x, b = models.to_nhwc(images), cell["batch"]
        with jax.default_device(device):
            model = kj.build(spec, weights)
            reference = np.asarray(model(x[:b], training=False))
        info = {**kj.runtime_info(device), "parameters": model.count_params()}
        optimizer = keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=MOMENTUM)
        model.compile(optimizer=optimizer,
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
        info["keras_jit_compile"] = bool(model.jit_compile)
        super().__init__(tier, cell, {**info, **_settings(b, len(images))}, reference)
        last = model.trainable_variables[-1]
        self._fit = lambda: model.fit(x, labels, batch_size=b, epochs=1, shuffle=False, verbose=0)
        self._sync = lambda: kj.synchronize(last.value)

    def _epoch(self) -> None:
        self._fit()
        self._sync()


_SESSIONS = {"torch": _TorchSession, "tensorflow": _KerasSession, "jax": _JaxSession,
             "keras": _KerasJaxSession}  # fmt: skip


def open_session(tier: str, cell: dict, params: dict, ctx: Context) -> _Session:
    """Build the cell's model and data set for ``tier``; reference logits taken before training."""
    if tier not in TIERS:
        raise ValueError(f"unknown training tier {tier!r}; expected one of {', '.join(TIERS)}")
    return _SESSIONS[TIERS[tier]](tier, cell, params, ctx)
