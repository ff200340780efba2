"""Peak memory of one framework in a fresh process, and GPU memory mapped at start-up.

Two benchmarks share this module: peak-memory (params ``phase``, ``batch_size``, ...) and
gpu-memory-mapping (params ``memory_growth``); ``measure_once`` tells them apart by that parameter.

``measure_once`` (bench peak-memory) runs inference or one eager training step and reports the
growth of the resident set over a baseline taken after the framework is imported and configured and
after the seeded weights and input exist as numpy arrays, so only what the framework allocates
(model, activations, gradients, optimizer state, runtime pools) counts.

The peak is read exactly, not sampled: Linux keeps the resident high-water mark (VmHWM) and lets a
process reset it to the current RSS by writing "5" to /proc/self/clear_refs. So the mark is reset at
the baseline and read after the run. ``ru_maxrss`` cannot be reset, so an import-time spike would
hide a smaller run peak; a sampling thread misses short spikes. The sampler is only the fallback
where clear_refs is not writable. On CUDA the allocator peak is reported as well and is the
``peak_memory`` value, as the benchmark defines it.
"""

from __future__ import annotations

import os
import threading
from time import perf_counter

import psutil

from verify.benchmarks import models
from verify.benchmarks.context import Context, NotCheckable, framework_module
from verify.benchmarks.latency import as_list

KIND = "single"  # see verify.benchmarks.contract
TIERS = {"torch": "torch", "tensorflow": "tensorflow", "jax": "jax"}
MB = 1024 * 1024


def _is_gpu_mapping(params: dict) -> bool:
    # Both benchmarks live in this module; gpu-memory-mapping is the one named by memory_growth.
    return "memory_growth" in params


def cells(params: dict) -> list[dict]:
    """One cell per batch size x input size; a single cell for gpu-memory-mapping."""
    if _is_gpu_mapping(params):
        growth = bool(params["memory_growth"])
        return [{"label": "memory-growth" if growth else "default", "memory_growth": growth}]
    model = params.get("model", "small-cnn")
    return [
        {"label": f"b{b}-s{s}", "model": model, "batch": int(b), "size": int(s)}
        for b in as_list(params.get("batch_size", 1))
        for s in as_list(params.get("input_size", 28))
    ]


class PeakRss:
    """Peak resident set size between start() and stop(), in bytes."""

    def __init__(self, interval_s: float = 0.001) -> None:
        self._proc = psutil.Process()
        self._interval = interval_s
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._peak = 0
        self.method = ""

    def start(self) -> None:
        """Reset the high-water mark, or start sampling where that is not possible."""
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.method = "VmHWM after reset"
        except OSError:
            self.method = "RSS sampled every 1 ms"
            self._peak = self._proc.memory_info().rss
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self._peak = max(self._peak, self._proc.memory_info().rss)

    def stop(self) -> int:
        """The peak since start()."""
        if self._thread is None:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
            raise RuntimeError("/proc/self/status has no VmHWM line")
        self._stop.set()
        self._thread.join()
        return max(self._peak, self._proc.memory_info().rss)


def _spec(cell: dict, params: dict) -> models.ModelSpec:
    channels, classes = int(params.get("channels", 3)), int(params.get("classes", 10))
    return models.build_spec(cell["model"], channels, classes, cell["size"])


def _torch_run(tm, device, spec, weights, x, labels, phase: str) -> dict:
    import torch

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    model = tm.build(spec, weights).to(device)
    xt = torch.from_numpy(x).to(device)
    if phase == "inference":
        with torch.inference_mode():
            model(xt)
    else:
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss = torch.nn.functional.cross_entropy(model(xt), torch.from_numpy(labels).to(device))
        loss.backward()
        opt.step()
    tm.synchronize(device)
    if device.type == "cuda":
        return {"gpu_peak_allocated_mb": torch.cuda.max_memory_allocated(device) / MB}
    return {}


