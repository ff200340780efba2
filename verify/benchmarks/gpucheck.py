"""A health figure for the GPU a run used: the bf16 matrix-product throughput it reaches.

Run as ``python -m verify.benchmarks.gpucheck`` it prints one JSON object: TFLOP/s achieved by
square bf16 matrix products (torch, or JAX where torch sees no GPU), next to the card's nominal
dense bf16 Tensor Core peak where the card is known. A healthy H100 or H200 reaches about 80% of
its nominal figure; far less means a throttled, shared or misconfigured card, and the run's
timings should be read with that in mind.

On a CPU (``--device cpu``, used by the tests) the same code measures the CPU; no nominal figure.
"""

from __future__ import annotations

import argparse
import json
import sys
from time import perf_counter
from typing import Any

# NVIDIA's published dense (no 2:4 sparsity) bf16 Tensor Core figures, TFLOP/s, by the start of the
# name NVML reports; the H200 has the H100 SXM's GH100 compute at a higher memory bandwidth.
NOMINAL_BF16_TFLOPS = {
    "NVIDIA H200 NVL": 835.5,
    "NVIDIA H200": 989.4,
    "NVIDIA H100 PCIe": 756.5,
    "NVIDIA H100 NVL": 835.5,
    "NVIDIA H100": 989.4,  # the SXM boards ("NVIDIA H100 80GB HBM3")
    "NVIDIA A100": 312.0,
    "NVIDIA L40S": 362.1,
    "NVIDIA L4": 121.0,
}
NOMINAL_SOURCE = "NVIDIA data-sheet figure, dense bf16 Tensor Core"
DEFAULT_SIZE = 8192
DEFAULT_SECONDS = 2.0


def nominal_tflops(gpu_name: str) -> float | None:
    """The nominal dense bf16 peak of a card by its NVML name (longest matching prefix)."""
    for prefix in sorted(NOMINAL_BF16_TFLOPS, key=len, reverse=True):
        if gpu_name.startswith(prefix):
            return NOMINAL_BF16_TFLOPS[prefix]
    return None


def _time(call, sync, seconds: float) -> tuple[int, float]:
    for _ in range(3):  # warm-up: kernels chosen, clocks up
        sync(call())
    calls, t0 = 0, perf_counter()
    while True:
        sync(call())
        calls += 1
        elapsed = perf_counter() - t0
        if elapsed >= seconds and calls >= 3:
            return calls, elapsed


def _torch(device: str, n: int, seconds: float) -> tuple[int, float, str]:
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("torch sees no CUDA GPU")
    dev = torch.device(device)
    a = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=dev, dtype=torch.bfloat16)

    def sync(_out):
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    calls, elapsed = _time(lambda: a @ b, sync, seconds)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    return calls, elapsed, name


def _jax(device: str, n: int, seconds: float) -> tuple[int, float, str]:
    import jax
    import jax.numpy as jnp

    dev = jax.devices("gpu" if device == "cuda" else "cpu")[0]
    key_a, key_b = jax.random.split(jax.random.PRNGKey(0))
    a = jax.device_put(jax.random.normal(key_a, (n, n), jnp.bfloat16), dev)
    b = jax.device_put(jax.random.normal(key_b, (n, n), jnp.bfloat16), dev)
    matmul = jax.jit(jnp.matmul)
    calls, elapsed = _time(lambda: matmul(a, b), lambda out: out.block_until_ready(), seconds)
    return calls, elapsed, getattr(dev, "device_kind", str(dev))


FRAMEWORKS = {"torch": _torch, "jax": _jax}


def measure(
    device: str = "cuda",
    size: int = DEFAULT_SIZE,
    seconds: float = DEFAULT_SECONDS,
    framework: str = "torch",
    gpu_name: str | None = None,
) -> dict[str, Any]:
    """Achieved bf16 matmul TFLOP/s on ``device``; ``gpu_name`` (NVML's) finds the nominal peak."""
    calls, elapsed, seen = FRAMEWORKS[framework](device, size, seconds)
    tflops = 2 * size**3 * calls / elapsed / 1e12
    name = gpu_name or seen
    nominal = nominal_tflops(name) if device == "cuda" else None
    return {
        "framework": framework,
        "device": device,
        "device_name": name,
        "dtype": "bfloat16",
        "size": size,
        "calls": calls,
        "seconds": float(f"{elapsed:.6g}"),
        "tflops": float(f"{tflops:.5g}"),
        "nominal_tflops": nominal,
        "nominal_source": NOMINAL_SOURCE if nominal else None,
        "fraction_of_nominal": round(tflops / nominal, 4) if nominal else None,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the figure as one JSON line; exit 1 with a reason on stderr when it cannot run."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--size", type=int, default=DEFAULT_SIZE, help="matrix side (default 8192)")
    ap.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="time to measure for")
    ap.add_argument("--gpu-name", default=None, help="the card's NVML name, for its nominal peak")
    args = ap.parse_args(argv)
    errors = []
    for framework in FRAMEWORKS:  # torch first; JAX where this torch has no CUDA
        try:
            result = measure(args.device, args.size, args.seconds, framework, args.gpu_name)
        except Exception as exc:  # ImportError, no GPU, out of memory: try the next framework
            errors.append(f"{framework}: {type(exc).__name__}: {exc}")
            continue
        print(json.dumps(result))
        return 0
    print("; ".join(errors), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
