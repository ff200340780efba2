"""Keras 3 on several backends: the tiny network in a fresh process per backend.

Keras fixes its backend when it is first imported (``KERAS_BACKEND``), so each backend runs in a
child process (``python -m verify.benchmarks.probes_keras``); the parent imports no framework and
compares the child's output with the numpy reference of the same weights.
"""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np

from verify.benchmarks.context import Context, NotCheckable
from verify.benchmarks.probekit import (
    INPUT_SHAPE,
    Trial,
    child_main,
    compare,
    run_children,
    run_trial,
    tiny_forward,
    tiny_input,
    tiny_weights,
    unique_warnings,
    versions,
)

BACKENDS = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}  # backend -> module
TIMEOUT_S = 180.0


def tiny_keras_model(w: dict[str, np.ndarray]):
    """The tiny conv + dense network in Keras 3 on whatever backend Keras was imported with."""
    import keras

    kernel = w["conv_kernel"]  # HWIO, as Keras holds it
    model = keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            keras.layers.Conv2D(kernel.shape[3], kernel.shape[0]),
            keras.layers.ReLU(),
            keras.layers.Flatten(),
            keras.layers.Dense(w["dense_kernel"].shape[1]),
        ]
    )
    model.set_weights([w["conv_kernel"], w["conv_bias"], w["dense_kernel"], w["dense_bias"]])
    return model


def run(name: str, params: dict, ctx: Context) -> dict:
    """Run the Keras probe ``name`` (only keras-backends)."""
    if name != "keras-backends":
        raise ValueError(f"{name!r} is not a Keras probe; expected 'keras-backends'")
    return keras_backends(params, ctx)


def keras_backends(params: dict, ctx: Context) -> dict:
    """Build, run and train the tiny network on one Keras backend in a fresh process."""
    backend = params.get("backend", "tensorflow")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {sorted(BACKENDS)}, not {backend!r}")
    for module in ("keras", BACKENDS[backend]):
        if importlib.util.find_spec(module) is None:
            raise NotCheckable(f"{module} is not installed here, so Keras cannot run on {backend}")
    if ctx.device != "cpu":
        raise NotCheckable(f"the keras-backends probe runs on the CPU only, not {ctx.device!r}")
    trial = Trial(apis=("keras", f"{backend} backend"), versions=versions("keras"))

    def body(t: Trial) -> dict:
        t.step = f"running Keras on the {backend} backend in a fresh process"
        threads = str(max(1, ctx.threads))
        env = {"KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": threads}
        payload = {"seed": ctx.seed, "backend": backend}
        timeout = float(params.get("timeout_s", TIMEOUT_S))
        (child,) = run_children("verify.benchmarks.probes_keras", [payload], env, timeout)
        if "not_checkable" in child:
            raise NotCheckable(child["not_checkable"])
        if "error" in child:
            raise RuntimeError(child["error"])
        t.versions.update(child["versions"])
        t.notes.extend(child["warnings"])
        if child["backend"] != backend:
            return {"ok": False, "detail": f"Keras ran on {child['backend']!r}, not {backend!r}."}
        w = tiny_weights(ctx.seed)
        diff, tol = compare(tiny_forward(w, tiny_input(ctx.seed)), np.asarray(child["output"]))
        losses = child["losses"]
        trained = bool(np.all(np.isfinite(losses))) and losses[-1] < losses[0]
        if not trained:
            return {
                "ok": False,
                "detail": f"Training on {backend} did not lower the loss: {losses}.",
            }
        return {
            "detail": f"Keras {child['versions']['keras']} on the {backend} backend ran the model with "
            "outputs matching the numpy reference and lowered the loss in training.",
            "max_abs_diff": diff,
            "tolerance": tol,
            "backend": backend,
            "losses": losses,
        }

    return run_trial(trial, body)


def _child(payload: dict) -> dict:
    """In the fresh process: build the network on this backend, predict, train a few steps."""
    import importlib

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import keras

        keras.utils.set_random_seed(payload["seed"])
        w = tiny_weights(payload["seed"])
        model = tiny_keras_model(w)
        x = tiny_input(payload["seed"], batch=16)
        output = keras.ops.convert_to_numpy(model(x[:2], training=False))
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
        target = np.zeros((len(x), w["dense_bias"].shape[0]), np.float32)
        history = model.fit(x, target, batch_size=8, epochs=3, verbose=0, shuffle=False)
    backend = keras.backend.backend()
    framework = importlib.import_module(BACKENDS.get(backend, backend))
    return {
        "backend": backend,
        "output": output.tolist(),
        "losses": [float(v) for v in history.history["loss"]],
        "versions": {"keras": keras.__version__, backend: framework.__version__},
        "warnings": unique_warnings(caught),
    }


if __name__ == "__main__":
    child_main(_child)
