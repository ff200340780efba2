"""A tiny timed benchmark for testing the runner itself: a numpy matrix product, no framework.

Tiers ``numpy-a`` and ``numpy-b`` do the same work, so a check between them is an A/A comparison;
``work`` makes one tier repeat the product (``{"numpy-b": 2}`` gives a true ratio near 2). ``noop``
calls an empty function, for measuring the harness's own overhead per call. ``absent`` needs a
framework that is never installed, the seam for "not checkable here".

Parameters that make a worker misbehave, for testing how the runner records failures (they apply to
``fault_tier`` only when given, at stage ``fault_stage``: "open" or "time", default "time"):
``crash`` ("segfault" or "exit"), ``hang`` (sleeps for an hour), ``allocate_mb`` (touches that much
memory in 16 MB steps), ``fail`` (raises RuntimeError with this message), ``disagree`` (the
``numpy-b`` reference output is off by one, which the fairness check must catch), ``spawn_child``
(a file name: starts a sleeping process in a session of its own, as a probe's fresh process is,
and writes its pid there, so a test can see that it does not outlive the worker).

The device seam: ``ctx.device == "cuda"`` raises NotCheckable, as a framework benchmark does on a
machine without CUDA, unless ``fake_cuda`` is set, in which case the session runs on the CPU and
counts its device synchronisations.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time
from time import perf_counter

import numpy as np

from verify.benchmarks.context import Context, NotCheckable

KIND = "timed"  # see verify.benchmarks.contract
TIERS = {"numpy-a": "numpy", "numpy-b": "numpy", "noop": "numpy", "absent": "nosuchframework"}


def cells(params: dict) -> list[dict]:
    """One cell per matrix size."""
    return [{"label": f"n{n}", "size": int(n)} for n in params.get("sizes", [32])]


def _misbehave(params: dict) -> None:
    if params.get("spawn_child"):
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True
        )
        with open(params["spawn_child"], "w", encoding="utf-8") as fh:
            fh.write(str(child.pid))
    crash = params.get("crash")
    if crash:
        if crash == "exit":
            os._exit(3)
        ctypes.string_at(0)  # a real segmentation fault, as a broken native extension gives
    if params.get("hang"):
        time.sleep(3600)
    if params.get("allocate_mb"):
        hoard = []
        for _ in range(int(params["allocate_mb"]) // 16):
            hoard.append(np.ones(2 * 2**20))  # 16 MB, written so the pages are resident
        del hoard
    if params.get("fail"):
        raise RuntimeError(str(params["fail"]))


def _noop() -> None:
    return None


class Session:
    """A square matrix product (or nothing, for ``noop``) repeated back to back."""

    def __init__(self, tier: str, cell: dict, params: dict, ctx: Context) -> None:
        if ctx.device == "cuda" and not params.get("fake_cuda"):
            raise NotCheckable("no CUDA device here (the selftest benchmark has no GPU code)")
        self.tier, self.ctx, self.syncs = tier, ctx, 0
        faulty = params.get("fault_tier") in (None, tier)
        self._faults = params if faulty else {}
        self._stage = params.get("fault_stage", "time")
        if self._stage == "open":
            _misbehave(self._faults)
        n = int(cell["size"])
        self._a = np.random.default_rng(ctx.seed).standard_normal((n, n))
        self._work = int(params.get("work", {}).get(tier, 1))
        self._disagree = bool(params.get("disagree")) and tier == "numpy-b"

    def _sync(self) -> None:
        if self.ctx.device == "cuda":
            self.syncs += 1

    def _step(self) -> np.ndarray | None:
        if self.tier == "noop":
            return _noop()
        a = self._a
        for _ in range(self._work):
            out = a @ a
        return out

    def reference_output(self) -> np.ndarray:
        """The product on the seeded matrix (shared by both numpy tiers)."""
        out = self._a @ self._a
        return out + 1.0 if self._disagree else out

    def warmup(self) -> dict:
        """Two calls are steady for numpy; the first is timed apart."""
        t0 = perf_counter()
        self._step()
        first = perf_counter() - t0
        self._step()
        return {"first_call_s": first, "compile_s": 0.0, "calls": 2}

    def time(self, calls: int) -> float:
        """Seconds per call over `calls` back-to-back calls, synchronised at both ends."""
        if self._stage == "time":
            _misbehave(self._faults)
        step = self._step
        self._sync()
        t0 = perf_counter()
        for _ in range(calls):
            step()
        self._sync()
        return (perf_counter() - t0) / calls

    def info(self) -> dict:
        """Threads as the environment sets them, device, tier, synchronisations so far."""
        return {
            "tier": self.tier,
            "device": self.ctx.device,
            "threads": int(os.environ.get("OMP_NUM_THREADS", "0")),
            "syncs": self.syncs,
            "numpy": np.__version__,
        }

    def close(self) -> None:
        """Nothing to release."""


def open_session(tier: str, cell: dict, params: dict, ctx: Context) -> Session:
    """A selftest session for one tier and cell."""
    if tier not in TIERS:
        raise ValueError(f"unknown selftest tier {tier!r}; expected one of {', '.join(TIERS)}")
    return Session(tier, cell, params, ctx)
