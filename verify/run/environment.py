"""The environment a run used: hardware, OS, Python and framework versions (kg.environments
names it).

Nothing here imports torch or TensorFlow: framework versions come from the installed distributions'
metadata, and build details (torch's config, TensorFlow's build info, CUDA seen by torch) are
reported by the worker processes that load those frameworks anyway. CPU details come from
py-cpuinfo, cached per host and boot because the lookup can take a second.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import json
import os
import platform
import socket
from pathlib import Path

import psutil

# Distributions whose versions matter to a result; several names for one package are alternatives.
PACKAGES = {
    "torch": ("torch",),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tf-nightly"),
    "keras": ("keras",),
    "jax": ("jax",),
    "jaxlib": ("jaxlib",),
    "numpy": ("numpy",),
    "onnx": ("onnx",),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
}
CPU_FLAGS = (
    "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16",
    "amx_tile", "amx_bf16", "neon", "asimd", "sve",
)  # fmt: skip


def package_versions() -> dict[str, str | None]:
    """Installed versions of the frameworks and their companions (None when absent)."""
    found: dict[str, str | None] = {}
    for key, dists in PACKAGES.items():
        found[key] = None
        for dist in dists:
            try:
                found[key] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return found


def _cache_file() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "fwclaims"
    boot = int(psutil.boot_time())
    return base / f"cpuinfo-{socket.gethostname()}-{boot}.json"


def cpu_info() -> dict:
    """CPU model, vendor, clock and the SIMD flags that matter, cached per host and boot."""
    cache = _cache_file()
    try:
        return json.loads(cache.read_text())
    except (OSError, ValueError):
        pass
    import cpuinfo

    raw = cpuinfo.get_cpu_info()
    info = {
        "model": raw.get("brand_raw") or platform.processor() or "unknown",
        "vendor": raw.get("vendor_id_raw"),
        "arch": raw.get("arch_string_raw") or platform.machine(),
        "hz_advertised": raw.get("hz_advertised_friendly"),
        "l3_cache_bytes": raw.get("l3_cache_size"),
        "flags": sorted(f for f in raw.get("flags", []) if f in CPU_FLAGS),
    }
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(info))
    except OSError:
        pass  # a read-only home only costs the lookup next time
    return info


def gpu_info() -> list[dict]:
    """NVIDIA GPUs seen through NVML (name, memory, driver, CUDA driver version); [] if none."""
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no driver or no GPU: both just mean "no GPU here"
        return []
    try:
        driver = pynvml.nvmlSystemGetDriverVersion()
        cuda = pynvml.nvmlSystemGetCudaDriverVersion()
        gpus = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            gpus.append(
                {
                    "name": pynvml.nvmlDeviceGetName(handle),
                    "memory_bytes": int(pynvml.nvmlDeviceGetMemoryInfo(handle).total),
                    "driver": driver,
                    "cuda_driver": f"{cuda // 1000}.{cuda % 1000 // 10}",
                }
            )
        return gpus
    finally:
        pynvml.nvmlShutdown()


def collect() -> dict:
    """Everything about this machine and its software that a result depends on."""
    mem = psutil.virtual_memory()
    return {
        "cpu": cpu_info(),
        "cores_logical": psutil.cpu_count(logical=True),
        "cores_physical": psutil.cpu_count(logical=False),
        "ram_bytes": int(mem.total),
        "gpus": gpu_info(),
        "os": {
            "system": platform.system(),
            "release": platform.release(),
            "libc": platform.libc_ver()[1],
        },
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": package_versions(),
        "hostname_hash": hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8],
    }


def has_cuda() -> bool:
    """Whether an NVIDIA GPU is visible (without importing a framework)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return bool(gpu_info()) or Path("/proc/driver/nvidia/gpus").is_dir()


def with_worker_versions(env: dict, frameworks: dict[str, dict]) -> dict:
    """The environment with the framework versions the workers really loaded.

    Workers may run another interpreter than the parent (a version matrix), so what they report
    wins over the parent's installed-package metadata.
    """
    if not env or not frameworks:
        return env
    packages = dict(env.get("packages", {}))
    for loaded in frameworks.values():
        for name, info in loaded.items():
            if name in packages and isinstance(info, dict) and info.get("version"):
                packages[name] = str(info["version"])
    return {**env, "packages": packages}
