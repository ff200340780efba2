"""The contract between the runner and a benchmark module, as types the worker checks.

A benchmark module says what it is with ``KIND`` and provides the names of that kind:

- ``"timed"`` (latency, training, selftest): ``TIERS``, ``cells(params)`` and
  ``open_session(tier, cell, params, ctx)`` returning a ``Session``;
- ``"single"`` (memory): ``TIERS``, ``cells(params)`` and ``measure_once(tier, cell, params,
  ctx)``, one value per fresh process;
- ``"probe"`` (probes, distributed): ``PROBES`` and ``probe(name, params, ctx)``, optionally
  ``framework_of(name, params)`` when the framework depends on the parameters.

``TIERS`` and ``PROBES`` map a tier or probe id to the framework it needs ("torch-eager" ->
"torch"). The worker (verify.benchmarks.worker) asks ``kind_of`` before it calls anything.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Protocol

import numpy as np

from verify.benchmarks.context import Context

REQUIRED = {
    "timed": ("TIERS", "cells", "open_session"),
    "single": ("TIERS", "cells", "measure_once"),
    "probe": ("PROBES", "probe"),
}


class Session(Protocol):
    """One tier on one cell in one worker, ready to be timed."""

    def reference_output(self) -> np.ndarray:
        """Outputs on the fixed probe input; both sides must agree before anything is timed."""
        ...

    def warmup(self) -> dict[str, Any]:
        """Run until steady: first_call_s, compile_s, calls (and what else the tier reports)."""
        ...

    def time(self, calls: int) -> float:
        """Seconds per call over `calls` back-to-back calls, the device synchronised at the end."""
        ...

    def info(self) -> dict[str, Any]:
        """Layout, thread counts read back, versions, device name."""
        ...

    def close(self) -> None:
        """Release the model and its data."""
        ...


class TimedBenchmark(Protocol):
    """A module of KIND "timed"."""

    KIND: str
    TIERS: dict[str, str]

    def cells(self, params: dict[str, Any]) -> list[dict[str, Any]]: ...  # noqa: D102

    def open_session(  # noqa: D102
        self, tier: str, cell: dict[str, Any], params: dict[str, Any], ctx: Context
    ) -> Session: ...


def kind_of(module: ModuleType) -> str:
    """The module's KIND, after checking it defines what that kind needs (TypeError if not)."""
    kind = getattr(module, "KIND", None)
    if kind not in REQUIRED:
        raise TypeError(f"{module.__name__} has no KIND (one of {', '.join(REQUIRED)})")
    missing = [name for name in REQUIRED[kind] if not hasattr(module, name)]
    if missing:
        raise TypeError(f"{module.__name__} is a {kind} benchmark but lacks {', '.join(missing)}")
    return str(kind)
