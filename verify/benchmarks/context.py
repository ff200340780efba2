"""The context a benchmark runs in, passed from the runner to the worker process."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Context:
    """Where and how a benchmark runs: device, thread count, seed, scratch folder."""

    device: str = "cpu"  # "cpu" or "cuda"
    threads: int = 1
    seed: int = 0
    scratch: str = ""  # a private temporary folder for files the benchmark writes
    # fp32: full single precision on every side (on a GPU, TensorFloat-32 is turned off where a
    # framework would use it by default); tf32: each framework may use TensorFloat-32 on a GPU
    precision: str = "fp32"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON transport."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Context:
        """Inverse of to_dict."""
        return cls(**d)


class NotCheckable(Exception):
    """The framework or device a benchmark needs is missing here; the check is not checkable."""


def cpu_name() -> str:
    """The CPU model name from /proc/cpuinfo (cheap; py-cpuinfo takes a second), or ''."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


_BACKENDS = {
    "torch": "verify.benchmarks.torch_models",
    "tensorflow": "verify.benchmarks.keras_models",
    "jax": "verify.benchmarks.jax_models",
    "keras": "verify.benchmarks.keras_jax_models",  # Keras 3 on the JAX backend
}


def framework_module(framework: str) -> ModuleType:
    """Import the model module of ``framework``; NotCheckable when the framework is not installed."""
    import importlib

    if framework not in _BACKENDS:
        raise ValueError(f"unknown framework {framework!r}; expected one of {sorted(_BACKENDS)}")
    try:
        return importlib.import_module(_BACKENDS[framework])
    except ImportError as exc:
        raise NotCheckable(f"{framework} is not installed here ({exc})") from exc
