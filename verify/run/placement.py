"""Where and how one check runs here: its device and thread count, or why it cannot run here.

A check's own ``device`` parameter restricts where it runs (``cpu`` or ``cuda``; ``auto`` leaves
it to ``verify run --device``) and its own ``threads`` parameter overrides ``--threads``. A claim
stated for GPUs is "not checkable here: needs a CUDA GPU" on a machine without one, unless the
run is asked to judge such claims outside their scope (then it runs on the CPU and its verdict
carries scope outside). Nothing is measured and no record is written for a check that cannot run
here; the run's output says why.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kg.model import Check
from verify.run.options import RunOptions

NEEDS_CUDA = "needs a CUDA GPU"


@dataclass(frozen=True)
class Placement:
    """The options one check runs with, or (options None) why it cannot run here."""

    options: RunOptions | None
    reason: str = ""


def place(
    check: Check, options: RunOptions, requested: str, *, cuda: bool, outside_scope: bool = False
) -> Placement:
    """The device and threads of one check, from `verify run`'s --device (`requested`: cpu, cuda
    or auto), whether a CUDA GPU is visible, and whether GPU claims are judged outside scope."""
    own = check.run_device
    if own != "auto" and requested not in ("auto", own):
        return Placement(None, f"its check runs only on {own} (device parameter); use --device"
                               f" {own} or auto")  # fmt: skip
    wanted = own if own != "auto" else requested
    if wanted == "auto":
        wanted = "cuda" if cuda and check.device in ("gpu", "any") else "cpu"
    if own == "cuda" and not cuda:
        return Placement(None, NEEDS_CUDA)
    if check.device == "gpu" and wanted != "cuda" and not outside_scope:
        return Placement(None, NEEDS_CUDA)
    threads = check.parameters.get("threads")
    if isinstance(threads, int) and not isinstance(threads, bool):
        return Placement(dataclasses.replace(options, device=wanted, threads=threads))
    return Placement(dataclasses.replace(options, device=wanted))
