"""A worker process: runs one benchmark module's sessions on request
(``python -m verify.benchmarks.worker``).

The parent (``verify.run.spawn``) sends one JSON request per line on stdin and reads one JSON reply per
line. The reply channel is a private copy of the original stdout; file descriptor 1 is pointed at
stderr, so whatever a framework prints cannot corrupt the protocol. Each worker loads one framework
(the runner never opens tiers of two frameworks in one worker). Imports only the standard library,
numpy and the benchmark package - never rdflib or jinja2.

Requests: ``{"op": name, ...}``; replies: ``{"ok": true, "result": ...}`` or
``{"ok": false, "kind": "not-checkable" | "error", "message": str, "traceback": str}``.
"""

from __future__ import annotations

import base64
import faulthandler
import importlib
import importlib.util
import json
import os
import sys
import threading
import time
import traceback

import numpy as np

from verify.benchmarks.context import Context, NotCheckable
from verify.benchmarks.contract import kind_of

ALWAYS_AVAILABLE = {"numpy"}
# frameworks whose tiers need more than one package (Keras 3 on the JAX backend)
NEEDS = {"keras": ("keras", "jax")}
BUILD_NAMES = {"tensorflow": "TensorFlow", "torch": "PyTorch", "jax": "JAX", "keras": "Keras"}
TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_ticks() -> tuple[int, int] | None:
    """CPU ticks all processes spent busy, and ticks stolen, from /proc/stat (None elsewhere)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal guest guest_nice
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
    return user + nice + system + irq + softirq, steal


FRAMEWORKS = ("torch", "tensorflow", "keras", "jax", "numpy")


class Worker:
    """The state of one worker process: its open sessions, keyed by a small integer."""

    def __init__(self) -> None:
        self.sessions: dict[int, object] = {}
        self.next_sid = 1

    def _module(self, name: str):
        if not name.startswith("verify."):
            raise ValueError(f"benchmark module {name!r} is outside the verify package")
        return importlib.import_module(name)

    def describe(self, module: str, params: dict) -> dict:
        """Which kind of benchmark a module is, its tiers or probes, and its cells."""
        mod = self._module(module)
        kind = kind_of(mod)
        if kind == "probe":
            return {"kind": kind, "tiers": dict(mod.PROBES), "cells": None}
        return {"kind": kind, "tiers": dict(mod.TIERS), "cells": mod.cells(params)}

    def _require(self, framework: str) -> None:
        for package in NEEDS.get(framework, (framework,)):
            if package not in ALWAYS_AVAILABLE and importlib.util.find_spec(package) is None:
                name = BUILD_NAMES.get(package, package)
                raise NotCheckable(f"no {name} build ({package} is not installed)")

    def open(self, module: str, tier: str, cell: dict, params: dict, ctx: dict) -> dict:
        """Open a session for one tier and cell; returns its id."""
        mod = self._module(module)
        self._require(mod.TIERS[tier])
        session = mod.open_session(tier, cell, params, Context.from_dict(ctx))
        sid, self.next_sid = self.next_sid, self.next_sid + 1
        self.sessions[sid] = session
        return {"sid": sid, "pid": os.getpid()}

    def reference(self, sid: int) -> dict:
        """The session's reference output, as float64 bytes for exact transport."""
        out = np.ascontiguousarray(
            np.asarray(self.sessions[sid].reference_output(), dtype=np.float64)
        )
        return {"shape": list(out.shape), "data": base64.b64encode(out.tobytes()).decode("ascii")}

    def warmup(self, sid: int) -> dict:
        """Warm the session up until steady (the benchmark decides what steady means)."""
        return dict(self.sessions[sid].warmup())

    def calibrate(self, sid: int, target_s: float, max_calls: int = 1_000_000) -> dict:
        """Calls per sample so that one sample lasts at least target_s."""
        session, calls = self.sessions[sid], 1
        while True:
            per_call = session.time(calls)
            if per_call * calls >= target_s or calls >= max_calls:
                return {"calls": calls, "per_call_s": per_call}
            grow = target_s / max(per_call * calls, 1e-9) * 1.2
            calls = min(max_calls, max(calls * 2, int(calls * min(grow, 100.0))))

    def sample(self, sid: int, calls: int, n: int = 1) -> dict:
        """n samples of seconds per call, each over `calls` back-to-back calls.

        Beside the benchmark's own (wall-clock) figure come, over the same span: this process's
        CPU seconds per call (all its threads), and what the rest of the machine did, from
        /proc/stat: CPU seconds other processes used (``others``, signed: see below) and time
        stolen by the hypervisor (``steal``), both in seconds over the whole span (``span``).
        """
        session, out = (
            self.sessions[sid],
            {"wall": [], "cpu": [], "others": [], "steal": [], "span": []},
        )
        for _ in range(n):
            m0, c0, t0 = machine_ticks(), time.process_time(), time.perf_counter()
            out["wall"].append(float(session.time(calls)))
            own, span, m1 = time.process_time() - c0, time.perf_counter() - t0, machine_ticks()
            out["cpu"].append(own / calls)
            out["span"].append(span)
            if m0 is not None and m1 is not None:
                busy, steal = (m1[0] - m0[0]) / TICKS_PER_S, (m1[1] - m0[1]) / TICKS_PER_S
                # signed: /proc/stat counts whole ticks, so one short sample's difference is off
                # by up to a tick per core either way; clipped at zero per sample, those errors
                # would add up to a phantom load (verify.run.machine clips the pair's sum)
                out["others"].append(busy - own)
                out["steal"].append(steal)
        return out

    def info(self, sid: int) -> dict:
        """The session's own report: layout, threads read back, versions, device."""
        return dict(self.sessions[sid].info())

    def close(self, sid: int) -> None:
        """Close and forget a session."""
        self.sessions.pop(sid).close()

    def measure_once(self, module: str, tier: str, cell: dict, params: dict, ctx: dict) -> dict:
        """A single-shot measurement in this (fresh) process."""
        mod = self._module(module)
        self._require(mod.TIERS[tier])
        return dict(mod.measure_once(tier, cell, params, Context.from_dict(ctx)))

    def probe(self, module: str, name: str, params: dict, ctx: dict) -> dict:
        """Run a capability probe."""
        mod = self._module(module)
        # some probes need a framework that depends on their parameters (distributed approaches)
        resolve = getattr(mod, "framework_of", None)
        self._require(resolve(name, params) if resolve else mod.PROBES[name])
        return dict(mod.probe(name, params, Context.from_dict(ctx)))

    def frameworks(self) -> dict:
        """Versions and build details of the frameworks this process has loaded."""
        return loaded_frameworks()