def _tf_run(km, device, spec, weights, x, labels, phase: str) -> dict:
    import keras
    import tensorflow as tf

    x = models.to_nhwc(x)
    with tf.device(device):
        model = km.build(spec, weights)
        if phase == "inference":
            model(x, training=False).numpy()
        else:
            opt = keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)
            loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            with tf.GradientTape() as tape:
                loss = loss_fn(labels, model(x, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            model.trainable_variables[-1].numpy()
    if device.startswith("/GPU"):
        return {
            "gpu_peak_allocated_mb": tf.config.experimental.get_memory_info("GPU:0")["peak"] / MB
        }
    return {}


def _jax_run(jm, device, spec, weights, x, labels, phase: str) -> dict:
    import jax

    apply, variables = jm.build(spec, weights, device)
    x = jax.device_put(models.to_nhwc(x), device)
    if phase == "inference":
        jm.synchronize(jax.jit(apply, static_argnames="train")(variables, x, train=False))
    else:
        train = jm.make_train_step(spec, 0.01, 0.9)
        y = jax.device_put(labels.astype("int32"), device)
        jm.synchronize(train.step(variables, train.init(variables), x, y))
    if device.platform == "gpu":
        # a fresh process: XLA's allocator peak is this run's (the pool JAX reserves is not counted)
        stats = device.memory_stats() or {}
        return {"gpu_peak_allocated_mb": stats.get("peak_bytes_in_use", 0) / MB}
    return {}


_RUNS = {"torch": _torch_run, "tensorflow": _tf_run, "jax": _jax_run}


def measure_once(tier: str, cell: dict, params: dict, ctx: Context) -> dict:
    """Peak memory (MB) of building the model and running one inference or training step.

    With ``memory_growth`` in ``params`` this is bench gpu-memory-mapping: ``measure_gpu_mapping``.
    """
    if tier not in TIERS:
        raise ValueError(f"unknown memory tier {tier!r}; expected one of {', '.join(TIERS)}")
    if _is_gpu_mapping(params):
        return measure_gpu_mapping(tier, params, ctx)
    phase = params.get("phase", "inference")
    if phase not in ("inference", "training"):
        raise ValueError(f"phase must be 'inference' or 'training', got {phase!r}")
    backend = framework_module(TIERS[tier])
    spec = _spec(cell, params)
    weights = models.init_weights(spec, ctx.seed)
    x, labels = models.make_dataset(cell["batch"], spec.channels, spec.size, spec.classes, ctx.seed)
    run = _RUNS[tier]
    device = backend.configure(ctx)
    proc = psutil.Process()
    baseline = proc.memory_info().rss
    peak = PeakRss()
    peak.start()
    t0 = perf_counter()
    gpu = run(backend, device, spec, weights, x, labels, phase)
    elapsed = perf_counter() - t0
    peak_rss = peak.stop()
    rss_growth_mb = (peak_rss - baseline) / MB
    return {
        "peak_memory": gpu.get("gpu_peak_allocated_mb", rss_growth_mb),
        "rss_growth_mb": rss_growth_mb,
        "baseline_mb": baseline / MB,
        "peak_rss_mb": peak_rss / MB,
        "method": peak.method,
        "phase": phase,
        "run_s": elapsed,
        **gpu,
    }


def measure_gpu_mapping(tier: str, params: dict, ctx: Context) -> dict:
    """Share of the GPU's memory in use after the framework starts and runs a small op."""
    if tier not in TIERS:
        raise ValueError(f"unknown memory tier {tier!r}; expected one of {', '.join(TIERS)}")
    growth = bool(params.get("memory_growth", False))
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as exc:  # ImportError or NVMLError: no NVIDIA driver to ask
        raise NotCheckable(f"no NVIDIA GPU visible through NVML here ({exc})") from exc
    try:
        if pynvml.nvmlDeviceGetCount() == 0:
            raise NotCheckable("NVML reports no GPU here")
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        before = pynvml.nvmlDeviceGetMemoryInfo(handle).used
        applies = _start_framework_on_gpu(tier, growth)
        info = pynvml.nvmlDeviceGetMemoryInfo(handle)
        name = pynvml.nvmlDeviceGetName(handle)
    finally:
        pynvml.nvmlShutdown()
    return {
        "gpu_memory_share": (info.used - before) / info.total,
        "memory_growth": growth,
        "memory_growth_applies": applies,
        "gpu_used_before_mb": before / MB,
        "gpu_used_after_mb": info.used / MB,
        "gpu_total_mb": info.total / MB,
        "device_name": name if isinstance(name, str) else name.decode(),
    }


def _start_framework_on_gpu(tier: str, growth: bool) -> bool:
    """Run a small op on GPU 0; returns whether the memory-growth setting means anything here."""
    if tier == "jax" and growth:
        # JAX reserves 75% of the GPU when its backend starts unless told not to, before that
        os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    backend = framework_module(TIERS[tier])
    if tier == "jax":
        import jax

        gpus = backend.gpu_devices()
        if not gpus:
            raise NotCheckable("JAX sees no GPU here (a CPU-only jaxlib?)")
        (jax.device_put(jax.numpy.ones(1024), gpus[0]) * 2).sum().block_until_ready()
        return True
    if tier == "torch":
        import torch

        if not torch.cuda.is_available():
            raise NotCheckable("this torch build sees no CUDA GPU")
        (torch.ones(1024, device="cuda") * 2).sum().item()
        return False  # torch's caching allocator always grows on demand; there is no switch
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        raise NotCheckable("TensorFlow sees no GPU here")
    if growth:
        for gpu in gpus:
            tf.config.experimental.set_memory_growth(gpu, True)
    with tf.device("/GPU:0"):
        (tf.ones(1024) * 2).numpy()
    return True
