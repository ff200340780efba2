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
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from kg.rows import Environment, Run
from kg.textutil import natural_key


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
    "pythonVersion": "python", "timingThreads": "threads", "vectorInstructionSet": "isa",
    **{f.prop: f.field for f in FRAMEWORKS},
}  # fmt: skip
ARCHES = {"x86_64": "x86", "amd64": "x86", "aarch64": "arm64", "arm64": "arm64"}
# vector instruction sets beyond AVX2, each by the CPU flag that shows it: a CPU that has one is
# another machine for a benchmark (the same "AMD EPYC" with and without AVX-512 trained the same
# CNN 2.6x and 4.4x apart), so it is part of the environment's identity
VECTOR_ISAS = (("avx512", "avx512f", "AVX-512"),)
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
    isa = vector_isa(env)
    if isa:
        parts.insert(2, isa)
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
    if isa:  # so does a CPU without a vector instruction set beyond AVX2
        identity["vector_isa"] = isa
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:6]
    return "-".join([*parts, digest])


def vector_isa(env: dict[str, Any]) -> str | None:
    """The widest vector instruction set beyond AVX2 the CPU reports (VECTOR_ISAS), or None."""
    flags = set((env.get("cpu") or {}).get("flags") or [])
    return next((name for name, flag, _ in VECTOR_ISAS if flag in flags), None)


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
        isa = vector_isa(env)
        hw += next((f" with {words}" for name, _, words in VECTOR_ISAS if name == isa), "")
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


def cpu_name(model: str | None) -> str:
    """A CPU model as a reader names it: 'Intel(R) Xeon(R) Processor' -> 'Intel Xeon'."""
    name = re.sub(r"\((?:R|TM|tm)\)", "", model or "")
    name = re.sub(r"\s+(?:CPU|Processor)\s*$", "", name)
    return re.sub(r"\s+", " ", name).strip() or "CPU"


def machine_label(env: Environment) -> str:
    """The hardware of an environment without its software: 'H100' or '2-core <cpu model>'."""
    hw = (
        str(env.gpu).replace("NVIDIA ", "")
        if env.gpu
        else f"{env.cores or '?'}-core {cpu_name(env.cpu)}"
    )
    hw += next((f" with {words}" for name, _, words in VECTOR_ISAS if name == env.isa), "")
    return f"{hw}, {env.threads} threads" if env.threads and env.threads != 1 else hw


def newest_environment(runs: list[Run]) -> str | None:
    """The environment of the newest run (`runs` newest first): "this machine", where the site and
    `verify show` put verdicts first; None before any run."""
    return runs[0].environment if runs else None


@dataclass(frozen=True)
class EnvironmentName:
    """How an environment is named among others: ``display`` (unique: hardware and versions, then
    whatever else tells it apart) and ``short`` (only what tells it apart, for narrow columns and
    tables), with its machine and versions."""

    id: str
    display: str
    short: str
    machine: str
    versions: str

    def label(self, here: str | None = None) -> str:
        """The short name, marked "(this machine)" when it is the environment ``here``."""
        return f"{self.short} (this machine)" if self.id == here else self.short

    def full(self, here: str | None = None) -> str:
        """The unique name, marked "(this machine)" when it is the environment ``here``."""
        return f"{self.display} (this machine)" if self.id == here else self.display


# What can tell environments apart, in the order a reader looks: hardware, then versions.
PART_ORDER = ("machine", "torch", "tensorflow", "keras", "jax", "numpy", "python", "os", "mem")
EXTRA_PARTS = ("numpy", "python", "os", "mem")  # named only where nothing above tells them apart


def _parts(e: Environment) -> dict[str, str]:
    versions = {**row_versions(e), "numpy": e.numpy}
    out = {"machine": machine_label(e)}
    out |= {p: f"{BY_PACKAGE[p].name} {short_version(v)}" for p, v in versions.items() if v}
    extra = (("python", f"Python {e.python}" if e.python else ""), ("os", e.os or ""),
             ("mem", f"{e.mem:g} GiB" if e.mem else ""))  # fmt: skip
    return out | {k: v for k, v in extra if v}


def name_environments(rows: list[Environment]) -> dict[str, EnvironmentName]:
    """Each environment's names among these: the one naming the site, the CLI and the API share
    (the id's hash only as a last resort, where nothing recorded differs)."""
    parts = {e.id: _parts(e) for e in rows}
    differ = [k for k in PART_ORDER if len({p.get(k) for p in parts.values()}) > 1]
    extra = [k for k in differ if k in EXTRA_PARTS]
    out: dict[str, EnvironmentName] = {}
    for e in rows:
        p = parts[e.id]
        main = [p[k] for k in differ if k in p and k not in extra]
        short = " · ".join(main or [p[k] for k in extra if k in p]) or p["machine"]
        display = " · ".join(
            [f"{p['machine']}, {versions_text(row_versions(e))}", *(p[k] for k in extra if k in p)]
        )
        out[e.id] = EnvironmentName(e.id, display, short, p["machine"],
                                    versions_text(row_versions(e), empty=""))  # fmt: skip
    for name in ("display", "short"):
        seen = Counter(getattr(x, name) for x in out.values())
        for i, x in out.items():
            if seen[getattr(x, name)] > 1:
                out[i] = replace(x, **{name: f"{getattr(x, name)} [{i[-6:]}]"})
    return out


def environment_order(names: dict[str, EnvironmentName], first: str | None = None) -> list[str]:
    """Environment ids as the site's columns and the CLI's lists run: ``first`` (the newest
    run's environment), then by unique name in natural order."""
    return sorted(names, key=lambda e: (e != first, natural_key(names[e].display), e))


def os_name(env: dict[str, Any]) -> str | None:
    """An environment's operating system as its id knows it: the system alone ("Linux"). The
    kernel release is left to each record, as one environment is seen under several when the
    machine is updated, and its row must not depend on which of its records is read."""
    return (env.get("os") or {}).get("system") or None


def collected_row(env_id: str, env: dict[str, Any]) -> Environment:
    """A collected environment (``verify.run.environment.collect``, a record's ``environment``)
    as the row the graph gives back for it, so one not yet in the graph is named like the rest."""
    gpus = env.get("gpus") or [{}]
    pkgs = env.get("packages") or {}
    mem = round(env["ram_bytes"] / 2**30, 1) if env.get("ram_bytes") else None
    versions: dict[str, Any] = {f.field: pkgs.get(f.package) for f in FRAMEWORKS}
    return Environment(
        id=env_id, label=environment_label(env), cpu=(env.get("cpu") or {}).get("model"),
        cores=env.get("cores_logical"), mem=mem, gpu=gpus[0].get("name"),
        driver=gpus[0].get("driver"), cuda=gpus[0].get("cuda_driver"),
        os=os_name(env),
        python=env.get("python"),
        threads=timing_threads(env) if timing_threads(env) != 1 else None,
        isa=vector_isa(env),
        **versions,
    )  # fmt: skip