def _short(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."


def loaded_frameworks() -> dict:
    """Build info of frameworks already imported here (looked up in sys.modules, never imported)."""
    found: dict[str, dict] = {}
    torch = sys.modules.get("torch")
    if torch is not None:
        found["torch"] = {
            "version": torch.__version__,
            "cuda": torch.version.cuda,
            "cuda_available": bool(torch.cuda.is_available()),
            "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "config": _short(torch.__config__.show()),
        }
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        found["tensorflow"] = {
            "version": tf.__version__,
            "build": {k: str(v) for k, v in tf.sysconfig.get_build_info().items()},
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        }
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        found["keras"] = {"version": keras.__version__, "backend": keras.backend.backend()}
    jax = sys.modules.get("jax")
    if jax is not None:
        found["jax"] = {"version": jax.__version__}
    found["numpy"] = {"version": np.__version__}
    return found


def _not_installed(exc: ModuleNotFoundError) -> bool:
    root = (exc.name or "").split(".")[0]
    return bool(root) and root != "verify"


def handle(worker: Worker, request: dict) -> dict:
    """Dispatch one request; exceptions become error replies."""
    op = request.pop("op")
    try:
        if op.startswith("_") or not hasattr(worker, op):
            raise ValueError(f"unknown worker op {op!r}")
        return {"ok": True, "result": getattr(worker, op)(**request)}
    except NotCheckable as e:
        return {"ok": False, "kind": "not-checkable", "message": str(e), "traceback": ""}
    except ModuleNotFoundError as e:
        kind = "not-checkable" if _not_installed(e) else "error"
        msg = f"{e.name} is not installed here" if kind == "not-checkable" else str(e)
        return {"ok": False, "kind": kind, "message": msg, "traceback": traceback.format_exc()}
    except Exception as e:  # noqa: BLE001 - any benchmark failure is reported, not fatal
        message = f"{type(e).__name__}: {e}"
        return {
            "ok": False,
            "kind": "error",
            "message": message,
            "traceback": traceback.format_exc(),
        }


def _exit_with_parent() -> None:
    # A parent killed with SIGKILL cannot stop its workers; a hung worker notices it is orphaned,
    # and ends what it started first (a probe's fresh processes run in sessions of their own).
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                _kill_descendants()
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _kill_descendants() -> None:
    try:
        import psutil

        for child in psutil.Process().children(recursive=True):
            try:
                child.kill()
            except psutil.Error:
                continue
    except Exception:  # noqa: BLE001 - exiting anyway
        pass


def main() -> None:
    """Serve requests until stdin closes or an ``exit`` request arrives."""
    _exit_with_parent()
    faulthandler.enable()  # a segfault in native code leaves a Python stack on stderr
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    worker = Worker()
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("op") == "exit":
            break
        reply = handle(worker, request)
        channel.write(json.dumps(reply, default=str) + "\n")
        channel.flush()
    channel.close()
    sys.stderr.flush()
    # Skip interpreter teardown: framework exit handlers can take seconds and nothing is unsaved.
    os._exit(0)


if __name__ == "__main__":
    main()
