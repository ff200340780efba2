"""The one place that names an environment: its id (the results folder), its label, the machine
without its software, and the framework versions it holds.

An environment is described twice: as the dict ``verify.run.environment.collect`` gathers (and a
run record keeps), and as the ``kg.model.Environment`` row the graph gives back. The tables below
map between the two, so a framework is added in one place.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from kg.rows import Environment, Run


@dataclass(frozen=True)
class Framework:
    """A framework whose version names an environment."""

    package: str  # key in the collected dict's "packages"
    field: str  # field of kg.model.Environment
    prop: str  # local name of the fwc: property in the graph
    name: str  # how a reader sees it
    id_prefix: str | None  # its part of an environment id ("tf2.21.0"); None: not in the id


FRAMEWORKS = (
    Framework("torch", "torch", "torchVersion", "torch", "torch"),
    Framework("tensorflow", "tf", "tensorflowVersion", "TF", "tf"),
    Framework("keras", "keras", "kerasVersion", "Keras", None),
    Framework("jax", "jax", "jaxVersion", "JAX", "jax"),
    Framework("numpy", "numpy", "numpyVersion", "numpy", None),
)
BY_PACKAGE = {f.package: f for f in FRAMEWORKS}
# fwc: property -> Environment field, for the hardware and software the graph records
PROPERTIES = {
    "cpuModel": "cpu", "cores": "cores", "memoryGiB": "mem", "gpuModel": "gpu",
    "gpuDriver": "driver", "cudaVersion": "cuda", "operatingSystem": "os",
    "pythonVersion": "python", "timingThreads": "threads", **{f.prop: f.field for f in FRAMEWORKS},
}  # fmt: skip
ARCHES = {"x86_64": "x86", "amd64": "x86", "aarch64": "arm64", "arm64": "arm64"}
LABEL_FRAMEWORKS = ("torch", "tensorflow", "jax")  # the versions an environment label shows
TEXT_FRAMEWORKS = ("torch", "tensorflow", "keras", "jax")  # and a versions text


def _slug(text: str) -> str:
    text = re.sub(r"(?i)\bnvidia\b|\bgeforce\b", "", text)
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")


def short_version(version: str) -> str:
    """A version without its local build tag: '2.13.0+cpu' -> '2.13.0'."""
    return version.split("+")[0]


def environment_id(env: dict[str, Any]) -> str:
    """A readable, stable folder name: arch, cores, device, framework versions, short hash."""
    arch = ARCHES.get(str(env["cpu"]["arch"]).lower(), _slug(str(env["cpu"]["arch"])))
    device = _slug(env["gpus"][0]["name"]) if env["gpus"] else "cpu"
    pkgs = env["packages"]
    parts = [arch, f"{env['cores_logical']}core", device]
    threads = timing_threads(env)
    if threads != 1:
        parts.append(f"{threads}thr")
    for f in FRAMEWORKS:
        if f.id_prefix and pkgs.get(f.package):
            parts.append(f.id_prefix + short_version(pkgs[f.package]))
    identity: dict[str, Any] = {
        "cpu": env["cpu"]["model"],
        "cores": env["cores_logical"],
        "ram_gib": round(env["ram_bytes"] / 2**30),
        "gpus": [g["name"] for g in env["gpus"]],
        "os": env["os"]["system"],
        "python": env["python"].rsplit(".", 1)[0],
        "packages": pkgs,
    }
    if threads != 1:  # one thread, the default, keeps the ids environments had before
        identity["threads"] = threads
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:6]
    return "-".join([*parts, digest])


def timing_threads(env: dict[str, Any]) -> int:
    """The thread count both sides were timed with (1 unless a run recorded another)."""
    return int(env.get("timing_threads") or 1)


def environment_label(env: dict[str, Any]) -> str:
    """A short label of a collected environment: '2-core x86 CPU, torch 2.13.0 / TF 2.21.0'."""
    gpus = env.get("gpus") or []
    if gpus:
        hw = str(gpus[0].get("name", "GPU")).replace("NVIDIA ", "")
    else:
        raw = str((env.get("cpu") or {}).get("arch", ""))
        arch = ARCHES.get(raw.lower(), raw)
        hw = f"{env.get('cores_logical', '?')}-core {arch or 'CPU'} CPU".replace("  ", " ")
    if timing_threads(env) != 1:
        hw += f", {timing_threads(env)} threads"
    pkgs = env.get("packages") or {}
    fw = versions_text({p: pkgs.get(p) for p in LABEL_FRAMEWORKS}, empty="")
    return f"{hw}, {fw}" if fw else hw


def versions_text(versions: dict[str, str | None], *, empty: str = "no framework") -> str:
    """'torch 2.13.0 / TF 2.21.0 / Keras 3.15.1' for the frameworks present, keyed by package."""
    parts = [
        f"{BY_PACKAGE[p].name} {short_version(v)}"
        for p, v in versions.items()
        if v and p in BY_PACKAGE
    ]
    return " / ".join(parts) or empty


def row_versions(env: Environment | None) -> dict[str, str | None]:
    """The versions an Environment row holds, keyed by package (torch, tensorflow, keras, jax)."""
    return {p: getattr(env, BY_PACKAGE[p].field) if env else None for p in TEXT_FRAMEWORKS}


def machine_label(env: Environment) -> str:
    """The hardware of an environment without its software: 'H100' or '2-core <cpu model>'."""
    hw = (
        str(env.gpu).replace("NVIDIA ", "")
        if env.gpu
        else f"{env.cores or '?'}-core {env.cpu or 'CPU'}"
    )
    return f"{hw}, {env.threads} threads" if env.threads and env.threads != 1 else hw


def newest_environment(runs: list[Run]) -> str | None:
    """The environment of the newest run (`runs` newest first): "this machine", where the site and
    `verify show` put verdicts first; None before any run."""
    return runs[0].environment if runs else None
